package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.storage.Redundancy;
import io.dynamicfs.core.storage.Scrubber;
import io.dynamicfs.core.storage.StorageLayout;
import io.dynamicfs.core.storage.TierSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine over two tiers: where new data lands, tier moves with dedup, scrub reports naming files, fsck. */
class TieredEngineTest {
  private static final Caller ME = new Caller(1000, 1000, 1);
  private static final FormatOptions FORMAT = new FormatOptions(64 << 10, Codec.LZ4, 4096);

  @TempDir
  Path tmp;

  private final Random rnd = new Random(5);

  private StorageLayout layout() {
    return new StorageLayout(List.of(
        new TierSpec("fast", new Redundancy.Replicate(2), List.of(tmp.resolve("f0"), tmp.resolve("f1"))),
        new TierSpec("slow", new Redundancy.ReedSolomon(2, 1),
            List.of(tmp.resolve("s0"), tmp.resolve("s1"), tmp.resolve("s2")))), StorageLayout.Scrub.DEFAULT);
  }

  private record Open(DataDirectory dir, DynamicFileSystem fs) implements AutoCloseable {
    @Override
    public void close() throws IOException {
      try {
        fs.close();
      } finally {
        dir.close();
      }
    }
  }

  private Open open() throws IOException {
    DataDirectory dir = DataDirectory.open(Files.createDirectories(tmp.resolve("data")), FORMAT, layout());
    return new Open(dir, DynamicFileSystem.open(dir, EngineOptions.defaults()));
  }

  private byte[] random(int n) {
    byte[] b = new byte[n];
    rnd.nextBytes(b);
    return b;
  }

  private static long write(FileSystem fs, long parent, String name, byte[] content) throws IOException {
    OpenResult r = fs.create(ME, parent, name, 0100644, 2);
    for (int off = 0; off < content.length; ) {
      off += fs.write(r.handle(), off, content, off, Math.min(1 << 20, content.length - off));
    }
    fs.fsync(r.handle(), false);
    fs.release(r.handle());
    return r.attr().ino();
  }

  private static byte[] read(FileSystem fs, long ino, int size) throws IOException {
    long h = fs.open(ME, ino, 0);
    try {
      byte[] out = new byte[size];
      int off = 0;
      while (off < size) {
        int n = fs.read(h, off, out, off, size - off);
        if (n <= 0) {
          break;
        }
        off += n;
      }
      return out;
    } finally {
      fs.release(h);
    }
  }

  private static List<Integer> sorted(List<Integer> l) {
    return l.stream().sorted().toList();
  }

  private static long tierOf(DynamicFileSystem fs, BlockId id) throws IOException {
    return fs.metadata().block(id).tier();
  }

  @Test
  void newDataLandsOnTheFirstTier_andMovesKeepDedupAndContent() throws Exception {
    byte[] a = random(300_000);
    byte[] b = random(200_000);
    long dir;
    long fa;
    long fb;
    long shared;
    try (Open o = open()) {
      DynamicFileSystem fs = o.fs();
      dir = fs.mkdir(ME, FileSystem.ROOT_INO, "cold", 0755).ino();
      fa = write(fs, dir, "a", a);
      fb = write(fs, dir, "b", b);
      shared = write(fs, FileSystem.ROOT_INO, "copy-of-a", a); // same blocks as cold/a
      for (Chunk c : fs.metadata().chunks(fa, 0, Long.MAX_VALUE)) {
        assertEquals(0, tierOf(fs, c.id()), "new blocks land on the first tier");
        assertEquals(List.of(0, 1), sorted(fs.metadata().block(c.id()).placement().locations()),
            "the commit records both devices of the replicate-2 tier");
      }
      TierMove.Result r = fs.moveToTier(dir, "slow", p -> { });
      assertEquals(2, r.files());
      assertEquals(r.blocks(), r.blocksMoved());
      for (Chunk c : fs.metadata().chunks(fa, 0, Long.MAX_VALUE)) {
        assertEquals(1, tierOf(fs, c.id()));
        List<Integer> shards = fs.metadata().block(c.id()).placement().locations();
        assertEquals(3, shards.size(), "the move records the three devices holding rs-2-1 shards: " + shards);
        assertEquals(List.of(0, 1, 2), sorted(shards));
        assertTrue(!fs.storage().tiers().get(0).contains(c.id()), "old copy released");
        assertEquals(2, fs.metadata().block(c.id()).refs(), "still shared by copy-of-a: dedup kept");
      }
      assertArrayEquals(a, read(fs, shared, a.length));
      assertArrayEquals(b, read(fs, fb, b.length));
      assertEquals(0, fs.moveToTier(dir, "slow", p -> { }).blocksMoved(), "moving again moves nothing");
      FsException e = assertThrows(FsException.class, () -> fs.moveToTier(dir, "nowhere", p -> { }));
      assertEquals(Errno.EINVAL, e.errno());
    }
    try (Open o = open()) {
      assertArrayEquals(a, read(o.fs(), fa, a.length));
      TierMove.Result back = o.fs().moveToTier(FileSystem.ROOT_INO, "fast", p -> { });
      assertTrue(back.blocksMoved() > 0);
      assertArrayEquals(b, read(o.fs(), fb, b.length));
    }
    try (DataDirectory d = DataDirectory.open(tmp.resolve("data"), null)) {
      Fsck.Report r = Fsck.checkOffline(d, true, s -> { });
      assertTrue(r.clean() && r.problems().isEmpty(), r.problems().toString());
    }
  }

  @Test
  void unrepairableBlocksAreReportedByFileAndReadsFailWithEio() throws Exception {
    byte[] a = random(500_000);
    long fa;
    try (Open o = open()) {
      long dir = o.fs().mkdir(ME, FileSystem.ROOT_INO, "docs", 0755).ino();
      fa = write(o.fs(), dir, "a.bin", a);
      o.fs().moveToTier(dir, "slow", p -> { });
    }
    // two of the three rs-2-1 devices replaced by empty disks: the data is gone for good
    for (String d : List.of("s0", "s2")) {
      try (Stream<Path> w = Files.walk(tmp.resolve(d))) {
        for (Path p : w.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
      Files.createDirectories(tmp.resolve(d));
    }
    try (Open o = open()) {
      Scrubber.Report r = o.fs().scrub(true, null, 0, p -> { }, () -> false);
      assertTrue(r.unrepairable() > 0, r.toString());
      assertTrue(r.unrepairableFiles().stream().anyMatch(f -> f.startsWith("/docs/a.bin @")), r.toString());
      FsException e = assertThrows(FsException.class, () -> read(o.fs(), fa, a.length));
      assertEquals(Errno.EIO, e.errno());
    }
    try (DataDirectory d = DataDirectory.open(tmp.resolve("data"), null)) {
      Fsck.Report r = Fsck.checkOffline(d, true, s -> { });
      assertTrue(!r.clean() && r.problems().stream().anyMatch(p -> p.path().startsWith("/docs/a.bin")),
          r.problems().toString());
    }
  }

  @Test
  void theRecordedLayoutCannotBeChangedByALaterMount() throws Exception {
    try (Open o = open()) {
      assertEquals(2, o.fs().storage().tiers().size());
    }
    StorageLayout other = new StorageLayout(List.of(
        new TierSpec("fast", new Redundancy.Replicate(1), List.of(tmp.resolve("f0")))), StorageLayout.Scrub.DEFAULT);
    FsException e = assertThrows(FsException.class, () -> DataDirectory.open(tmp.resolve("data"), FORMAT, other));
    assertTrue(e.getMessage().contains("does not match"), e.getMessage());
  }
}
