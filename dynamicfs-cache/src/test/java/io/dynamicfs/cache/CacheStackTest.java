package io.dynamicfs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.codec.Codec;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole chain L1 → L2 → L3 → store, with L3 a second real segment store (a "peer") in this process.
 */
class CacheStackTest {
  private static final int BLOCK = 64 << 10;

  @TempDir
  Path tmp;
  TestStores local;
  SegmentStore peer;
  SimpleMeterRegistry registry;
  final Random random = new Random(7);

  @BeforeEach
  void setUp() throws IOException {
    local = new TestStores(tmp.resolve("local"));
    peer = SegmentStore.open(tmp.resolve("peer"), Codec.LZ4, 64L << 20);
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void tearDown() throws IOException {
    peer.close();
    local.close();
  }

  private BlockStore stack(long memory) {
    CacheStack.Builder b = CacheStack.builder(registry)
        .disk(tmp.resolve("l2"), 8L << 20, Admission.ALWAYS)
        .remote(new BlockStoreSource(peer, "peer"));
    return b.memory(memory).build().apply(local.counting());
  }

  private double count(String name, String level) {
    return registry.get(name).tag("level", level).counter().count();
  }

  /** A block both stores hold (the peer has a replica). */
  private BlockId replicated() throws IOException {
    BlockId id = local.putRandom(BLOCK, random);
    peer.put(id, local.expected(id), BLOCK);
    return id;
  }

  @Test
  void read_fallsThroughToL3_thenPromotedIntoL2AndL1() throws IOException {
    BlockId id = replicated();
    try (BlockStore s = stack(4L << 20)) {
      assertArrayEquals(local.expected(id), s.get(id));
      assertEquals(0, local.reads(), "the peer answered; the local store was not read");
      assertEquals(1, count("dfs.cache.hits", "l3"));
      assertEquals(1, count("dfs.cache.misses", "l2"));
      assertEquals(1, count("dfs.cache.misses", "l1"));
      assertArrayEquals(local.expected(id), s.get(id));
      assertEquals(1, count("dfs.cache.hits", "l1"));
      assertEquals(1, count("dfs.cache.hits", "l3"), "L1 answered the second read");
      // timers per level carry the samples
      assertEquals(1, registry.get("dfs.cache.latency").tags("level", "l1", "result", "hit").timer().count());
      assertEquals(1, registry.get("dfs.cache.latency").tags("level", "l3", "result", "hit").timer().count());
    }
    // Remount without L1: L2 kept the promoted block, so neither the peer nor the store is asked.
    registry = new SimpleMeterRegistry();
    try (BlockStore s = stack(0)) {
      assertArrayEquals(local.expected(id), s.get(id));
      assertEquals(1, count("dfs.cache.hits", "l2"));
      assertEquals(0, count("dfs.cache.hits", "l3") + count("dfs.cache.misses", "l3"));
      assertEquals(0, local.reads());
    }
  }

  @Test
  void rangeReads_comeFromL2WithoutLoadingTheBlock_untilItEarnsPromotion() throws Exception {
    BlockId id = local.putRandom(BLOCK, random);
    byte[] block = local.expected(id);
    byte[] dst = new byte[4096];
    try (BlockStore s = stack(0)) {
      assertEquals(-1, s.readRange(id, 0, dst, 0, dst.length), "nowhere cached: the caller must get()");
      s.get(id); // admitted into L2
    }
    local.resetReads();
    registry = new SimpleMeterRegistry();
    try (BlockStore s = stack(4L << 20)) {
      int reads = 0;
      long served = 0;
      // Range reads short of one block's worth: all from L2, none loads the block into L1.
      while (served + dst.length < MemoryBlockCache.PROMOTE_AFTER_BYTES) {
        int offset = random.nextInt(BLOCK - dst.length);
        assertEquals(dst.length, s.readRange(id, offset, dst, 0, dst.length));
        assertArrayEquals(java.util.Arrays.copyOfRange(block, offset, offset + dst.length), dst);
        served += dst.length;
        reads++;
      }
      assertEquals(reads, count("dfs.cache.hits", "l2"));
      assertEquals(reads, count("dfs.cache.misses", "l1"));
      assertEquals(0, count("dfs.cache.hits", "l1"));
      assertEquals(0, local.reads() + count("dfs.cache.hits", "l3"), "nothing below L2 was asked");
      // One more earns the block its place in L1 (loaded in the background); then L1 serves.
      assertEquals(dst.length, s.readRange(id, 0, dst, 0, dst.length));
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (count("dfs.cache.hits", "l1") == 0 && System.nanoTime() < deadline) {
        if (s.readRange(id, 100, dst, 0, dst.length) < 0) { // being loaded: the caller gets the block
          System.arraycopy(s.get(id), 100, dst, 0, dst.length);
        }
        assertArrayEquals(java.util.Arrays.copyOfRange(block, 100, 100 + dst.length), dst);
        Thread.sleep(5);
      }
      assertTrue(count("dfs.cache.hits", "l1") > 0, "promoted into L1");
      assertEquals(dst.length, s.readRange(id, BLOCK - dst.length, dst, 0, dst.length + 10), "cut at the end");
      assertArrayEquals(java.util.Arrays.copyOfRange(block, BLOCK - dst.length, BLOCK), dst);
      assertEquals(0, s.readRange(id, BLOCK + 5000, dst, 0, dst.length), "past the end of a cached block");
    }
  }

  @Test
  void rangeReadOfABlockNoLevelHolds_comesFromTheStoresFrames_theBlockIsAdmittedIntoL2BehindIt() throws Exception {
    int size = 8 * BLOCK; // a 512 KiB block: eight 64 KiB frames
    BlockId id = local.putRandom(size, random);
    byte[] block = local.expected(id);
    byte[] dst = new byte[4096];
    try (BlockStore s = CacheStack.builder(registry).disk(tmp.resolve("l2"), 8L << 20, Admission.ALWAYS)
        .memory(4L << 20).build().apply(local.ranged())) {
      assertEquals(dst.length, s.readRange(id, 70_000, dst, 0, dst.length));
      assertArrayEquals(java.util.Arrays.copyOfRange(block, 70_000, 70_000 + dst.length), dst);
      assertEquals(1, local.rangeReads(), "the first range came from the store's frames");
      long deadline = System.nanoTime() + 10_000_000_000L;
      while (count("dfs.cache.admissions", "l2") == 0 && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertEquals(1, count("dfs.cache.admissions", "l2"), "L2 admitted the missed block, loaded behind the reader");
      assertEquals(1, local.reads(), "read whole once, for that");
      for (int i = 0; i < 20; i++) {
        int offset = random.nextInt(size - dst.length);
        assertEquals(dst.length, s.readRange(id, offset, dst, 0, dst.length));
        assertArrayEquals(java.util.Arrays.copyOfRange(block, offset, offset + dst.length), dst);
      }
      assertEquals(1, local.rangeReads(), "later ranges came from L2, not the store");
      assertEquals(1, local.reads());
      assertEquals(20, count("dfs.cache.hits", "l2"));
    }
  }

  @Test
  void blockThePeerLacks_comesFromTheStore() throws IOException {
    BlockId id = local.putRandom(BLOCK, random);
    try (BlockStore s = stack(4L << 20)) {
      assertArrayEquals(local.expected(id), s.get(id));
      assertEquals(1, local.reads());
      assertEquals(1, count("dfs.cache.misses", "l3"));
    }
  }

  @Test
  void peerReturningWrongBytes_isCaughtAndStoreServes() throws IOException {
    BlockId id = local.putRandom(BLOCK, random);
    RemoteBlockSource liar = new RemoteBlockSource() {
      @Override
      public byte[] fetch(BlockId want) {
        byte[] b = local.expected(want).clone();
        b[5] ^= 1;
        return b;
      }

      @Override
      public String name() {
        return "liar";
      }
    };
    try (BlockStore s = CacheStack.builder(registry).remote(liar).build().apply(local.counting())) {
      assertArrayEquals(local.expected(id), s.get(id));
      assertEquals(1, count("dfs.cache.corrupt", "l3"));
      assertEquals(1, local.reads());
    }
  }

  @Test
  void concurrentReaders_sameBlocks_allGetTheRightBytes() throws Exception {
    List<BlockId> ids = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      ids.add(i % 2 == 0 ? replicated() : local.putRandom(BLOCK, random));
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (BlockStore s = stack(256 << 10)) { // L1 holds ~3 blocks: constant eviction
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int seed = t;
        fs.add(pool.submit(() -> {
          Random r = new Random(seed);
          for (int i = 0; i < 300; i++) {
            BlockId id = ids.get(r.nextInt(ids.size()));
            assertArrayEquals(local.expected(id), s.get(id));
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
      assertTrue(count("dfs.cache.evictions", "l1") > 0);
      assertTrue(count("dfs.cache.hits", "l2") > 0);
    } finally {
      pool.shutdownNow();
    }
  }
}
