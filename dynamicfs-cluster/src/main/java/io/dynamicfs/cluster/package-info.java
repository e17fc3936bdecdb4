/**
 * The cluster (Raft metadata replication over the same operation records, block transport, membership).
 * Not built yet: the module exists so the build already has the shape DESIGN.md describes.
 */
package io.dynamicfs.cluster;
