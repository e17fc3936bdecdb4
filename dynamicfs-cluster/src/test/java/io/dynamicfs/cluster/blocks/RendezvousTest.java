package io.dynamicfs.cluster.blocks;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.block.BlockId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Rendezvous order: deterministic, even, and stable under one join or one leave. */
class RendezvousTest {
  private static final int BLOCKS = 20_000;

  private static List<BlockId> ids(long seed, int n) {
    Random r = new Random(seed);
    List<BlockId> out = new ArrayList<>(n);
    byte[] b = new byte[16];
    for (int i = 0; i < n; i++) {
      r.nextBytes(b);
      out.add(BlockId.hash(b, 0, b.length));
    }
    return out;
  }

  private static int[] nodes(int count) {
    return IntStream.rangeClosed(1, count).map(i -> i * 7 + 3).toArray();
  }

  private static List<Integer> top(BlockId id, int[] nodes, int r) {
    return Arrays.stream(Rendezvous.order(id, nodes)).limit(r).boxed().toList();
  }

  @Test
  void order_sameInputs_samePermutationWhateverTheInputOrder() {
    BlockId id = ids(1, 1).get(0);
    int[] a = {5, 1, 9, 3, 7};
    int[] b = {9, 7, 5, 3, 1};
    int[] oa = Rendezvous.order(id, a);
    assertArrayEquals(oa, Rendezvous.order(id, b));
    int[] sorted = oa.clone();
    Arrays.sort(sorted);
    assertArrayEquals(new int[] {1, 3, 5, 7, 9}, sorted);
    assertEquals(Rendezvous.score(id, 5), Rendezvous.score(id, 5));
  }

  @Test
  void order_knownVector_neverChangesWithoutAVersion() {
    // The order is part of the cluster's format: every client must agree. Pin one answer.
    BlockId id = BlockId.hash(new byte[0], 0, 0);
    assertArrayEquals(new int[] {1, 4, 2, 3, 5}, Rendezvous.order(id, new int[] {1, 2, 3, 4, 5}));
    assertEquals(0xdceb07c2a9a38d79L, Rendezvous.score(id, 1));
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 4, 5, 6, 7, 8})
  void order_manyBlocks_spreadEvenlyOverNodes(int count) {
    int[] nodes = nodes(count);
    for (int r = 1; r <= Math.min(3, count); r++) {
      int[] hits = new int[count];
      for (BlockId id : ids(count * 31L + r, BLOCKS)) {
        for (int n : top(id, nodes, r)) {
          hits[Arrays.binarySearch(nodes, n)]++;
        }
      }
      double expected = (double) BLOCKS * r / count;
      for (int i = 0; i < count; i++) {
        assertTrue(Math.abs(hits[i] - expected) < 0.06 * expected,
            "replicate-" + r + " over " + count + " nodes: node " + nodes[i] + " got " + hits[i] + ", expected ~"
                + (long) expected + " " + Arrays.toString(hits));
      }
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {3, 4, 5, 7})
  void order_oneNodeJoins_onlyBlocksItWinsMove(int count) {
    int[] before = nodes(count);
    int newcomer = 1000;
    int[] after = Arrays.copyOf(before, count + 1);
    after[count] = newcomer;
    int r = Math.min(3, count);
    int moved = 0;
    for (BlockId id : ids(count, BLOCKS)) {
      List<Integer> old = top(id, before, r);
      List<Integer> now = top(id, after, r);
      if (!now.contains(newcomer)) {
        assertEquals(old, now, "a block the newcomer did not win changed its nodes");
        continue;
      }
      moved++;
      List<Integer> kept = new ArrayList<>(now);
      kept.remove(Integer.valueOf(newcomer));
      assertEquals(old.subList(0, r - 1), kept, "the newcomer displaced more than the last of the old top " + r);
      // the remaining order of the old nodes is untouched
      int[] full = Rendezvous.order(id, after);
      int[] withoutNew = Arrays.stream(full).filter(n -> n != newcomer).toArray();
      assertArrayEquals(Rendezvous.order(id, before), withoutNew);
    }
    double expected = (double) BLOCKS * r / (count + 1);
    assertTrue(Math.abs(moved - expected) < 0.06 * expected, "moved " + moved + ", expected ~" + (long) expected);
  }

  @ParameterizedTest
  @ValueSource(ints = {4, 5, 8})
  void order_oneNodeLeaves_onlyBlocksItHeldMove(int count) {
    int[] before = nodes(count);
    int gone = before[1];
    int[] after = Arrays.stream(before).filter(n -> n != gone).toArray();
    int r = 3;
    int moved = 0;
    for (BlockId id : ids(100 + count, BLOCKS)) {
      List<Integer> old = top(id, before, r);
      List<Integer> now = top(id, after, r);
      if (!old.contains(gone)) {
        assertEquals(old, now, "a block the leaver did not hold changed its nodes");
        continue;
      }
      moved++;
      List<Integer> survivors = new ArrayList<>(old);
      survivors.remove(Integer.valueOf(gone));
      assertEquals(survivors, now.subList(0, r - 1), "the survivors of the top " + r + " must keep their order");
    }
    double expected = (double) BLOCKS * r / count;
    assertTrue(Math.abs(moved - expected) < 0.06 * expected, "moved " + moved + ", expected ~" + (long) expected);
  }
}
