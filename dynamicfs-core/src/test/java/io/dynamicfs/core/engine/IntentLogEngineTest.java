package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The intent log in the engine: what fsync stores, recovery without a fold, back-pressure, concurrency. */
class IntentLogEngineTest {
  private static final int BS = 1 << 20;
  private static final FormatOptions FORMAT = new FormatOptions(BS, Codec.LZ4, 4096);
  private static final Caller ME = new Caller(1000, 1000, 1);
  private static final int O_RDWR = 2;

  @TempDir Path data;

  private static EngineOptions options(long intentBytes) {
    // no periodic commit during a test: what is durable is what fsync made so
    return new EngineOptions(UnaryOperator.identity(), TimeSource.SYSTEM, 2, Duration.ofHours(1), 64L << 20)
        .withIntentLogBytes(intentBytes);
  }

  private static byte[] read(DynamicFileSystem fs, long h, int len) throws IOException {
    byte[] got = new byte[len];
    int done = 0;
    while (done < len) {
      int n = fs.read(h, done, got, done, len - done);
      if (n == 0) {
        break;
      }
      done += n;
    }
    return Arrays.copyOf(got, done);
  }

  private static long intentFiles(DataDirectory dir) throws IOException {
    try (Stream<Path> s = Files.list(dir.intentDir())) {
      return s.count();
    }
  }

  @Test
  void fsync_ofA4KiBChange_logsItWithoutStoringABlock() throws IOException {
    try (DataDirectory dir = DataDirectory.open(data, FORMAT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, options(64L << 20))) {
      long ino = fs.create(ME, FileSystem.ROOT_INO, "db", 0644, O_RDWR).attr().ino();
      long h = fs.open(ME, ino, O_RDWR);
      byte[] model = new byte[4 * BS];
      new Random(1).nextBytes(model);
      fs.write(h, 0, model, 0, model.length);
      fs.fsync(h, false);
      BlockStore store = fs.blockStore();
      long blocks = store.stats().blocks();
      byte[] page = new byte[4096];
      Arrays.fill(page, (byte) 7);
      for (int i = 0; i < 20; i++) {
        long off = (long) i * 200_000;
        fs.write(h, off, page, 0, page.length);
        System.arraycopy(page, 0, model, (int) off, page.length);
        fs.fsync(h, true);
      }
      assertEquals(blocks, store.stats().blocks(), "no block was stored for the 4 KiB fsyncs");
      assertTrue(fs.intentLogBytes() >= 20 * 4096, "the changes are in the log: " + fs.intentLogBytes());
      assertArrayEquals(model, read(fs, h, model.length));
      fs.release(h);
    }
  }

  @Test
  void reopenAfterCrash_withoutFold_readsOverlays_thenFoldReclaimsTheLog() throws IOException {
    byte[] model = new byte[3 * BS + 777];
    new Random(2).nextBytes(model);
    Random r = new Random(3);
    long ino;
    try (DataDirectory dir = DataDirectory.open(data, FORMAT)) {
      DynamicFileSystem fs = DynamicFileSystem.open(dir, options(64L << 20));
      ino = fs.create(ME, FileSystem.ROOT_INO, "f", 0644, O_RDWR).attr().ino();
      long h = fs.open(ME, ino, O_RDWR);
      fs.write(h, 0, model, 0, model.length);
      fs.fsync(h, false);
      for (int i = 0; i < 200; i++) {
        byte[] b = new byte[1 + r.nextInt(3000)];
        r.nextBytes(b);
        int off = r.nextInt(model.length - b.length);
        fs.write(h, off, b, 0, b.length);
        System.arraycopy(b, 0, model, off, b.length);
        if (r.nextInt(3) == 0) {
          fs.fsync(h, false);
        }
      }
      fs.fsync(h, false);
      fs.crashForTest();
    }
    try (DataDirectory dir = DataDirectory.open(data, FORMAT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, options(64L << 20))) {
      long[] overlays = {0};
      fs.metadata().forEachOverlay((i, o) -> overlays[0]++);
      assertTrue(overlays[0] > 50, "the synced changes are overlays still: " + overlays[0]);
      long h = fs.open(ME, ino, O_RDWR);
      assertArrayEquals(model, read(fs, h, model.length + 1), "read through the overlays after the crash");
      assertTrue(fs.foldIntents() > 0);
      assertEquals(0, fs.foldIntents(), "folding again changes nothing");
      assertArrayEquals(model, read(fs, h, model.length + 1), "after the fold");
      assertEquals(0, fs.intentLogBytes());
      assertEquals(0, intentFiles(dir), "the fold deleted every log file");
      fs.release(h);
    }
  }

