/**
 * Client-side block placement over the cluster's block nodes: rendezvous hashing over the live nodes
 * ({@link io.dynamicfs.cluster.blocks.Rendezvous}), the live set with a health view
 * ({@link io.dynamicfs.cluster.blocks.NodeSet}), and the stores a mount or a node's repair task writes
 * through: {@link io.dynamicfs.cluster.blocks.ReplicatedNodeStore} ({@code replicate-R}) and
 * {@link io.dynamicfs.cluster.blocks.ErasureCodedNodeStore} ({@code rs-K-M}, over a shard interface that the
 * transport's {@code RemoteBlockStore} implements). See docs/cluster-blocks.md.
 */
package io.dynamicfs.cluster.blocks;
