package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.intent.DirectoryLogStorage;
import io.dynamicfs.core.intent.IntentLog;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write intent log against a byte array: small random writes with fsync after many of them (so most
 * changes live as overlays), folds (twice in a row: the second finds nothing), truncates, punch-hole and
 * zero-range, reads, engine reopens, and crashes right after an fsync (no commit at close, no fold: the
 * overlays alone must give every byte back). 64 KiB blocks; fsck at the end, including every overlay's
 * record.
 *
 * <p>The seed is random per run and printed on failure; replay with {@code -Ddynamicfs.seed=N}; more steps
 * with {@code -Ddynamicfs.intentOps=N}.
 */
class IntentLogModelTest {
  private static final int BS = 64 << 10;
  private static final FormatOptions FORMAT = new FormatOptions(BS, Codec.LZ4, 4096);
  private static final Caller ME = new Caller(1000, 1000, 1);
  private static final int O_RDWR = 2;
  private static final int KEEP_SIZE = 1;
  private static final int PUNCH_HOLE = 2;
  private static final int ZERO_RANGE = 0x10;

  @TempDir Path data;

  @Test
  void randomSmallWritesFsyncsFoldsTruncatesAndCrashes_matchByteArrayModel() throws Exception {
    long seed = Long.getLong("dynamicfs.seed", System.nanoTime());
    Run run = new Run(seed);
    try {
      run.execute(Integer.getInteger("dynamicfs.intentOps", 4000));
    } catch (AssertionError | Exception e) {
      System.out.println("IntentLogModelTest seed=" + seed);
      throw new AssertionError("model mismatch with seed " + seed + " (replay with -Ddynamicfs.seed=" + seed
          + "); last operations:\n  " + String.join("\n  ", run.trace), e);
    } finally {
      run.close();
    }
    assertTrue(run.overlaysSeen > 100, "fsyncs went through the intent log: " + run.overlaysSeen + " overlays seen");
    assertTrue(run.foldedBlocks > 10 && run.crashes > 3, "folds " + run.foldedBlocks + ", crashes " + run.crashes);
  }

  private final class Run implements AutoCloseable {
    final Random r;
    final int maxSize = 24 * BS;
    final ArrayDeque<String> trace = new ArrayDeque<>();
    byte[] model = new byte[0];
    DataDirectory dir;
    DynamicFileSystem fs;
    long ino;
    long h;
    long overlaysSeen;
    long foldedBlocks;
    int crashes;

    Run(long seed) {
      r = new Random(seed);
    }

    void note(String s) {
      trace.addLast(s);
      if (trace.size() > 30) {
        trace.removeFirst();
      }
    }

    void open() throws IOException {
      dir = DataDirectory.open(data, FORMAT);
      fs = DynamicFileSystem.open(dir, EngineOptions.defaults().withIntentLogBytes(16L << 20));
    }

    void execute(int ops) throws IOException {
      open();
      ino = fs.create(ME, FileSystem.ROOT_INO, "f", 0644, O_RDWR).attr().ino();
      h = fs.open(ME, ino, O_RDWR);
      write(0, random(8 * BS + 123)); // a file of whole blocks to change in small pieces
      fs.fsync(h, false);
      for (int step = 0; step < ops; step++) {
        int op = r.nextInt(100);
        if (op < 45) {
          smallWrite();
        } else if (op < 48) {
          long off = r.nextInt(maxSize - 3 * BS);
          write(off, random(BS + r.nextInt(2 * BS)));
        } else if (op < 68) {
          note("fsync");
          fs.fsync(h, r.nextBoolean());
          overlaysSeen += overlayCount();
        } else if (op < 80) {
          read();
        } else if (op < 83) {
          fold();
        } else if (op < 85) {
          int size = r.nextBoolean() ? r.nextInt(Math.max(1, model.length + 1)) : r.nextInt(maxSize);
          note("truncate " + size);
          fs.setattr(ME, ino, SetAttr.truncate(size), h);
          model = Arrays.copyOf(model, size);
        } else if (op < 89) {
          punchOrZero();
        } else if (op < 92) {
          crash();
        } else if (op < 93) {
          note("reopen");
          fs.release(h);
          fs.close();
          dir.close();
          open();
          h = fs.open(ME, ino, O_RDWR);
          checkAll("after reopen");
        } else {
          checkAll("full compare");
        }
        assertEquals(model.length, fs.getattr(ino).size(), "size after " + trace.peekLast());
      }
      checkAll("at the end");
      fs.release(h);
      fs.close();
      fs = null;
      try (MetadataStore meta = MetadataStore.open(dir.metaDir(), BS);
          SegmentStore store = SegmentStore.openForCheck(dir.blocksDir(), Codec.LZ4);
          IntentLog log = new IntentLog(new DirectoryLogStorage(dir.intentDir()), 16L << 20)) {
        Fsck.Report rep = Fsck.check(meta, store, true, s -> { });
        assertEquals(List.of(), rep.problems(), "fsck at the end");
        assertEquals(List.of(), Fsck.checkOverlays(meta, log), "every overlay's record reads back");
      }
    }

