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

/** L1 over a real segment store: read-ahead is served but kept out of the cache proper. */
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
