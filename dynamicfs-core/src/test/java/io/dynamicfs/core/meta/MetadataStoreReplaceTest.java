package io.dynamicfs.core.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link MetadataStore#replace}: the files under a store are swapped for another database's checkpoint (as a
 * Raft snapshot install does under a mount's replica) while readers keep using the same object; they wait,
 * then read the new contents, and never see a closed or half-swapped database. A swap that fails and leaves
 * no database behind closes the store for good (EIO) instead of opening an empty one.
 */
class MetadataStoreReplaceTest {
  private static final int BS = 64 << 10;
  private static final long ROOT = FileSystem.ROOT_INO;
  private static final int DIR = FileType.DIRECTORY.bits() | 0755;

  @TempDir Path tmp;

  private static OpApplier withDirs(MetadataStore store, String prefix, int n) throws FsException {
    OpApplier ap = new OpApplier(store);
    long t = 1_000_000;
    ap.apply(1, MetaOp.CreateNode.root(DIR, 0, 0, t)).orThrow();
    for (int i = 0; i < n; i++) {
      ap.apply(ap.appliedIndex() + 1, new MetaOp.CreateNode(ROOT, prefix + i, DIR, 0, 0, true, 0, null, t + i))
          .orThrow();
    }
    return ap;
  }

  /** Puts the files of {@code with} (a checkpoint) in place of those in {@code dir}. */
  static void replaceFiles(Path dir, Path with) throws IOException {
    try (Stream<Path> old = Files.list(dir)) {
      for (Path p : old.toList()) {
        Files.delete(p);
      }
    }
    try (Stream<Path> files = Files.list(with)) {
      for (Path p : files.toList()) {
        Files.copy(p, dir.resolve(p.getFileName()));
      }
    }
  }

  @Test
  void readersKeepTheObject_waitForTheSwap_thenSeeTheNewContents() throws Exception {
    Path dirA = tmp.resolve("a");
    Path checkpoint = tmp.resolve("b-checkpoint");
    try (MetadataStore b = MetadataStore.open(tmp.resolve("b"), BS)) {
      withDirs(b, "b", 300);
      b.checkpoint(checkpoint);
    }
    try (MetadataStore a = MetadataStore.open(dirA, BS)) {
      OpApplier ap = withDirs(a, "a", 50);
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong reads = new AtomicLong();
      List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
      List<Thread> readers = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        Thread t = new Thread(() -> {
          try {
            while (!stop.get()) {
              // either side of the swap, never a mixture: a's 50 entries or b's 300
              int listed = a.list(ROOT).size();
              if (listed != 50 && listed != 300) {
                throw new AssertionError("root lists " + listed + " entries");
              }
              a.lookup(ROOT, "a7");
              a.forEachInode(i -> { });
              reads.incrementAndGet();
            }
          } catch (Throwable e) {
            errors.add(e);
          }
        });
        t.start();
        readers.add(t);
      }
      while (reads.get() < 20) {
        Thread.sleep(5);
      }
      a.replace(() -> replaceFiles(dirA, checkpoint));
      long after = reads.get();
      while (reads.get() < after + 20 && errors.isEmpty()) {
        Thread.sleep(5);
      }
      stop.set(true);
      for (Thread t : readers) {
        t.join();
      }
      assertEquals(List.of(), errors);
      assertEquals(-1, a.lookup(ROOT, "a7"));
      assertTrue(a.lookup(ROOT, "b299") > 0);
      assertEquals(301, a.appliedIndex());
      // the applier picks the new position up and goes on from it
      ap.reload();
      OpApplier.Result r = ap.apply(302, new MetaOp.CreateNode(ROOT, "after", DIR, 0, 0, true, 0, null, 9_000_000))
          .orThrow();
      assertEquals(r.ino(), a.lookup(ROOT, "after"));
      assertEquals(302, a.appliedIndex());
    }
  }

  @Test
  void aSwapThatFailsAndLeavesNoDatabase_closesTheStore_neverOpensAnEmptyOne() throws Exception {
    Path dirA = tmp.resolve("a");
    MetadataStore a = MetadataStore.open(dirA, BS);
    try {
      withDirs(a, "a", 5);
      IOException thrown = assertThrows(IOException.class, () -> a.replace(() -> {
        try (Stream<Path> walk = Files.walk(dirA)) {
          for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
            Files.delete(p);
          }
        }
        throw new IOException("disk went away mid-swap");
      }));
      assertEquals("disk went away mid-swap", thrown.getMessage());
      assertEquals(Errno.EIO, assertThrows(FsException.class, () -> a.lookup(ROOT, "a1")).errno());
      assertTrue(!Files.exists(dirA), "no empty database was made where the old one was");
    } finally {
      a.close();
    }
  }

  @Test
  void aSwapThatFailsBeforeTouchingTheFiles_reopensTheOldDatabase() throws Exception {
    try (MetadataStore a = MetadataStore.open(tmp.resolve("a"), BS)) {
      withDirs(a, "a", 5);
      assertThrows(IOException.class, () -> a.replace(() -> {
        throw new IOException("checkpoint missing");
      }));
      assertTrue(a.lookup(ROOT, "a3") > 0);
    }
  }
}
