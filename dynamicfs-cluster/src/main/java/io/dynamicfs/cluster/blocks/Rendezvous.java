package io.dynamicfs.cluster.blocks;

import io.dynamicfs.core.block.BlockId;
import java.util.Arrays;

/**
 * Rendezvous (highest-random-weight) hashing: for a block, every node gets a score from (block id, node
 * number), and the block's placement order is the nodes by descending score. A block's top R nodes change
 * only when one of them leaves or a newcomer outscores one of them, so a join or a leave moves about R/N of
 * the blocks and no more (Thaler and Ravishankar, 1998). No state and no ring: the same numbers give the same
 * order on every client.
 *
 * <p>The block id is already SHA-256 (uniform), so its first two 64-bit words are mixed with the node number
 * through MurmurHash3's 64-bit finaliser (a bijection with full avalanche); that is enough for scores that
 * behave as independent draws per node, at a few nanoseconds each. The function is part of the cluster's
 * format: every client must compute the same order, so it never changes without a version.
 */
public final class Rendezvous {
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  private Rendezvous() {}

  /** The score of {@code node} for {@code id}: higher places first. */
  public static long score(BlockId id, int node) {
    byte[] b = id.toBytes();
    return score(word(b, 0), word(b, 8), node);
  }

  /**
   * {@code nodes} (distinct numbers, any order) sorted by descending score for {@code id}, ties (which need
   * a 64-bit collision) broken by the lower node number. Returns a new array.
   */
  public static int[] order(BlockId id, int[] nodes) {
    byte[] b = id.toBytes();
    long w0 = word(b, 0);
    long w1 = word(b, 8);
    long[] scores = new long[nodes.length];
    Integer[] idx = new Integer[nodes.length];
    for (int i = 0; i < nodes.length; i++) {
      scores[i] = score(w0, w1, nodes[i]);
      idx[i] = i;
    }
    Arrays.sort(idx, (x, y) -> {
      int c = Long.compareUnsigned(scores[y], scores[x]);
      return c != 0 ? c : Integer.compare(nodes[x], nodes[y]);
    });
    int[] out = new int[nodes.length];
    for (int i = 0; i < nodes.length; i++) {
      out[i] = nodes[idx[i]];
    }
    return out;
  }

  private static long score(long w0, long w1, int node) {
    return fmix64(w0 ^ fmix64(w1 + (node + 1L) * GOLDEN));
  }

  private static long word(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = v << 8 | (b[off + i] & 0xff);
    }
    return v;
  }

  /** MurmurHash3's 64-bit finaliser. */
  static long fmix64(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}
