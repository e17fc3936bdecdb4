package io.dynamicfs.cache;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.block.BlockId;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** L2 over a real segment store in a temp directory; files are damaged by hand, never mocked. */
class DiskBlockCacheTest {
  private static final int BLOCK = 64 << 10;

  @TempDir
  Path tmp;
  Path cacheDir;
  TestStores stores;
  SimpleMeterRegistry registry;
  final Random random = new Random(42);

  @BeforeEach
  void setUp() throws IOException {
    cacheDir = tmp.resolve("cache");
    stores = new TestStores(tmp.resolve("blocks"));
    registry = new SimpleMeterRegistry();
  }

  @AfterEach
  void tearDown() throws IOException {
    stores.close();
  }

  private DiskBlockCache open(long capacity, Admission admission) throws IOException {
    return new DiskBlockCache(stores.counting(), cacheDir, capacity, admission, registry, random::nextDouble);
  }

  private double count(String name) {
    return registry.get(name).tag("level", "l2").counter().count();
  }

  @Test
  void get_secondRead_isServedFromDiskNotStore() throws IOException {
    BlockId id = stores.putRandom(BLOCK, random);
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      byte[] first = l2.get(id);
      l2.awaitWriter();
      assertTrue(l2.holds(id));
      byte[] second = l2.get(id);
      assertArrayEquals(first, second);
      assertEquals(1, stores.reads(), "only the first read reaches the store");
      assertEquals(1, count("dfs.cache.hits"));
      assertEquals(1, count("dfs.cache.misses"));
      assertEquals(0.5, registry.get("dfs.cache.hit.ratio").tag("level", "l2").gauge().value(), 1e-9);
    }
  }

  @Test
  void reopen_indexRebuiltFromDirectory_servesWithoutStore() throws IOException {
    List<BlockId> ids = new ArrayList<>();
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      for (int i = 0; i < 5; i++) {
        BlockId id = stores.putRandom(BLOCK, random);
        ids.add(id);
        l2.get(id);
      }
      l2.awaitWriter();
    }
    stores.resetReads();
    registry = new SimpleMeterRegistry();
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      for (BlockId id : ids) {
        assertArrayEquals(stores.expected(id), l2.get(id));
      }
      assertEquals(0, stores.reads(), "a reopened cache serves its blocks at once");
      assertEquals(5, count("dfs.cache.hits"));
    }
  }

  @Test
  void manyBlocks_tinyCache_neverExceedsSizeOnDisk() throws IOException {
    long capacity = 320 << 10; // 4 entries of 68 KiB
    try (DiskBlockCache l2 = open(capacity, Admission.ALWAYS)) {
      List<BlockId> ids = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        ids.add(stores.putRandom(BLOCK, random));
      }
      for (int round = 0; round < 3; round++) {
        for (BlockId id : ids) {
          assertArrayEquals(stores.expected(id), l2.get(id));
          l2.awaitWriter(); // a directory walk is not atomic: measure between writes
          long used = diskBytes();
          assertTrue(used <= capacity, "cache files take " + used + " > " + capacity);
        }
      }
      assertTrue(l2.sizeBytes() <= capacity);
      assertTrue(diskBytes() >= 3 * (68 << 10), "the cache is used, not just emptied");
      assertTrue(count("dfs.cache.evictions") > 0, "a tiny cache must evict");
      assertTrue(count("dfs.cache.admissions") > 4);
    }
  }

  @Test
  void damagedEntry_isDroppedAndReadFallsThrough() throws IOException {
    BlockId id = stores.putRandom(BLOCK, random);
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      l2.get(id);
      l2.awaitWriter();
      Path f = l2.pathOf(id);
      byte[] bytes = Files.readAllBytes(f);
      bytes[DiskBlockCache.HEADER + 1000] ^= 0x10;
      Files.write(f, bytes);
      stores.resetReads();
      assertArrayEquals(stores.expected(id), l2.get(id));
      assertEquals(1, stores.reads(), "the damaged entry is not served");
      assertEquals(1, count("dfs.cache.corrupt"));
      l2.awaitWriter();
      assertTrue(l2.holds(id), "re-admitted after the fall-through");
      assertArrayEquals(stores.expected(id), l2.get(id));
      assertEquals(1, stores.reads(), "the rewritten entry is served again");
    }
  }

  /** The bytes {@code readRange} should give: the block's, cut at its end. */
  private static byte[] slice(byte[] block, int offset, int length) {
    int n = Math.max(0, Math.min(length, block.length - offset));
    return java.util.Arrays.copyOfRange(block, offset, offset + n);
  }

  @Test
  void readRange_servesAnyRangeFromTheEntry_withoutTheStore() throws IOException {
    int size = 5 * DiskBlockCache.CHUNK + 1234; // a short last chunk
    BlockId id = stores.putRandom(size, random);
    BlockId absent = stores.putRandom(1000, random);
    try (DiskBlockCache l2 = open(8L << 20, Admission.ALWAYS)) {
      byte[] dst = new byte[3 * DiskBlockCache.CHUNK];
      assertEquals(-1, l2.readRange(id, 0, dst, 0, 4096), "not cached yet: the caller must get()");
      l2.get(id);
      l2.awaitWriter();
      stores.resetReads();
      for (int i = 0; i < 2000; i++) {
        int offset = random.nextInt(size + 100);
        int length = random.nextInt(i % 10 == 0 ? dst.length - 7 : 9000);
        int at = random.nextInt(7);
        int n = l2.readRange(id, offset, dst, at, length);
        byte[] want = slice(stores.expected(id), offset, length);
        assertEquals(want.length, n, "offset " + offset + " length " + length);
        assertArrayEquals(want, java.util.Arrays.copyOfRange(dst, at, at + n));
      }
      assertEquals(0, stores.reads(), "every range came from the entry");
      assertEquals(-1, l2.readRange(absent, 0, dst, 0, 10));
    }
    // Reopened: the table is read from the header on first use.
    try (DiskBlockCache l2 = open(8L << 20, Admission.ALWAYS)) {
      byte[] dst = new byte[10_000];
      assertEquals(10_000, l2.readRange(id, 3 * DiskBlockCache.CHUNK - 5000, dst, 0, 10_000));
      assertArrayEquals(slice(stores.expected(id), 3 * DiskBlockCache.CHUNK - 5000, 10_000), dst);
      assertEquals(0, stores.reads());
    }
  }

  @Test
  void readRange_notCached_overAStoreThatServesRanges_comesFromBelow_andTheBlockIsAdmittedBehindTheReader()
      throws IOException {
    int size = 6 * DiskBlockCache.CHUNK + 99;
    BlockId id = stores.putRandom(size, random);
    BlockId other = stores.putRandom(size, random);
    try (DiskBlockCache l2 = new DiskBlockCache(stores.ranged(), cacheDir, 8L << 20, Admission.HOT_ONLY, registry,
        random::nextDouble)) {
      byte[] dst = new byte[5000];
      assertEquals(dst.length, l2.readRange(other, 100, dst, 0, dst.length));
      assertArrayEquals(slice(stores.expected(other), 100, dst.length), dst);
      l2.awaitWriter();
      assertFalse(l2.holds(other), "hot-only: a first miss is not admitted");
      assertEquals(0, stores.reads(), "nor is the block read whole for it");
      stores.resetReads();
      for (int i = 0; i < 50; i++) {
        int offset = random.nextInt(size);
        int n = l2.readRange(id, offset, dst, 0, dst.length);
        byte[] want = slice(stores.expected(id), offset, dst.length);
        assertEquals(want.length, n);
        assertArrayEquals(want, java.util.Arrays.copyOf(dst, n));
        if (i == 1) {
          l2.awaitWriter(); // the second miss admitted it: its load is queued behind the reader
        }
      }
      l2.awaitWriter();
      assertTrue(l2.holds(id), "admitted on its second miss");
      assertEquals(1, stores.reads(), "loaded whole once, by the writer");
      assertEquals(2, stores.rangeReads(), "the misses' ranges came from the store's frames");
      assertEquals(3, count("dfs.cache.misses"));
      assertEquals(48, count("dfs.cache.hits"), "then ranges come from the entry");
      assertEquals(1, count("dfs.cache.admissions"));
    }
  }

  /** Admits {@code id} into a cache that is then closed, and changes the bytes of its entry file. */
  private void changeEntryWhileClosed(BlockId id, java.util.function.Consumer<byte[]> change) throws IOException {
    Path f;
    try (DiskBlockCache l2 = open(8L << 20, Admission.ALWAYS)) {
      l2.get(id);
      l2.awaitWriter();
      f = l2.pathOf(id);
    }
    byte[] bytes = Files.readAllBytes(f);
    change.accept(bytes);
    Files.write(f, bytes);
  }

  @Test
  void readRange_damagedChunk_isCaughtWhenTouched_andTheEntryDropped() throws IOException {
    int size = 4 * DiskBlockCache.CHUNK;
    BlockId id = stores.putRandom(size, random);
    changeEntryWhileClosed(id, bytes -> bytes[bytes.length - size + 2 * DiskBlockCache.CHUNK + 17] ^= 0x01);
    try (DiskBlockCache l2 = open(8L << 20, Admission.ALWAYS)) {
      byte[] dst = new byte[100];
      assertEquals(100, l2.readRange(id, 10, dst, 0, 100), "an intact chunk still serves");
      assertArrayEquals(slice(stores.expected(id), 10, 100), dst);
      assertEquals(-1, l2.readRange(id, 2 * DiskBlockCache.CHUNK + 10, dst, 0, 100), "the bad chunk is refused");
      assertEquals(1, count("dfs.cache.corrupt"));
      assertFalse(l2.holds(id), "the damaged entry is dropped");
      stores.resetReads();
      assertArrayEquals(stores.expected(id), l2.get(id));
      assertEquals(1, stores.reads(), "the read falls through to the store");
    }
  }

  @Test
  void damagedTable_isCaughtBeforeAnythingIsServed() throws IOException {
    BlockId id = stores.putRandom(3 * DiskBlockCache.CHUNK, random);
    changeEntryWhileClosed(id, bytes -> bytes[DiskBlockCache.HEADER + 5] ^= 0x40); // 2nd chunk's CRC in the table
    try (DiskBlockCache l2 = open(8L << 20, Admission.ALWAYS)) {
      assertEquals(-1, l2.readRange(id, 0, new byte[10], 0, 10));
      assertEquals(1, count("dfs.cache.corrupt"));
      assertFalse(l2.holds(id));
    }
  }

  @Test
  void entryOfTheOldFormat_isDroppedQuietly() throws IOException {
    BlockId id = stores.putRandom(BLOCK, random);
    changeEntryWhileClosed(id, bytes -> java.nio.ByteBuffer.wrap(bytes).putInt(4, 1)); // format 1
    try (DiskBlockCache l2 = open(8L << 20, Admission.ALWAYS)) {
      assertTrue(l2.holds(id), "indexed by name at open");
      stores.resetReads();
      assertArrayEquals(stores.expected(id), l2.get(id));
      assertEquals(1, stores.reads(), "not served from the old entry");
      assertEquals(0, count("dfs.cache.corrupt"), "an old format is not damage");
      l2.awaitWriter();
      assertTrue(l2.holds(id), "rewritten in the current format");
      assertArrayEquals(stores.expected(id), l2.get(id));
      assertEquals(1, stores.reads());
    }
  }

  @Test
  void truncatedEntry_isDroppedAndReadFallsThrough() throws IOException {
    BlockId id = stores.putRandom(BLOCK, random);
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      l2.get(id);
      l2.awaitWriter();
      try (var ch = java.nio.channels.FileChannel.open(l2.pathOf(id), java.nio.file.StandardOpenOption.WRITE)) {
        ch.truncate(DiskBlockCache.HEADER + 10);
      }
      stores.resetReads();
      assertArrayEquals(stores.expected(id), l2.get(id));
      assertEquals(1, stores.reads());
      assertEquals(1, count("dfs.cache.corrupt"));
    }
  }

  @Test
  void open_garbageFiles_areRemovedAndGarbageEntriesNeverServed() throws IOException {
    BlockId good = stores.putRandom(BLOCK, random);
    BlockId fake = stores.putRandom(BLOCK, random);
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      l2.get(good);
      l2.awaitWriter();
    }
    String fakeHex = fake.toHex();
    Path shard = Files.createDirectories(cacheDir.resolve(fakeHex.substring(0, 2)));
    byte[] junk = new byte[BLOCK + DiskBlockCache.HEADER];
    random.nextBytes(junk);
    Files.write(shard.resolve(fakeHex), junk); // right name, garbage inside
    Path tmpFile = Files.write(shard.resolve(fakeHex + ".tmp"), junk);
    Path badName = Files.write(shard.resolve("not-a-block"), junk);
    Path emptyEntry = Files.write(shard.resolve("00" + fakeHex.substring(2)), new byte[0]);
    Path foreign = Files.writeString(cacheDir.resolve("README"), "not ours, left alone");
    stores.resetReads();
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      assertFalse(Files.exists(tmpFile));
      assertFalse(Files.exists(badName));
      assertFalse(Files.exists(emptyEntry));
      assertTrue(Files.exists(foreign));
      assertArrayEquals(stores.expected(good), l2.get(good));
      assertEquals(0, stores.reads());
      assertArrayEquals(stores.expected(fake), l2.get(fake));
      assertEquals(1, stores.reads(), "garbage under a valid name is verified away");
      assertEquals(1, count("dfs.cache.corrupt"));
    }
  }

  @Test
  void directoryDeletedWhileOpen_readsCorrectAndCacheRecreates() throws IOException {
    List<BlockId> ids = new ArrayList<>();
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      for (int i = 0; i < 4; i++) {
        ids.add(stores.putRandom(BLOCK, random));
        l2.get(ids.get(i));
      }
      l2.awaitWriter();
      deleteTree(cacheDir);
      stores.resetReads();
      for (BlockId id : ids) {
        assertArrayEquals(stores.expected(id), l2.get(id));
      }
      assertEquals(4, stores.reads());
      l2.awaitWriter();
      assertTrue(Files.isRegularFile(cacheDir.resolve(DiskBlockCache.MARKER)), "layout recreated");
      for (BlockId id : ids) {
        assertArrayEquals(stores.expected(id), l2.get(id));
      }
      assertEquals(4, stores.reads(), "re-admitted blocks are served from the recreated directory");
    }
  }

  @Test
  void shardReplacedByAFile_writesRepairIt_andOpenRemovesSuchFiles() throws IOException {
    BlockId id = stores.putRandom(BLOCK, random);
    Path shard = cacheDir.resolve(id.toHex().substring(0, 2));
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      Files.writeString(shard, "squatter");
      assertArrayEquals(stores.expected(id), l2.get(id));
      l2.awaitWriter();
      assertTrue(l2.holds(id), "the write repaired the shard and admitted the block");
      assertTrue(Files.isDirectory(shard));
    }
    BlockId other = stores.putRandom(BLOCK, random);
    Path otherShard = cacheDir.resolve(other.toHex().substring(0, 2));
    if (!otherShard.equals(shard)) {
      Files.writeString(otherShard, "squatter");
      try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
        assertFalse(Files.exists(otherShard), "a file on a shard's name is removed at open");
        assertArrayEquals(stores.expected(id), l2.get(id));
      }
    }
  }

  @Test
  void hotOnly_admitsOnSecondMiss() throws IOException {
    BlockId id = stores.putRandom(BLOCK, random);
    try (DiskBlockCache l2 = open(4L << 20, Admission.HOT_ONLY)) {
      l2.get(id);
      l2.awaitWriter();
      assertFalse(l2.holds(id), "a block read once is not written");
      assertEquals(1, count("dfs.cache.rejections"));
      l2.get(id);
      l2.awaitWriter();
      assertTrue(l2.holds(id), "the second miss admits it");
      l2.get(id);
      assertEquals(2, stores.reads());
      assertEquals(1, count("dfs.cache.hits"));
    }
  }

  @Test
  void sampled_admitsOnlyWhenTheDrawFalls() throws IOException {
    double[] draws = {0.9, 0.5, 0.2, 0.05};
    int[] next = {0};
    BlockId id = stores.putRandom(BLOCK, random);
    try (DiskBlockCache l2 = new DiskBlockCache(stores.counting(), cacheDir, 4L << 20, Admission.SAMPLED,
        registry, () -> draws[next[0]++])) {
      for (int i = 0; i < 3; i++) {
        l2.get(id);
        l2.awaitWriter();
        assertFalse(l2.holds(id), "draw " + draws[i] + " must not admit");
      }
      l2.get(id);
      l2.awaitWriter();
      assertTrue(l2.holds(id), "draw 0.05 < 1/8 admits");
      assertEquals(3, count("dfs.cache.rejections"));
    }
  }

  @Test
  void open_directoryInUse_fails() throws IOException {
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      IOException e = assertThrows(IOException.class, () -> open(4L << 20, Admission.ALWAYS));
      assertTrue(e.getMessage().contains("in use"), e.getMessage());
    }
  }

  @Test
  void delete_dropsTheEntryAndItsFile() throws IOException {
    BlockId id = stores.putRandom(BLOCK, random);
    try (DiskBlockCache l2 = open(4L << 20, Admission.ALWAYS)) {
      l2.get(id);
      l2.awaitWriter();
      Path f = l2.pathOf(id);
      assertTrue(Files.exists(f));
      l2.delete(id);
      l2.awaitWriter();
      assertFalse(l2.holds(id));
      assertFalse(Files.exists(f));
      assertFalse(stores.counting().contains(id));
    }
  }

  private long diskBytes() throws IOException {
    if (!Files.exists(cacheDir)) {
      return 0;
    }
    try (Stream<Path> s = Files.walk(cacheDir)) {
      return s.filter(Files::isRegularFile)
          .filter(p -> p.getParent().getFileName().toString().length() == 2)
          .mapToLong(p -> {
            try {
              return (Files.size(p) + 4095) / 4096 * 4096;
            } catch (IOException e) {
              return 0; // deleted meanwhile
            }
          }).sum();
    }
  }

  static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
  }
}