  @Test
  void fullLog_foldsBeforeTheNextFsync_andStaysWithinItsBound() throws IOException {
    long bound = 4L << 20;
    try (DataDirectory dir = DataDirectory.open(data, FORMAT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, options(bound))) {
      long ino = fs.create(ME, FileSystem.ROOT_INO, "f", 0644, O_RDWR).attr().ino();
      long h = fs.open(ME, ino, O_RDWR);
      byte[] model = new byte[8 * BS];
      fs.write(h, 0, model, 0, model.length);
      fs.fsync(h, false);
      Random r = new Random(4);
      long most = 0;
      boolean shrank = false;
      long before = 0;
      for (int i = 0; i < 3000; i++) {
        byte[] page = new byte[4096];
        r.nextBytes(page);
        int off = r.nextInt(model.length / 4096) * 4096;
        fs.write(h, off, page, 0, page.length);
        System.arraycopy(page, 0, model, off, page.length);
        fs.fsync(h, false);
        long now = fs.intentLogBytes();
        shrank |= now < before;
        before = now;
        most = Math.max(most, now);
      }
      assertTrue(shrank, "the log was folded and reclaimed on the way");
      assertTrue(most <= bound + 4096 + 64, "the log stayed within its bound plus one fsync's records: " + most);
      assertArrayEquals(model, read(fs, h, model.length));
      fs.release(h);
    }
  }

