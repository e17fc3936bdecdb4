package io.dynamicfs.cluster.blocks;

import static io.dynamicfs.cluster.blocks.TestNodes.idOf;
import static io.dynamicfs.cluster.blocks.TestNodes.randomBlock;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * rs-K-M over real block nodes ({@link TestNodes}: BlockServers on 127.0.0.1 over SegmentStores in a temp
 * dir), each reached through its RemoteBlockStore as the node's {@link ShardStore}: shards travel as
 * PUT_SHARD / GET_SHARD frames and are verified by the node on the way in and by the client on the way out.
 */
class ErasureCodedRemoteTest {
  @TempDir Path dir;

  private static ErasureCodedNodeStore rs(NodeSet set, int k, int m) {
    return ErasureCodedNodeStore.builder(set, k, m, node -> (ShardStore) node.store()).tier(2).build();
  }

  @ParameterizedTest(name = "rs-{0}-{1} over {2} nodes")
  @CsvSource({"2,1,4", "3,2,5"})
  void put_blocksUpTo1MiB_shardIOnIthNode_readBackAfterStoppingMServers(int k, int m, int count)
      throws IOException {
    Random r = new Random(100 + k * 10 + m);
    try (TestNodes cluster = new TestNodes(dir, count);
        ErasureCodedNodeStore store = rs(cluster.set, k, m)) {
      List<byte[]> blocks = new ArrayList<>();
      List<Placement> placements = new ArrayList<>();
      for (int size : new int[] {0, 1, 2, 3, 1000, 65_537, 1 << 20}) {
        byte[] b = randomBlock(r, size);
        BlockId id = idOf(b);
        StoredBlock sb = store.put(id, b, b.length);
        List<Integer> expected = cluster.set.placementOrder(id).stream().limit(k + m).map(BlockNode::number).toList();
        assertEquals(expected, sb.placement().locations(), "size " + size);
        assertEquals(2, sb.placement().tier());
        for (int i = 0; i < k + m; i++) { // exactly one node, the i-th of the order, holds shard i
          assertEquals(List.of(expected.get(i)), cluster.holders(ShardRecord.key(id, i, k, m)), "shard " + i);
        }
        assertTrue(cluster.holders(id).isEmpty(), "the block itself is stored nowhere");
        assertArrayEquals(b, store.get(id, sb.placement()));
        assertArrayEquals(b, store.get(id));
        blocks.add(b);
        placements.add(sb.placement());
      }
      assertEquals(0, store.rebuiltReads());
      assertEquals(0, store.degradedWrites());

      for (int n = 1; n <= m; n++) {
        cluster.stop(n); // the NodeSet still lists them: calls to them fail EIO (connection refused)
      }
      for (int i = 0; i < blocks.size(); i++) {
        BlockId id = idOf(blocks.get(i));
        assertArrayEquals(blocks.get(i), store.get(id, placements.get(i)), "block " + i + " with its placement");
        assertArrayEquals(blocks.get(i), store.get(id), "block " + i + " by rendezvous");
      }
      assertTrue(store.rebuiltReads() > 0, "no read had to decode");
      for (int n = m + 1; n <= count; n++) {
        assertFalse(cluster.set.isSuspect(n), "running node " + n + " suspect");
      }
    }
  }

  @Test
  void get_nodeServesATamperedShard_clientRefusesItAndTheBlockIsRebuilt() throws IOException {
    Set<BlockId> tampered = ConcurrentHashMap.newKeySet();
    try (TestNodes cluster = new TestNodes(dir, 4, new NodeSet(), s -> tampering(s, tampered));
        ErasureCodedNodeStore store = rs(cluster.set, 2, 2)) {
      byte[] b = randomBlock(new Random(7), 200_000);
      BlockId id = idOf(b);
      Placement p = store.put(id, b, b.length).placement();
      BlockId key0 = ShardRecord.key(id, 0, 2, 2);
      tampered.add(key0); // the node's disk record is intact; what it sends is not
      ShardStore holder = (ShardStore) cluster.node(p.locations().get(0)).remote;
      FsException e = assertThrows(FsException.class, () -> holder.getShard(key0));
      assertEquals(Errno.EIO, e.errno());
      assertArrayEquals(b, store.get(id, p));
      assertEquals(1, store.rebuiltReads());
    }
  }

  @Test
  void putShard_recordUnderAnotherShardsKey_refusedByTheNodeAndNothingStored() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 3)) {
      byte[] b = randomBlock(new Random(8), 10_000);
      BlockId id = idOf(b);
      byte[] rec1 = ShardRecord.encode(id, 1, 2, 1, b.length, b, 5000, 5000);
      ShardStore node = (ShardStore) cluster.node(1).remote;
      BlockId key0 = ShardRecord.key(id, 0, 2, 1);
      FsException e = assertThrows(FsException.class, () -> node.putShard(key0, rec1));
      assertEquals(Errno.EINVAL, e.errno());
      assertTrue(cluster.holders(key0).isEmpty());
      assertEquals(0, cluster.node(1).segments.stats().blocks());
      assertFalse(cluster.set.isSuspect(1), "a refusal is an answer, not an outage");
    }
  }

  @Test
  void delete_removesEveryShardFromEveryNode() throws IOException {
    try (TestNodes cluster = new TestNodes(dir, 4);
        ErasureCodedNodeStore store = rs(cluster.set, 2, 1)) {
      byte[] b = randomBlock(new Random(9), 70_000);
      BlockId id = idOf(b);
      store.put(id, b, b.length);
      store.delete(id);
      for (TestNodes.Node n : cluster.all()) {
        assertEquals(0, n.segments.stats().blocks(), "node " + n.number);
      }
      assertEquals(Errno.EIO, assertThrows(FsException.class, () -> store.get(id)).errno());
    }
  }

  /** A node store whose reads of the listed keys come back with one bit flipped (memory, a bug). */
  private static BlockStore tampering(BlockStore store, Set<BlockId> keys) {
    return new ForwardingBlockStore(store) {
      @Override
      public byte[] get(BlockId id, boolean sequential) throws IOException {
        byte[] r = super.get(id, sequential);
        if (keys.contains(id)) {
          r[r.length / 2] ^= 1;
        }
        return r;
      }
    };
  }
}
