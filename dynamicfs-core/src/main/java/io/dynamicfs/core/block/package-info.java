/**
 * Content-addressed, immutable block storage: the {@link io.dynamicfs.core.block.BlockStore} interface and
 * the append-only segment store that keeps checksummed, compressed records on one device.
 */
package io.dynamicfs.core.block;