    long overlayCount() throws IOException {
      long[] n = {0};
      fs.metadata().forEachOverlay((i, o) -> n[0]++);
      return n[0];
    }

    byte[] random(int len) {
      byte[] b = new byte[len];
      if (r.nextInt(4) == 0) {
        Arrays.fill(b, (byte) r.nextInt(3)); // zeros or runs
      } else {
        r.nextBytes(b);
      }
      return b;
    }

    void smallWrite() throws IOException {
      long off = switch (r.nextInt(4)) {
        case 0 -> Math.max(0, model.length - r.nextInt(64)); // appends, as a journal does
        case 1 -> (long) r.nextInt(maxSize / 4096) * 4096; // page-aligned, as a database does
        case 2 -> Math.max(0, (long) r.nextInt(maxSize / BS) * BS - r.nextInt(100)); // across a boundary
        default -> r.nextInt(maxSize - 8192);
      };
      write(off, random(1 + r.nextInt(r.nextBoolean() ? 100 : 8192)));
    }

    void write(long off, byte[] b) throws IOException {
      note("write @" + off + " +" + b.length);
      int piece = r.nextBoolean() ? b.length : 1 + r.nextInt(4096);
      for (int done = 0; done < b.length; ) {
        int n = Math.min(piece, b.length - done);
        assertEquals(n, fs.write(h, off + done, b, done, n));
        done += n;
      }
      if (off + b.length > model.length) {
        model = Arrays.copyOf(model, (int) (off + b.length));
      }
      System.arraycopy(b, 0, model, (int) off, b.length);
    }

    void fold() throws IOException {
      note("fold");
      fs.fsync(h, false); // folding commits the file's other changes too; the model needs no such subtlety
      int n = fs.foldIntents();
      foldedBlocks += n;
      assertEquals(0, overlayCount(), "a fold leaves no overlays");
      assertEquals(0, fs.foldIntents(), "a second fold finds nothing");
      assertEquals(0, fs.intentLogBytes(), "a fold reclaims every log file");
    }

    void punchOrZero() throws IOException {
      if (model.length == 0) {
        return;
      }
      long off = r.nextInt(model.length);
      long len = 1 + r.nextInt(3 * BS);
      int mode = switch (r.nextInt(3)) {
        case 0 -> PUNCH_HOLE | KEEP_SIZE;
        case 1 -> ZERO_RANGE | KEEP_SIZE;
        default -> ZERO_RANGE;
      };
      note("fallocate mode " + mode + " @" + off + " +" + len);
      fs.fallocate(ME, h, mode, off, len);
      long end = Math.min(off + len, model.length);
      if ((mode & KEEP_SIZE) == 0 && off + len > model.length) {
        model = Arrays.copyOf(model, (int) (off + len));
      }
      Arrays.fill(model, (int) off, (int) Math.max(off, end), (byte) 0);
    }

    /** fsync, then stop as a crash would: the reopened engine must give back exactly what was synced. */
    void crash() throws IOException {
      note("fsync and crash");
      fs.fsync(h, false);
      overlaysSeen += overlayCount();
      fs.crashForTest();
      dir.close();
      crashes++;
      open();
      h = fs.open(ME, ino, O_RDWR);
      checkAll("after a crash");
    }

    void read() throws IOException {
      long off = r.nextInt(maxSize);
      int len = 1 + r.nextInt(r.nextBoolean() ? 8192 : 2 * BS);
      note("read @" + off + " +" + len);
      byte[] got = new byte[len];
      int n = fs.read(h, off, got, 0, len);
      int want = (int) Math.max(0, Math.min(len, model.length - off));
      assertEquals(want, n, "bytes read at " + off);
      int from = (int) Math.min(off, model.length);
      int bad = Arrays.mismatch(Arrays.copyOf(got, n), Arrays.copyOfRange(model, from, from + n));
      assertEquals(-1, bad, () -> "first wrong byte at file offset " + (off + bad) + " (block " + (off + bad) / BS
          + ", in-block " + (off + bad) % BS + ")");
    }

    void checkAll(String when) throws IOException {
      byte[] got = new byte[model.length + 10];
      int done = 0;
      while (done < got.length) {
        int n = fs.read(h, done, got, done, got.length - done);
        if (n == 0) {
          break;
        }
        done += n;
      }
      assertEquals(model.length, done, when + ": file length");
      int bad = Arrays.mismatch(Arrays.copyOf(got, done), model);
      assertEquals(-1, bad, () -> when + ": first wrong byte at " + bad + " (block " + bad / BS + ")");
    }

    @Override
    public void close() throws IOException {
      if (fs != null) {
        fs.close();
      }
      if (dir != null) {
        dir.close();
      }
    }
  }
}
