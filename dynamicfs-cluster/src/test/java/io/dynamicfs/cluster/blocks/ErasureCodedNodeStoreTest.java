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
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * rs-K-M over in-process nodes: real SegmentStores reached through {@link ShardStore#over}, because today's
 * block transport refuses a shard's derived key (docs/cluster-blocks.md gives the transport change).
 */
class ErasureCodedNodeStoreTest {
  @TempDir Path dir;
  private final List<SegmentStore> segments = new ArrayList<>();
  private final List<Switch> switches = new ArrayList<>();

  /** A node that can be taken down: every call then fails EIO, as an unreachable node does. */
  static final class Switch extends ForwardingBlockStore {
    volatile boolean down;

    Switch(BlockStore d) {
      super(d);
    }

    private void check() throws FsException {
      if (down) {
        throw new FsException(Errno.EIO, "node down (test)");
      }
    }

    @Override
    public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
      check();
      return super.put(id, data, length);
    }

    @Override
    public byte[] get(BlockId id, boolean sequential) throws IOException {
      check();
      byte[] b = super.get(id, sequential);
      return b;
    }

    @Override
    public void delete(BlockId id) throws IOException {
      check();
      super.delete(id);
    }
  }

  private NodeSet nodes(int count) throws IOException {
    List<BlockNode> list = new ArrayList<>();
    for (int i = 1; i <= count; i++) {
      SegmentStore s = SegmentStore.open(dir.resolve("node-" + i), Codec.LZ4, 16 << 20);
      segments.add(s);
      Switch sw = new Switch(s);
      switches.add(sw);
      list.add(new BlockNode(i, InetSocketAddress.createUnresolved("node" + i, 7000), sw));
    }
    NodeSet set = new NodeSet();
    set.setNodes(list);
    return set;
  }

  @AfterEach
  void closeStores() throws IOException {
    for (SegmentStore s : segments) {
      s.close();
    }
  }

  private static ErasureCodedNodeStore rs(NodeSet set, int k, int m) {
    return ErasureCodedNodeStore.builder(set, k, m, n -> ShardStore.over(n.store())).tier(1).build();
  }

  @ParameterizedTest(name = "rs-{0}-{1}")
  @CsvSource({"2,1", "3,2"})
  void put_randomBlocks_shardIOnIthNode_readBackAfterLosingMNodes(int k, int m) throws IOException {
    NodeSet set = nodes(5);
    Random r = new Random(k * 10 + m);
    try (ErasureCodedNodeStore store = rs(set, k, m)) {
      List<byte[]> blocks = new ArrayList<>();
      List<Placement> placements = new ArrayList<>();
      for (int size : new int[] {0, 1, 2, 3, 1000, 65_537, 1 << 20}) {
        byte[] b = randomBlock(r, size);
        BlockId id = idOf(b);
        StoredBlock sb = store.put(id, b, b.length);
        List<Integer> expected = set.placementOrder(id).stream().limit(k + m).map(BlockNode::number).toList();
        assertEquals(expected, sb.placement().locations());
        for (int i = 0; i < k + m; i++) {
          assertTrue(segments.get(expected.get(i) - 1).contains(ShardRecord.key(id, i, k, m)), "shard " + i);
        }
        assertArrayEquals(b, store.get(id));
        blocks.add(b);
        placements.add(sb.placement());
      }
      assertEquals(0, store.rebuiltReads());
      for (int down = 1; down <= m; down++) {
        switches.get(down - 1).down = true;
      }
      for (int i = 0; i < blocks.size(); i++) {
        assertArrayEquals(blocks.get(i), store.get(idOf(blocks.get(i)), placements.get(i)));
        assertArrayEquals(blocks.get(i), store.get(idOf(blocks.get(i))));
      }
      assertTrue(store.rebuiltReads() > 0);
    }
  }

  @Test
  void get_corruptShard_isRebuiltFromTheOthers() throws IOException {
    NodeSet set = nodes(4);
    try (ErasureCodedNodeStore store = rs(set, 2, 2)) {
      byte[] b = randomBlock(new Random(1), 50_000);
      BlockId id = idOf(b);
      Placement p = store.put(id, b, b.length).placement();
      BlockId key0 = ShardRecord.key(id, 0, 2, 2);
      SegmentStore holder = segments.get(p.locations().get(0) - 1);
      byte[] bad = holder.get(key0);
      bad[ShardRecord.HEADER + 7] ^= 1;
      holder.delete(key0);
      holder.put(key0, bad, bad.length);
      assertArrayEquals(b, store.get(id, p));
      assertEquals(1, store.rebuiltReads());
    }
  }

  @Test
  void put_onlyKNodesUp_failsEio_defaultNeedsKPlusOne() throws IOException {
    NodeSet set = nodes(4);
    try (ErasureCodedNodeStore store = rs(set, 2, 2)) {
      assertEquals(3, store.minShards());
      switches.get(0).down = true;
      byte[] b = randomBlock(new Random(2), 10_000);
      StoredBlock sb = store.put(idOf(b), b, b.length);
      assertTrue(sb.placement().locations().contains(ErasureCodedNodeStore.NO_NODE), "degraded: " + sb.placement());
      assertFalse(sb.placement().locations().contains(1));
      assertEquals(1, store.degradedWrites());
      assertArrayEquals(b, store.get(idOf(b), sb.placement()));
      switches.get(1).down = true;
      byte[] c = randomBlock(new Random(3), 10_000);
      FsException e = assertThrows(FsException.class, () -> store.put(idOf(c), c, c.length));
      assertEquals(Errno.EIO, e.errno());
    }
  }

  @Test
  void get_neverWritten_failsEio_statNull() throws IOException {
    NodeSet set = nodes(3);
    try (ErasureCodedNodeStore store = rs(set, 2, 1)) {
      BlockId id = idOf(new byte[] {9});
      assertEquals(Errno.EIO, assertThrows(FsException.class, () -> store.get(id)).errno());
      assertNull(store.stat(id));
    }
  }

  @Test
  void delete_removesEveryShard() throws IOException {
    NodeSet set = nodes(3);
    try (ErasureCodedNodeStore store = rs(set, 2, 1)) {
      byte[] b = randomBlock(new Random(4), 4000);
      BlockId id = idOf(b);
      store.put(id, b, b.length);
      store.delete(id);
      for (SegmentStore s : segments) {
        assertEquals(0, s.stats().blocks());
      }
    }
  }

  @Test
  void shardRecord_wrongKeyOrFlippedByte_failsEio() throws IOException {
    byte[] b = randomBlock(new Random(5), 300);
    BlockId id = idOf(b);
    byte[] rec = ShardRecord.encode(id, 1, 2, 1, b.length, b, 150, 150);
    BlockId key = ShardRecord.key(id, 1, 2, 1);
    ShardRecord s = ShardRecord.parse(key, rec);
    assertEquals(1, s.index());
    assertEquals(300, s.blockLength());
    assertEquals(Errno.EIO, assertThrows(FsException.class,
        () -> ShardRecord.parse(ShardRecord.key(id, 0, 2, 1), rec)).errno());
    rec[ShardRecord.HEADER] ^= 0x40;
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> ShardRecord.parse(key, rec)).errno());
    assertEquals(Errno.EIO, assertThrows(FsException.class,
        () -> ShardRecord.parse(key, new byte[10])).errno());
  }
}
