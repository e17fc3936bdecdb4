package io.dynamicfs.core.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetaOp.ChunkChange;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MetadataStore#cacheInlineChunks}: block 0 of small files answered from memory must always be what
 * the store holds. {@link MetadataStore#chunks} reads the store without the cache, so every answer of
 * {@link MetadataStore#chunk} is compared with it: after random commits, truncations and removals, while
 * readers race the writer, and after the store's files were replaced.
 */
class InodeCacheTest {
  private static final int BS = 64 << 10;
  private static final long ROOT = FileSystem.ROOT_INO;
  private static final int DIR = FileType.DIRECTORY.bits() | 0755;
  private static final int FILE = FileType.REGULAR.bits() | 0644;

  @TempDir Path tmp;
  private final Random random = new Random(21);
  private long time = 1_000_000;

  private static void assertSameChunk(Chunk expected, Chunk actual, String what) {
    if (expected == null || actual == null) {
      assertEquals(expected, actual, what);
      return;
    }
    assertEquals(expected.id(), actual.id(), what);
    assertEquals(expected.length(), actual.length(), what);
    assertArrayEquals(expected.inline(), actual.inline(), what);
  }

  private static Chunk uncached(MetadataStore store, long ino) throws FsException {
    List<Chunk> c = store.chunks(ino, 0, 1);
    return c.isEmpty() ? null : c.get(0);
  }

  /** Switches the inline cache on for {@code store} and makes its root directory. */
  private OpApplier withCacheAndRoot(MetadataStore store) throws FsException {
    store.cacheInlineChunks(1 << 20);
    OpApplier ap = new OpApplier(store);
    ap.apply(1, MetaOp.CreateNode.root(DIR, 0, 0, time)).orThrow();
    return ap;
  }

  private long create(OpApplier ap, String name) throws FsException {
    return ap.apply(ap.appliedIndex() + 1, new MetaOp.CreateNode(ROOT, name, FILE, 0, 0, true, 0, null, ++time))
        .orThrow().ino();
  }

  /** A commit of new inline bytes, a truncation to nothing, or a rewrite that leaves a hole at block 0. */
  private void change(OpApplier ap, long ino) throws FsException {
    int kind = random.nextInt(5);
    long t = ++time;
    MetaOp op;
    if (kind == 0) {
      op = new MetaOp.CommitBlocks(ino, 0, 0, t, t, List.of());
    } else if (kind == 1) {
      op = new MetaOp.CommitBlocks(ino, 10, 0, t, t, List.of(ChunkChange.hole(0)));
    } else {
      byte[] b = new byte[1 + random.nextInt(5000)];
      random.nextBytes(b);
      op = new MetaOp.CommitBlocks(ino, b.length, kind == 2 ? 0 : -1, t, t, List.of(ChunkChange.inline(0, b)));
    }
    ap.apply(ap.appliedIndex() + 1, op).orThrow();
  }

  @Test
  void randomCommitsTruncationsAndRemovals_readAsTheStoreHoldsThem_oftenFromMemory() throws Exception {
    try (MetadataStore store = MetadataStore.open(tmp.resolve("m"), BS)) {
      OpApplier ap = withCacheAndRoot(store);
      List<Long> files = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (int step = 0; step < 3000; step++) {
        int what = random.nextInt(10);
        if (files.isEmpty() || what == 0) {
          String name = "f" + step;
          files.add(create(ap, name));
          names.add(name);
        } else if (what == 1 && files.size() > 3) {
          int k = random.nextInt(files.size());
          ap.apply(ap.appliedIndex() + 1, new MetaOp.Remove(ROOT, names.get(k), false, 0, ++time)).orThrow();
          long gone = files.remove(k);
          names.remove(k);
          assertNull(store.chunk(gone, 0), "a removed file's block 0");
        } else if (what < 6) {
          change(ap, files.get(random.nextInt(files.size())));
        }
        long ino = files.get(random.nextInt(files.size()));
        assertSameChunk(uncached(store, ino), store.chunk(ino, 0), "step " + step + ", inode " + ino);
      }
      long[] hitsMisses = store.inlineCacheCounts();
      // a file with no inline block 0 (new, truncated, a hole) misses every time: nothing is kept for it
      assertTrue(hitsMisses[0] > 1000, "hits " + hitsMisses[0] + ", misses " + hitsMisses[1]);
    }
  }

  @Test
  void readersRacingTheWriter_leaveNothingOlderInMemory() throws Exception {
    try (MetadataStore store = MetadataStore.open(tmp.resolve("m"), BS)) {
      OpApplier ap = withCacheAndRoot(store);
      long[] files = {create(ap, "a"), create(ap, "b"), create(ap, "c")};
      AtomicBoolean done = new AtomicBoolean();
      AtomicReference<Throwable> failed = new AtomicReference<>();
      List<Thread> readers = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        Thread t = new Thread(() -> {
          try {
            while (!done.get()) {
              for (long ino : files) {
                store.chunk(ino, 0);
              }
            }
          } catch (Throwable e) {
            failed.set(e);
          }
        });
        t.start();
        readers.add(t);
      }
      try {
        for (int round = 0; round < 200; round++) {
          for (int i = 0; i < 20; i++) {
            change(ap, files[random.nextInt(files.length)]);
          }
          for (long ino : files) {
            assertSameChunk(uncached(store, ino), store.chunk(ino, 0), "round " + round + ", inode " + ino);
          }
        }
      } finally {
        done.set(true);
        for (Thread t : readers) {
          t.join();
        }
      }
      assertNull(failed.get());
      for (long ino : files) {
        assertSameChunk(uncached(store, ino), store.chunk(ino, 0), "after the race, inode " + ino);
      }
    }
  }

  /**
   * Inode records are kept in memory by every store ({@code MetadataStore#inode}): after each of 3,000
   * random creates, links, renames, attribute changes, commits and removals (of names and, at the last link,
   * of inodes), every inode ever made reads as the store holds it on disk.
   */
  @Test
  void inodesAnsweredFromMemory_matchTheStore_overRandomHistories() throws Exception {
    try (MetadataStore store = MetadataStore.open(tmp.resolve("m"), BS)) {
      OpApplier ap = new OpApplier(store);
      ap.apply(1, MetaOp.CreateNode.root(DIR, 0, 0, time)).orThrow();
      java.util.Set<Long> seen = new java.util.TreeSet<>(List.of(ROOT));
      List<String> names = new ArrayList<>();
      int removedInodes = 0;
      for (int step = 0; step < 3000; step++) {
        int what = random.nextInt(10);
        long t = ++time;
        MetaOp op;
        if (names.isEmpty() || what < 3) {
          String name = "f" + step;
          op = new MetaOp.CreateNode(ROOT, name, random.nextInt(5) == 0 ? DIR : FILE, 0, 0, true, 0, null, t);
          names.add(name);
        } else {
          String name = names.get(random.nextInt(names.size()));
          long ino = store.lookup(ROOT, name);
          boolean dir = store.inode(ino).isDirectory();
          if (what == 3 && !dir) {
            String to = "l" + step;
            op = new MetaOp.Link(ino, ROOT, to, t);
            names.add(to);
          } else if (what == 4) {
            String to = "r" + step;
            op = new MetaOp.Rename(ROOT, name, ROOT, to, 0, 0, t);
            names.set(names.indexOf(name), to);
          } else if (what < 7) {
            op = new MetaOp.SetAttrs(ino, FileType.ofMode(store.inode(ino).mode()).bits() | random.nextInt(01000), null,
                null, t - 5, t - 3, t);
          } else if (what < 8 && !dir) {
            byte[] b = new byte[1 + random.nextInt(300)];
            op = new MetaOp.CommitBlocks(ino, b.length, -1, t, t, List.of(ChunkChange.inline(0, b)));
          } else {
            op = new MetaOp.Remove(ROOT, name, dir, 0, t);
            names.remove(name);
            removedInodes += dir || store.inode(ino).nlink() == 1 ? 1 : 0;
          }
        }
        OpApplier.Result r = ap.apply(ap.appliedIndex() + 1, op).orThrow();
        if (op instanceof MetaOp.CreateNode) {
          seen.add(r.ino());
        }
        for (long ino : seen) {
          byte[] v = store.get(MetadataStore.Family.INODES, Keys.ino(ino));
          assertEquals(v == null ? null : Inode.decode(ino, v), store.inode(ino), "step " + step + ", inode " + ino);
        }
      }
      assertTrue(removedInodes > 100, removedInodes + " inodes removed");
    }
  }

  @Test
  void aFillThatReadBeforeAWrite_isNotKept() {
    InodeCache<Chunk> cache = InodeCache.inlineChunks(1 << 20);
    Chunk old = new Chunk(0, null, 3, new byte[] {1, 2, 3});
    long before = cache.invalidations();
    cache.invalidate(List.of(7L), Map.of()); // the write lands between the fill's read and its keeping
    cache.fill(7, old, before);
    assertNull(cache.get(7));
    cache.fill(7, old, cache.invalidations());
    assertArrayEquals(new byte[] {1, 2, 3}, cache.get(7).inline());
    cache.get(7).inline()[0] = 9; // a caller changing what it got changes nothing kept
    assertArrayEquals(new byte[] {1, 2, 3}, cache.get(7).inline());
  }

  @Test
  void replacedFiles_dropWhatWasKept() throws Exception {
    Path dir = tmp.resolve("m");
    Path checkpoint = tmp.resolve("checkpoint");
    try (MetadataStore store = MetadataStore.open(dir, BS)) {
      OpApplier ap = withCacheAndRoot(store);
      long ino = create(ap, "f");
      ap.apply(ap.appliedIndex() + 1, new MetaOp.CommitBlocks(ino, 1, -1, ++time, time,
          List.of(ChunkChange.inline(0, new byte[] {1})))).orThrow();
      store.checkpoint(checkpoint);
      ap.apply(ap.appliedIndex() + 1, new MetaOp.CommitBlocks(ino, 1, -1, ++time, time,
          List.of(ChunkChange.inline(0, new byte[] {2})))).orThrow();
      assertArrayEquals(new byte[] {2}, store.chunk(ino, 0).inline());
      store.replace(() -> MetadataStoreReplaceTest.replaceFiles(dir, checkpoint));
      assertArrayEquals(new byte[] {1}, store.chunk(ino, 0).inline(), "the checkpoint's bytes, not the kept ones");
    }
  }
}
