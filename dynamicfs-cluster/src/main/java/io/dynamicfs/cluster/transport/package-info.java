/**
 * The block transport of the cluster: every node runs a {@link io.dynamicfs.cluster.transport.BlockServer}
 * over its local block store, and mounts reach it through a
 * {@link io.dynamicfs.cluster.transport.RemoteBlockStore}. Blocks never go through Raft; frames are
 * length-prefixed, CRC32C-checked and bounded (docs/cluster-transport.md).
 */
package io.dynamicfs.cluster.transport;
