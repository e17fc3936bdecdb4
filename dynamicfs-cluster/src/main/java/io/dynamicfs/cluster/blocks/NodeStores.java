package io.dynamicfs.cluster.blocks;

import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.storage.Redundancy;

/**
 * The block store a cluster's redundancy stands for, over its nodes: {@code replicate-R} keeps R whole
 * copies ({@link ReplicatedNodeStore}), {@code rs-K-M} K data and M parity shards on K+M distinct nodes
 * ({@link ErasureCodedNodeStore}, each node reached as the {@link ShardStore} its remote store is). A mount
 * writes and reads through it; the leader deletes reclaimed blocks through the same store, so both agree
 * on where a block's bytes live.
 */
public final class NodeStores {
  private NodeStores() {}

  /** A store over {@code nodes} for {@code redundancy}; its placements name tier 0. */
  public static BlockStore open(Redundancy redundancy, NodeSet nodes) {
    if (redundancy instanceof Redundancy.ReedSolomon rs) {
      return ErasureCodedNodeStore.builder(nodes, rs.data(), rs.parity(), n -> (ShardStore) n.store()).build();
    }
    return ReplicatedNodeStore.builder(nodes, ((Redundancy.Replicate) redundancy).copies()).build();
  }

  /** Stored bytes per byte of data: R for replicate-R, (K+M)/K for rs-K-M. */
  public static double overhead(Redundancy redundancy) {
    if (redundancy instanceof Redundancy.ReedSolomon rs) {
      return (rs.data() + rs.parity()) / (double) rs.data();
    }
    return ((Redundancy.Replicate) redundancy).copies();
  }
}
