package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.intent.DirectoryLogStorage;
import io.dynamicfs.core.intent.IntentLog;
import io.dynamicfs.core.intent.PowerLossLogStorage;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power loss at many seeded points of a small-write workload on three files: the engine stops as a crash
 * would, then every intent-log byte not yet synced is dropped, half kept or overwritten with junk
 * ({@link PowerLossLogStorage}), and the filesystem is mounted again. Checked each time: every file reads
 * back exactly as at its last fsync (invariants 3 and 4: the log is synced before the metadata that names
 * it commits, invariant 1, or a lost record would show as EIO or wrong bytes), fsck finds nothing and every
 * overlay's record checks (invariants 2 and 4). The metadata itself is kept whole here (RocksDB's own WAL
 * is outside the wrapper), which is the case a missing log sync would break.
 *
 * <p>Each crash point prints its seed on failure; replay one with {@code -Ddynamicfs.seed=N}; more points
 * with {@code -Ddynamicfs.crashPoints=N}.
 */
class IntentLogPowerLossTest {
  private static final int BS = 64 << 10;
  private static final FormatOptions FORMAT = new FormatOptions(BS, Codec.LZ4, 4096);
  private static final Caller ME = new Caller(1000, 1000, 1);
  private static final int O_RDWR = 2;
  private static final int FILES = 3;

  @TempDir Path root;

  private static EngineOptions options() {
    return new EngineOptions(UnaryOperator.identity(), TimeSource.SYSTEM, 2, Duration.ofHours(1), 64L << 20)
        .withIntentLogBytes(4L << 20); // small: folds and file rolls happen within a workload
  }

  @Test
  void powerLossAtSeededPoints_keepsEveryFsyncedByte_andFsckClean() throws Exception {
    Long fixed = Long.getLong("dynamicfs.seed");
    int points = fixed != null ? 1 : Integer.getInteger("dynamicfs.crashPoints", 40);
    long base = System.nanoTime();
    long lostTotal = 0;
    for (int p = 0; p < points; p++) {
      long seed = fixed != null ? fixed : base + p;
      Path data = root.resolve("p" + p);
      Files.createDirectories(data);
      try {
        lostTotal += crashOnce(data, seed);
      } catch (AssertionError | Exception e) {
        throw new AssertionError("crash point with seed " + seed + " (replay with -Ddynamicfs.seed=" + seed + ")", e);
      }
    }
    System.out.println("IntentLogPowerLossTest: " + points + " crash points, " + lostTotal
        + " unsynced log bytes lost or damaged");
  }

  /** One workload, one crash, one check; returns the unsynced log bytes the crash damaged. */
  private long crashOnce(Path data, long seed) throws Exception {
    Random r = new Random(seed);
    byte[][] model = new byte[FILES][];
    byte[][] durable = new byte[FILES][];
    long[] inos = new long[FILES];
    PowerLossLogStorage storage;
    try (DataDirectory dir = DataDirectory.open(data, FORMAT)) {
      DataDirectory d = dir;
      storage = new PowerLossLogStorage(d.intentDir());
      DynamicFileSystem fs = DynamicFileSystem.open(d, options(), storage);
      long[] h = new long[FILES];
      for (int f = 0; f < FILES; f++) {
        inos[f] = fs.create(ME, FileSystem.ROOT_INO, "f" + f, 0644, O_RDWR).attr().ino();
        h[f] = fs.open(ME, inos[f], O_RDWR);
        model[f] = new byte[(2 + r.nextInt(4)) * BS + r.nextInt(BS)];
        r.nextBytes(model[f]);
        fs.write(h[f], 0, model[f], 0, model[f].length);
        fs.fsync(h[f], false);
        durable[f] = model[f].clone();
      }
      int steps = 5 + r.nextInt(300);
      if (r.nextBoolean()) {
        storage.armAfter(r.nextInt(steps), r); // the power goes inside an fsync, between append and commit
      }
      try {
        workload(fs, r, steps, h, model, durable);
      } catch (IOException e) {
        if (!storage.dead()) {
          throw e;
        }
      }
      fs.crashForTest();
      storage.crash(r);
    }
    try (DataDirectory dir = DataDirectory.open(data, FORMAT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, options())) {
      for (int f = 0; f < FILES; f++) {
        long h = fs.open(ME, inos[f], O_RDWR);
        assertEquals(durable[f].length, fs.getattr(inos[f]).size(), "size of f" + f);
        byte[] got = new byte[durable[f].length];
        int done = 0;
        while (done < got.length) {
          int n = fs.read(h, done, got, done, got.length - done);
          if (n == 0) {
            break;
          }
          done += n;
        }
        int bad = Arrays.mismatch(got, durable[f]);
        int file = f;
        assertEquals(-1, bad, () -> "f" + file + ": first wrong byte at " + bad);
        fs.release(h);
      }
    }
    try (DataDirectory dir = DataDirectory.open(data, FORMAT);
        MetadataStore meta = MetadataStore.open(dir.metaDir(), BS);
        SegmentStore store = SegmentStore.openForCheck(dir.blocksDir(), Codec.LZ4);
        IntentLog log = new IntentLog(new DirectoryLogStorage(dir.intentDir()), 8L << 20)) {
      List<Fsck.Problem> problems = new ArrayList<>(Fsck.check(meta, store, true, s -> { }).problems());
      problems.addAll(Fsck.checkOverlays(meta, log));
      assertEquals(List.of(), problems, "fsck after the power loss and a mount");
    }
    return storage.unsyncedBytesLost();
  }

  /** Small writes, fsyncs (each makes its file's content durable) and folds (after an fsync of every file). */
  private static void workload(DynamicFileSystem fs, Random r, int steps, long[] h, byte[][] model,
      byte[][] durable) throws IOException {
    for (int s = 0; s < steps; s++) {
      int f = r.nextInt(FILES);
      int op = r.nextInt(100);
      if (op < 60) {
        byte[] b = new byte[1 + r.nextInt(r.nextBoolean() ? 200 : 6000)];
        r.nextBytes(b);
        long off = r.nextInt(4) == 0 ? model[f].length - r.nextInt(Math.min(100, model[f].length))
            : r.nextInt(model[f].length);
        fs.write(h[f], off, b, 0, b.length);
        if (off + b.length > model[f].length) {
          model[f] = Arrays.copyOf(model[f], (int) (off + b.length));
        }
        System.arraycopy(b, 0, model[f], (int) off, b.length);
      } else if (op < 95) {
        fs.fsync(h[f], r.nextBoolean());
        durable[f] = model[f].clone();
      } else {
        for (int g = 0; g < FILES; g++) { // a fold commits a file's unsynced writes too: sync them first
          fs.fsync(h[g], false);
          durable[g] = model[g].clone();
        }
        fs.foldIntents();
      }
    }
  }
}