  @Test
  void concurrentFsyncsOnSeveralFiles_withFoldsRunning_keepEveryByte() throws Exception {
    int files = 4;
    try (DataDirectory dir = DataDirectory.open(data, FORMAT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, options(8L << 20))) {
      long[] inos = new long[files];
      long[] handles = new long[files];
      byte[][] models = new byte[files][2 * BS + 5000];
      for (int f = 0; f < files; f++) {
        inos[f] = fs.create(ME, FileSystem.ROOT_INO, "f" + f, 0644, O_RDWR).attr().ino();
        handles[f] = fs.open(ME, inos[f], O_RDWR);
        new Random(f).nextBytes(models[f]);
        fs.write(handles[f], 0, models[f], 0, models[f].length);
        fs.fsync(handles[f], false);
      }
      ExecutorService pool = Executors.newFixedThreadPool(files);
      List<Future<?>> writers = new ArrayList<>();
      for (int f = 0; f < files; f++) {
        int file = f;
        writers.add(pool.submit(() -> {
          Random r = new Random(100 + file);
          for (int i = 0; i < 400; i++) {
            byte[] b = new byte[1 + r.nextInt(6000)];
            r.nextBytes(b);
            int off = r.nextInt(models[file].length - b.length);
            fs.write(handles[file], off, b, 0, b.length);
            System.arraycopy(b, 0, models[file], off, b.length);
            if (r.nextBoolean()) {
              fs.fsync(handles[file], false);
            }
            if (r.nextInt(10) == 0) {
              byte[] got = new byte[b.length];
              assertEquals(b.length, fs.read(handles[file], off, got, 0, b.length));
              assertArrayEquals(b, got);
            }
          }
          fs.fsync(handles[file], false);
          return null;
        }));
      }
      int folds = 0;
      try {
        while (!writers.stream().allMatch(Future::isDone)) {
          fs.foldIntents();
          folds++;
        }
        for (Future<?> w : writers) {
          w.get();
        }
      } finally {
        // never close the engine under running writers (a closed RocksDB handle crashes the JVM)
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(60, java.util.concurrent.TimeUnit.SECONDS), "writers stopped");
      }
      assertTrue(folds > 0);
      for (int f = 0; f < files; f++) {
        assertArrayEquals(models[f], read(fs, handles[f], models[f].length + 1), "file " + f);
      }
      fs.foldIntents();
      for (int f = 0; f < files; f++) {
        assertArrayEquals(models[f], read(fs, handles[f], models[f].length + 1), "file " + f + " after the fold");
        fs.release(handles[f]);
      }
      assertFalse(fs.intentLogBytes() > 0);
    }
  }

  /**
   * Intent-log storage whose next append (or sync) waits at a gate the test opens, and may then fail: so a
   * test can read and write while an fsync is between taking its buffers and publishing their overlays.
   */
  private static final class GatedStorage implements io.dynamicfs.core.intent.LogStorage {
    final io.dynamicfs.core.intent.DirectoryLogStorage real;
    volatile java.util.concurrent.CountDownLatch entered;
    volatile java.util.concurrent.CountDownLatch gate;
    volatile boolean armed;
    volatile boolean failAppend;

    GatedStorage(Path dir) throws IOException {
      real = new io.dynamicfs.core.intent.DirectoryLogStorage(dir);
    }

    void arm(boolean fail) {
      entered = new java.util.concurrent.CountDownLatch(1);
      gate = new java.util.concurrent.CountDownLatch(1);
      failAppend = fail;
      armed = true;
    }

    @Override
    public java.util.SortedSet<Integer> list() throws IOException {
      return real.list();
    }

    @Override
    public void create(int file) throws IOException {
      real.create(file);
    }

    @Override
    public void append(int file, java.nio.ByteBuffer data) throws IOException {
      java.util.concurrent.CountDownLatch g = gate;
      if (armed) {
        armed = false;
        entered.countDown();
        try {
          g.await();
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
        if (failAppend) {
          throw new IOException("no space left on device (injected)");
        }
      }
      real.append(file, data);
    }

    @Override
    public void sync(int file) throws IOException {
      real.sync(file);
    }

    @Override
    public int read(int file, long pos, java.nio.ByteBuffer dst) throws IOException {
      return real.read(file, pos, dst);
    }

    @Override
    public long size(int file) throws IOException {
      return real.size(file);
    }

    @Override
    public void delete(int file) throws IOException {
      real.delete(file);
    }

    @Override
    public void close() throws IOException {
      real.close();
    }
  }

  @Test
  void whileAnFsyncLogs_readsSeeItsBytes_andNewWritesLayerOverThem_evenWhenTheLogFails() throws Exception {
    for (boolean fail : new boolean[] {false, true}) {
      Path d = data.resolve(fail ? "failing" : "ok");
      Files.createDirectories(d);
      byte[] model = new byte[2 * BS + 100];
      new Random(7).nextBytes(model);
      long ino;
      try (DataDirectory dir = DataDirectory.open(d, FORMAT)) {
        GatedStorage storage = new GatedStorage(dir.intentDir());
        DynamicFileSystem fs = DynamicFileSystem.open(dir, options(64L << 20), storage);
        ino = fs.create(ME, FileSystem.ROOT_INO, "f", 0644, O_RDWR).attr().ino();
        long h = fs.open(ME, ino, O_RDWR);
        fs.write(h, 0, model, 0, model.length);
        fs.fsync(h, false);
        Random r = new Random(8);
        byte[] first = new byte[300];
        r.nextBytes(first);
        fs.write(h, 5000, first, 0, first.length); // a sparse buffer: block 0 is not read
        System.arraycopy(first, 0, model, 5000, first.length);
        storage.arm(fail);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        Future<?> fsync = pool.submit(() -> {
          fs.fsync(h, false);
          return null;
        });
        assertTrue(storage.entered.await(30, java.util.concurrent.TimeUnit.SECONDS));
        // the fsync holds block 0's buffer in its log step: reads see it, writes go on over it
        assertArrayEquals(Arrays.copyOfRange(model, 4000, 6000), readAt(fs, h, 4000, 2000));
        byte[] second = new byte[100];
        r.nextBytes(second);
        fs.write(h, 5250, second, 0, second.length); // overlaps the end of the first write, and beyond
        System.arraycopy(second, 0, model, 5250, second.length);
        fs.write(h, 9000, second, 0, 10);
        System.arraycopy(second, 0, model, 9000, 10);
        assertArrayEquals(Arrays.copyOfRange(model, 4000, 10000), readAt(fs, h, 4000, 6000));
        storage.gate.countDown();
        if (fail) {
          java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
              java.util.concurrent.ExecutionException.class, fsync::get);
          assertTrue(e.getCause() instanceof IOException, "the fsync reports the log's failure: " + e.getCause());
        } else {
          fsync.get();
        }
        pool.shutdown();
        assertArrayEquals(model, read(fs, h, model.length + 1), "after the fsync " + (fail ? "failed" : "returned"));
        fs.fsync(h, false); // (again) everything, through a working log
        fs.crashForTest();
      }
      try (DataDirectory dir = DataDirectory.open(d, FORMAT);
          DynamicFileSystem fs = DynamicFileSystem.open(dir, options(64L << 20))) {
        long h = fs.open(ME, ino, O_RDWR);
        assertArrayEquals(model, read(fs, h, model.length + 1), "after a crash, " + (fail ? "failing" : "working") + " log");
        fs.release(h);
      }
    }
  }

  private static byte[] readAt(DynamicFileSystem fs, long h, long off, int len) throws IOException {
    byte[] got = new byte[len];
    assertEquals(len, fs.read(h, off, got, 0, len));
    return got;
  }
}
