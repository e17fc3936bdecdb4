/**
 * The block transport of the cluster: every node runs a {@link io.dynamicfs.cluster.transport.BlockServer}
 * over its local block store, and mounts reach it through a
 * {@link io.dynamicfs.cluster.transport.RemoteBlockStore}, which also carries erasure-coded shard records
 * (PUT_SHARD / GET_SHARD, verified with {@link io.dynamicfs.cluster.blocks.ShardRecord#parse} on both sides).
 * Blocks never go through Raft; frames are length-prefixed, CRC32C-checked and bounded
 * (docs/cluster-transport.md).
 */
package io.dynamicfs.cluster.transport;
