package io.dynamicfs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dynamicfs.core.block.BlockId;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** L1 over a real segment store: read-ahead is served but kept out of the cache proper; range misses keep their frame. */
class MemoryBlockCacheTest {
  private static final int BLOCK = 64 << 10;

  @TempDir
  Path tmp;
  TestStores stores;
  final Random random = new Random(3);

  @BeforeEach
  void setUp() throws IOException {
    stores = new TestStores(tmp.resolve("blocks"));
  }

  @AfterEach
  void tearDown() throws IOException {
    stores.close();
  }

  /** Reads like the engine does: the range if the cache can give it, else from the whole block. */
  private static byte[] readLikeTheEngine(MemoryBlockCache l1, BlockId id) throws IOException {
    byte[] dst = new byte[BLOCK];
    int n = l1.readRange(id, 0, dst, 0, BLOCK);
    return n < 0 ? l1.get(id) : dst;
  }

  @Test
  void rangeReads_fetchTheirFrameOnce_andServeEveryRangeInItExactly_upToTheBlocksEnd() throws Exception {
    int frame = MemoryBlockCache.FRAME;
    int size = 2 * frame + 1000; // the third frame is short
    try (MemoryBlockCache l1 = new MemoryBlockCache(stores.ranged(), 8L << 20)) {
      BlockId id = stores.putRandom(size, random);
      byte[] block = stores.expected(id);
      int[][] ranges = {{100, 4096}, {0, 1}, {frame - 4096, 4096}, {5000, 20_000}, // frame 0
          {frame, 4096}, {2 * frame - 1, 1}, // frame 1
          {2 * frame, 1000}, {2 * frame + 500, 4096}, {2 * frame + 1000, 10}}; // frame 2, up to and past the end
      for (int[] r : ranges) {
        byte[] dst = new byte[r[1]];
        int n = l1.readRange(id, r[0], dst, 0, r[1]);
        int expected = Math.max(0, Math.min(r[1], size - r[0]));
        assertEquals(expected, n, () -> "range at " + r[0]);
        assertArrayEquals(java.util.Arrays.copyOfRange(block, r[0], r[0] + n), java.util.Arrays.copyOf(dst, n));
      }
      assertEquals(3, stores.rangeReads(), "one fetch per frame");
      assertEquals(0, stores.reads(), "the block was never loaded whole");
      byte[] across = new byte[4096];
      assertEquals(4096, l1.readRange(id, frame - 100, across, 0, 4096));
      assertArrayEquals(java.util.Arrays.copyOfRange(block, frame - 100, frame - 100 + 4096), across);
      assertEquals(4, stores.rangeReads(), "a range across two frames is asked for as it is");
    }
  }

  @Test
  void prefetchedBlocks_areServedOnce_butDoNotEvictTheWorkingSet() throws Exception {
    // 8 MiB: a read-ahead ring of 1 MiB (16 blocks) and 7 MiB for the cache proper.
    try (MemoryBlockCache l1 = new MemoryBlockCache(stores.counting(), 8L << 20)) {
      List<BlockId> hot = new ArrayList<>();
      for (int i = 0; i < 64; i++) { // 4 MiB working set, read on demand: cached
        BlockId id = stores.putRandom(BLOCK, random);
        hot.add(id);
        assertArrayEquals(stores.expected(id), l1.get(id));
      }
      List<BlockId> stream = new ArrayList<>();
      for (int i = 0; i < 256; i++) { // a 16 MiB stream, each block prefetched just before it is read
        stream.add(stores.putRandom(BLOCK, random));
      }
      stores.resetReads();
      for (BlockId id : stream) {
        l1.prefetch(id);
        assertArrayEquals(stores.expected(id), readLikeTheEngine(l1, id));
      }
      assertEquals(stream.size(), stores.reads(), "each streamed block was read from the store once");
      stores.resetReads();
      for (BlockId id : hot) {
        assertArrayEquals(stores.expected(id), readLikeTheEngine(l1, id));
      }
      assertEquals(0, stores.reads(), "the stream did not push the working set out");
      // The ring keeps only the last blocks of the stream: the first is gone from memory.
      assertArrayEquals(stores.expected(stream.get(0)), readLikeTheEngine(l1, stream.get(0)));
      assertEquals(1, stores.reads());
    }
  }

  @Test
  void readWhilePrefetchInFlight_loadsTheBlockOnce() throws Exception {
    try (MemoryBlockCache l1 = new MemoryBlockCache(stores.counting(), 8L << 20)) {
      for (int round = 0; round < 200; round++) {
        BlockId id = stores.putRandom(BLOCK, random);
        stores.resetReads();
        l1.prefetch(id);
        assertArrayEquals(stores.expected(id), readLikeTheEngine(l1, id));
        l1.prefetch(id); // held now: no second load
        assertArrayEquals(stores.expected(id), l1.get(id));
        assertEquals(1, stores.reads(), "round " + round);
      }
    }
  }
}
