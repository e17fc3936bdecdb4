package io.dynamicfs.cluster.blocks;

import static io.dynamicfs.cluster.blocks.TestNodes.idOf;
import static io.dynamicfs.cluster.blocks.TestNodes.randomBlock;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.ForwardingBlockStore;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.block.StoredBlock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** replicate-R over real block servers on 127.0.0.1, each over a real SegmentStore. */
class ReplicatedNodeStoreTest {
  @TempDir Path dir;

  /** Sizes 1 B to 1 MiB, both ends included, log-uniform in between. */
  private static int[] sizes(Random r, int count) {
    int[] s = new int[count];
    s[0] = 1;
    s[1] = 1 << 20;
    for (int i = 2; i < count; i++) {
      s[i] = (int) Math.min(1 << 20, Math.round(Math.pow(2, r.nextDouble() * 20)));
    }
    return s;
  }

  private static List<Integer> numbers(List<BlockNode> nodes, int limit) {
    return nodes.stream().limit(limit).map(BlockNode::number).toList();
  }

  private static List<Integer> sorted(List<Integer> l) {
    List<Integer> c = new ArrayList<>(l);
    c.sort(null);
    return c;
  }

  @ParameterizedTest(name = "replicate-{0}")
  @ValueSource(ints = {2, 3})
  void put_randomBlocks_onExactlyRNodesNamedByPlacement_andReadBack(int copies) throws IOException {
    Random r = new Random(copies);
    try (TestNodes cluster = new TestNodes(dir, 4);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, copies).tier(3).build()) {
      List<BlockId> ids = new ArrayList<>();
      List<byte[]> blocks = new ArrayList<>();
      for (int size : sizes(r, 14)) {
        byte[] b = randomBlock(r, size);
        BlockId id = idOf(b);
        StoredBlock sb = store.put(id, b, b.length);
        assertEquals(id, sb.id());
        assertEquals(b.length, sb.rawLength());
        assertEquals(3, sb.placement().tier());
        assertEquals(numbers(cluster.set.placementOrder(id), copies), sb.placement().locations(),
            "all nodes healthy: the top " + copies + " in rendezvous order");
        assertEquals(sorted(sb.placement().locations()), cluster.holders(id), "copies sit where the placement says");
        ids.add(id);
        blocks.add(b);
      }
      for (int i = 0; i < ids.size(); i++) {
        assertArrayEquals(blocks.get(i), store.get(ids.get(i)));
        assertArrayEquals(blocks.get(i), store.getSequential(ids.get(i)));
        assertTrue(store.contains(ids.get(i)));
      }
      Set<BlockId> listed = new HashSet<>();
      store.forEachId(id -> assertTrue(listed.add(id), "listed twice: " + id));
      assertEquals(new HashSet<>(ids), listed);
      long raw = blocks.stream().mapToLong(b -> b.length).sum();
      assertEquals(copies * (long) ids.size(), store.stats().blocks(), "every copy counts");
      assertEquals(copies * raw, store.stats().rawBytes());
      assertEquals(0, store.degradedWrites());
    }
  }

  @Test
  void put_sameBlockTwice_isIdempotentAndPlacedTheSame() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 3);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 2).build()) {
      byte[] b = randomBlock(new Random(2), 5000);
      BlockId id = idOf(b);
      assertEquals(store.put(id, b, b.length).placement(), store.put(id, b, b.length).placement());
      assertEquals(2, cluster.holders(id).size());
    }
  }

  @Test
  void put_nodeDown_goesToNextNodeInRendezvousOrder_andNodeTurnsSuspect() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 4);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 2).build()) {
      byte[] b = randomBlock(new Random(3), 70_000);
      BlockId id = idOf(b);
      List<Integer> order = numbers(cluster.set.placementOrder(id), 4);
      cluster.stop(order.get(0));
      StoredBlock sb = store.put(id, b, b.length);
      assertEquals(List.of(order.get(1), order.get(2)), sb.placement().locations());
      assertEquals(sorted(sb.placement().locations()), cluster.holders(id));
      assertEquals(0, store.degradedWrites(), "R copies were still made");
      assertTrue(cluster.set.isSuspect(order.get(0)));
      assertEquals(order.get(0), numbers(cluster.set.writeOrder(id), 4).get(3), "the suspect is tried last");
      assertArrayEquals(b, store.get(id));
    }
  }

  @Test
  void get_holderDown_readsFromTheOtherCopy() throws IOException {
    Random r = new Random(4);
    try (TestNodes cluster = new TestNodes(dir, 3);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 2).build()) {
      List<byte[]> blocks = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        byte[] b = randomBlock(r, 1 + r.nextInt(100_000));
        store.put(idOf(b), b, b.length);
        blocks.add(b);
      }
      cluster.stop(2);
      for (byte[] b : blocks) {
        assertArrayEquals(b, store.get(idOf(b)));
        assertTrue(store.contains(idOf(b)));
        // a range comes from the other copy too, only the bytes asked for
        int off = r.nextInt(b.length);
        int len = 1 + r.nextInt(8192);
        byte[] dst = new byte[len];
        int got = store.readRange(idOf(b), off, dst, 0, len);
        assertEquals(Math.min(len, b.length - off), got);
        assertArrayEquals(Arrays.copyOfRange(b, off, off + got), Arrays.copyOf(dst, got));
      }
    }
  }

  @Test
  void readRange_aDamagedFrameOnTheFirstNode_isRefusedThere_andServedByTheOtherCopy() throws IOException {
    Random r = new Random(8);
    try (TestNodes cluster = new TestNodes(dir, 3);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 2).build()) {
      byte[] b = randomBlock(r, 300_000);
      BlockId id = idOf(b);
      store.put(id, b, b.length);
      int first = cluster.set.readOrder(id, null).get(0).number();
      assertTrue(cluster.holders(id).contains(first));
      // a byte at 150,005 of the first node's copy (frame 2 of the record) goes bad
      io.dynamicfs.cluster.transport.StoredCopies.damage(cluster.node(first).dir, b);
      byte[] own = new byte[100];
      assertThrows(FsException.class, () -> cluster.node(first).segments.readRange(id, 150_000, own, 0, 100),
          "the first node refuses the range of its damaged frame");
      byte[] dst = new byte[100];
      assertEquals(100, store.readRange(id, 150_000, dst, 0, 100));
      assertArrayEquals(Arrays.copyOfRange(b, 150_000, 150_100), dst, "the right bytes, from the other copy");
    }
  }

  @Test
  void put_fewerNodesThanMinCopies_failsEioNamingNodes_andLeavesNoPlacement() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 3);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 3).minCopies(3).build()) {
      cluster.stop(2);
      byte[] b = randomBlock(new Random(5), 10_000);
      FsException e = assertThrows(FsException.class, () -> store.put(idOf(b), b, b.length));
      assertEquals(Errno.EIO, e.errno());
      assertTrue(e.getMessage().contains(idOf(b).toString()) && e.getMessage().contains("2 EIO"), e.getMessage());
      assertEquals(1, store.failedWrites());
    }
  }

  @Test
  void put_defaultMinCopies_degradedWithTwoOfThree_failsWithOne() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 3);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 3).build()) {
      assertEquals(2, store.minCopies());
      cluster.stop(1);
      byte[] b = randomBlock(new Random(6), 10_000);
      StoredBlock sb = store.put(idOf(b), b, b.length);
      assertEquals(List.of(2, 3), sorted(sb.placement().locations()));
      assertEquals(1, store.degradedWrites());
      cluster.stop(3);
      byte[] c = randomBlock(new Random(7), 10_000);
      assertEquals(Errno.EIO, assertThrows(FsException.class, () -> store.put(idOf(c), c, c.length)).errno());
    }
  }

  @Test
  void put_minCopiesOne_singleSurvivor_degradedButStored() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 3);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 2).minCopies(1).build()) {
      cluster.stop(1);
      cluster.stop(2);
      byte[] b = randomBlock(new Random(8), 1000);
      assertEquals(List.of(3), store.put(idOf(b), b, b.length).placement().locations());
      assertEquals(1, store.degradedWrites());
      assertArrayEquals(b, store.get(idOf(b)));
    }
  }

  /** A node whose disk is full: every put answers ENOSPC. */
  static final class FullStore extends ForwardingBlockStore {
    FullStore(BlockStore d) {
      super(d);
    }

    @Override
    public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
      throw new FsException(Errno.ENOSPC, "test disk full");
    }
  }

  @Test
  void put_everyNodeFull_failsEnospc_andNoNodeTurnsSuspect() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 3, new NodeSet(), FullStore::new);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 2).build()) {
      byte[] b = randomBlock(new Random(9), 1000);
      FsException e = assertThrows(FsException.class, () -> store.put(idOf(b), b, b.length));
      assertEquals(Errno.ENOSPC, e.errno(), e.getMessage());
      for (int n = 1; n <= 3; n++) {
        assertFalse(cluster.set.isSuspect(n), "a node that answers is not suspect");
      }
    }
  }

  @Test
  void get_holderRestartedEmpty_fallsBackToTheOtherCopy_withAndWithoutHint() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 3);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 2).build()) {
      byte[] b = randomBlock(new Random(10), 200_000);
      BlockId id = idOf(b);
      Placement p = store.put(id, b, b.length).placement();
      cluster.restartEmpty(p.locations().get(0));
      assertArrayEquals(b, store.get(id));
      assertArrayEquals(b, store.get(id, p));
      assertFalse(cluster.set.isSuspect(p.locations().get(0)), "ENOENT is an answer, not a dead node");
      assertEquals(p.locations().get(1), store.stat(id).placement().locations().get(0));
    }
  }

  @Test
  void get_hint_isTriedBeforeRendezvousOrder() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 4);
        ReplicatedNodeStore r1 = ReplicatedNodeStore.builder(cluster.set, 1).minCopies(1).build()) {
      // a copy only on the node rendezvous ranks last (as if placed before membership changed)
      byte[] b = randomBlock(new Random(11), 3000);
      BlockId id = idOf(b);
      BlockNode last = cluster.set.placementOrder(id).get(3);
      last.store().put(id, b, b.length);
      Placement hint = new Placement(0, List.of(last.number()));
      assertArrayEquals(b, r1.get(id, hint));
      assertEquals(last.number(), r1.stat(id, hint).placement().locations().get(0));
      assertArrayEquals(b, r1.get(id), "without the hint it is still found, after the others say ENOENT");
    }
  }

  @Test
  void get_noNodeHoldsIt_failsEioNamingBlockAndNodes() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 3);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 2).build()) {
      BlockId id = idOf(new byte[] {1, 2, 3});
      FsException e = assertThrows(FsException.class, () -> store.get(id));
      assertEquals(Errno.EIO, e.errno());
      assertTrue(e.getMessage().contains(id.toString()) && e.getMessage().contains("ENOENT"), e.getMessage());
      assertNull(store.stat(id));
      assertFalse(store.contains(id));
    }
  }

  @Test
  void delete_removesEveryCopy_evenOffThePlacement() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 4);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 2).build()) {
      byte[] b = randomBlock(new Random(12), 3000);
      BlockId id = idOf(b);
      store.put(id, b, b.length);
      cluster.set.placementOrder(id).get(3).store().put(id, b, b.length);
      assertEquals(3, cluster.holders(id).size());
      store.delete(id);
      assertEquals(List.of(), cluster.holders(id));
      store.delete(id);
    }
  }

  @Test
  void delete_nodeDown_deletesTheRestThenReportsIt() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 3);
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 3).build()) {
      byte[] b = randomBlock(new Random(13), 3000);
      BlockId id = idOf(b);
      store.put(id, b, b.length);
      cluster.stop(2);
      FsException e = assertThrows(FsException.class, () -> store.delete(id));
      assertEquals(Errno.EIO, e.errno());
      assertTrue(e.getMessage().contains("1 of 3"), e.getMessage());
      assertEquals(List.of(2), cluster.holders(id), "the reachable copies are gone");
    }
  }

  /** Every put waits, in the node's store, until the other nodes' puts have started too. */
  static final class RendezvousStore extends ForwardingBlockStore {
    private final CyclicBarrier allStarted;

    RendezvousStore(BlockStore d, CyclicBarrier allStarted) {
      super(d);
      this.allStarted = allStarted;
    }

    @Override
    public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
      try {
        allStarted.await(2, TimeUnit.SECONDS);
      } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
        throw new FsException(Errno.EIO, "the other copies were not being written at the same time: " + e);
      }
      return super.put(id, data, length);
    }
  }

  @Test
  void put_threeCopies_writtenAtTheSameTime() throws IOException {
    // Each node's store holds its put until all three puts are inside a store: sequential puts would break
    // the barrier (EIO, then a failed write), parallel ones pass. No wall-clock threshold involved.
    CyclicBarrier barrier = new CyclicBarrier(3);
    try (TestNodes cluster = new TestNodes(dir, 3, new NodeSet(), s -> new RendezvousStore(s, barrier));
        ReplicatedNodeStore store = ReplicatedNodeStore.builder(cluster.set, 3).minCopies(3).build()) {
      for (int i = 0; i < 3; i++) {
        byte[] b = randomBlock(new Random(14 + i), 300_000);
        assertEquals(3, store.put(idOf(b), b, b.length).placement().locations().size());
      }
      assertEquals(0, store.degradedWrites());
    }
  }

  @Test
  void nodeSet_suspicion_expiresAfterItsTime_andSuccessClearsIt() {
    AtomicLong now = new AtomicLong();
    NodeSet set = new NodeSet(Duration.ofSeconds(5), now::get);
    BlockNode n = new BlockNode(7, new java.net.InetSocketAddress("127.0.0.1", 1), new FullStore(null));
    set.setNodes(List.of(n));
    set.failed(n, new FsException(Errno.ENOENT, "not here"));
    assertFalse(set.isSuspect(7), "an errno answer is not a dead node");
    set.failed(n, new FsException(Errno.EIO, "timeout"));
    assertTrue(set.isSuspect(7));
    now.addAndGet(TimeUnit.SECONDS.toNanos(5) - 1);
    assertTrue(set.isSuspect(7));
    now.addAndGet(1);
    assertFalse(set.isSuspect(7));
    set.failed(n, new FsException(Errno.EIO, "timeout"));
    set.succeeded(n);
    assertFalse(set.isSuspect(7));
  }

  @Test
  void nodeSet_readOnlyMembers_neverPlacedOn_butReadLastAndListed() {
    Random r = new Random(21);
    for (int round = 0; round < 200; round++) {
      int count = 2 + r.nextInt(7);
      List<BlockNode> writable = new java.util.ArrayList<>();
      List<BlockNode> readOnly = new java.util.ArrayList<>();
      for (int i = 0; i < count; i++) {
        BlockNode n = new BlockNode(i, new java.net.InetSocketAddress("127.0.0.1", 1 + i), new FullStore(null));
        (r.nextInt(3) == 0 ? readOnly : writable).add(n);
      }
      NodeSet set = new NodeSet();
      set.setNodes(writable, readOnly);
      byte[] b = new byte[8];
      r.nextBytes(b);
      BlockId id = idOf(b);
      int[] nums = writable.stream().mapToInt(BlockNode::number).sorted().toArray();
      List<Integer> expected = new java.util.ArrayList<>();
      for (int n : Rendezvous.order(id, nums)) {
        expected.add(n);
      }
      assertEquals(expected, set.placementOrder(id).stream().map(BlockNode::number).toList());
      assertEquals(expected, set.writeOrder(id).stream().map(BlockNode::number).toList());
      List<Integer> read = set.readOrder(id, null).stream().map(BlockNode::number).toList();
      assertEquals(count, read.size());
      assertEquals(expected, read.subList(0, expected.size()), "writable nodes first");
      for (BlockNode n : readOnly) {
        assertTrue(set.isReadOnly(n.number()));
        assertTrue(read.contains(n.number()));
        // a hint naming a read-only node puts it first
        assertEquals(n.number(), set.readOrder(id, new Placement(0, List.of(n.number()))).get(0).number());
      }
      assertEquals(count, set.nodes().size());
      assertEquals(count, set.size());
    }
  }

  @Test
  void nodeSet_duplicateNumbers_rejected() {
    NodeSet set = new NodeSet();
    BlockNode a = new BlockNode(1, new java.net.InetSocketAddress("127.0.0.1", 1), new FullStore(null));
    BlockNode b = new BlockNode(1, new java.net.InetSocketAddress("127.0.0.1", 2), new FullStore(null));
    assertThrows(IllegalArgumentException.class, () -> set.setNodes(List.of(a, b)));
  }

  @Test
  void builder_minCopiesOutsideOneToCopies_rejectedNamingOption() {
    NodeSet set = new NodeSet();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ReplicatedNodeStore.builder(set, 2).minCopies(3));
    assertTrue(e.getMessage().contains("minCopies"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ReplicatedNodeStore.builder(set, 0));
  }
}
