package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random writes, truncates and reads on one file through the engine, compared step by step with a plain
 * byte array. Commits (flush, fsync, release, setattr), engine reopens and uncommitted shrinks happen at
 * random points; blocks are 64 KiB so writes cross them constantly, and the data mixes noise, zeros
 * (holes), compressible runs and block-aligned repeats (dedup).
 *
 * <p>The seed is random per run and printed on failure; replay with {@code -Ddynamicfs.seed=N}. Set
 * {@code -Ddynamicfs.modelOps=N} for a longer run.
 */
class ContentModelTest {
  private static final int BS = 64 << 10;
  private static final FormatOptions FORMAT = new FormatOptions(BS, Codec.LZ4, 4096);
  private static final Caller ME = new Caller(1000, 1000, 1);
  private static final int O_RDWR = 2;
  private static final int O_WRONLY = 1;
  private static final int O_TRUNC = 01000;
  private static final int O_APPEND = 02000;

  @TempDir Path data;

  @Test
  void randomOps_onOneFile_matchByteArrayModel() throws Exception {
    check(20, Integer.getInteger("dynamicfs.modelOps", 2500), false);
  }

  @Test
  void randomOps_onLargeFileWithBackgroundCommits_matchByteArrayModel() throws Exception {
    // Past 64 pending blocks a commit starts in the background while writes, truncates and reads go on.
    check(100, Integer.getInteger("dynamicfs.modelOps", 2500) / 4, true);
  }

  private void check(int maxBlocks, int ops, boolean longWrites) throws Exception {
    long seed = Long.getLong("dynamicfs.seed", System.nanoTime());
    Run run = new Run(seed, maxBlocks * BS, longWrites);
    try {
      run.execute(ops);
    } catch (AssertionError | Exception e) {
      System.out.println("ContentModelTest seed=" + seed);
      throw new AssertionError("model mismatch with seed " + seed + " (replay with -Ddynamicfs.seed=" + seed
          + "); last operations:\n  " + String.join("\n  ", run.trace), e);
    } finally {
      run.close();
    }
    assertTrue(run.commits > ops / 25 && run.reads > ops / 8, () -> "too few commits or reads: "
        + run.commits + "/" + run.reads);
  }

  private final class Run implements AutoCloseable {
    final Random r;
    final int maxSize;
    final boolean longWrites;
    final ArrayDeque<String> trace = new ArrayDeque<>();
    final byte[] pattern = new byte[BS];
    byte[] model = new byte[0];
    DataDirectory dir;
    DynamicFileSystem fs;
    long ino;
    long rw;
    long append;
    int commits;
    int reads;

    Run(long seed, int maxSize, boolean longWrites) {
      this.maxSize = maxSize;
      this.longWrites = longWrites;
      r = new Random(seed);
      r.nextBytes(pattern);
    }

    void note(String s) {
      trace.addLast(s);
      if (trace.size() > 25) {
        trace.removeFirst();
      }
    }

    void open() throws IOException {
      dir = DataDirectory.open(data, FORMAT);
      fs = DynamicFileSystem.open(dir, EngineOptions.defaults());
    }

    void execute(int ops) throws IOException {
      open();
      OpenResult c = fs.create(ME, FileSystem.ROOT_INO, "model", 0644, O_RDWR);
      ino = c.attr().ino();
      rw = c.handle();
      append = fs.open(ME, ino, O_WRONLY | O_APPEND);
      for (int step = 0; step < ops; step++) {
        int op = r.nextInt(100);
        if (op < 40) {
          write();
        } else if (op < 45) {
          appendWrite();
        } else if (op < 52) {
          truncateCommitted();
        } else if (op < 57) {
          truncateUncommitted();
        } else if (op < 59) {
          openTruncating();
        } else if (op < 80) {
          read();
        } else if (op < 88) {
          note("flush");
          fs.flush(rw);
          commits++;
        } else if (op < 91) {
          note("fsync");
          fs.fsync(r.nextBoolean() ? rw : append, r.nextBoolean());
          commits++;
        } else if (op < 97) {
          note("release and reopen handles");
          fs.release(rw);
          fs.release(append);
          commits++;
          rw = fs.open(ME, ino, O_RDWR);
          append = fs.open(ME, ino, O_WRONLY | O_APPEND);
        } else if (r.nextInt(10) == 0) {
          note("reopen engine");
          fs.close(); // commits the open file
          dir.close();
          open();
          commits++;
          rw = fs.open(ME, ino, O_RDWR);
          append = fs.open(ME, ino, O_WRONLY | O_APPEND);
          checkAll("after reopen");
        } else {
          note("full compare");
          checkAll("full compare");
        }
        assertEquals(model.length, fs.getattr(ino).size(), "size after " + trace.peekLast());
      }
      checkAll("at the end");
      fs.release(rw);
      fs.release(append);
      fs.close();
      dir.close();
      open();
      long h = fs.open(ME, ino, O_RDWR);
      rw = h;
      append = -1;
      checkAll("after the final reopen");
      fs.release(h);
      fs.close();
      fs = null;
      try (MetadataStore meta = MetadataStore.open(dir.metaDir(), BS);
          SegmentStore store = SegmentStore.openForCheck(dir.blocksDir(), Codec.LZ4)) {
        Fsck.Report rep = Fsck.check(meta, store, true, s -> {});
        assertEquals(List.of(), rep.problems(), "fsck at the end");
        assertEquals(List.of(), store.damage());
      }
    }

    /** An offset that often sits on or next to a block boundary or the end of the file. */
    long offset() {
      return switch (r.nextInt(4)) {
        case 0 -> Math.max(0, (long) r.nextInt(maxSize / BS) * BS + r.nextInt(3) - 1);
        case 1 -> Math.max(0, model.length + r.nextInt(2 * BS) - BS);
        default -> r.nextInt(maxSize);
      };
    }

    int length(long off) {
      int len = switch (r.nextInt(4)) {
        case 0 -> 1 + r.nextInt(16);
        case 1 -> 1 + r.nextInt(3 * BS);
        case 2 -> BS;
        default -> 1 + r.nextInt(BS / 2);
      };
      return (int) Math.max(1, Math.min(len, maxSize - Math.max(0, off)));
    }

    byte[] content(long off, int len) {
      byte[] b = new byte[len];
      switch (r.nextInt(5)) {
        case 0 -> r.nextBytes(b);
        case 1 -> { } // zeros: whole zero blocks become holes
        case 2 -> Arrays.fill(b, (byte) ('a' + r.nextInt(26))); // compressible
        case 3 -> {
          for (int i = 0; i < len; i++) {
            b[i] = pattern[(int) ((off + i) % BS)]; // aligned repeats dedup
          }
        }
        default -> {
          r.nextBytes(b);
          for (int i = 0; i < len; i += 1 + r.nextInt(64)) {
            Arrays.fill(b, i, Math.min(len, i + r.nextInt(200)), (byte) 0);
          }
        }
      }
      return b;
    }

    void applyToModel(long off, byte[] b) {
      if (off + b.length > model.length) {
        model = Arrays.copyOf(model, (int) (off + b.length));
      }
      System.arraycopy(b, 0, model, (int) off, b.length);
    }

    void write() throws IOException {
      long off = Math.min(offset(), maxSize - 1);
      int len = length(off);
      if (longWrites && r.nextInt(3) == 0) {
        // A long run: more than 64 new blocks start a background commit in the middle of the write.
        off = r.nextInt(maxSize / 5);
        len = (int) Math.min(BS * (20 + r.nextInt(60)) + r.nextInt(BS), maxSize - off);
      }
      byte[] b = content(off, len);
      note("write @" + off + " +" + len);
      writeAll(rw, off, b);
      applyToModel(off, b);
    }

    void appendWrite() throws IOException {
      if (model.length >= maxSize - 1) {
        return;
      }
      int len = length(model.length);
      byte[] b = content(model.length, len);
      long bogus = r.nextInt(maxSize);
      note("append +" + len + " (offset given " + bogus + ")");
      writeAll(append, bogus, b);
      applyToModel(model.length, b);
    }

    void writeAll(long h, long off, byte[] b) throws IOException {
      int piece = r.nextBoolean() ? b.length : 1 + r.nextInt(128 << 10);
      for (int done = 0; done < b.length; ) {
        int n = Math.min(piece, b.length - done);
        assertEquals(n, fs.write(h, off + done, b, done, n));
        done += n;
      }
    }

    int newSize() {
      return switch (r.nextInt(4)) {
        case 0 -> 0;
        case 1 -> r.nextInt(maxSize / BS) * BS;
        case 2 -> Math.max(0, model.length - 1 - r.nextInt(BS));
        default -> r.nextInt(maxSize);
      };
    }

    void truncateCommitted() throws IOException {
      int size = newSize();
      note("setattr size " + size);
      fs.setattr(ME, ino, SetAttr.truncate(size), rw);
      model = Arrays.copyOf(model, size);
      commits++;
    }

    void truncateUncommitted() throws IOException {
      int size = newSize();
      note("open-file truncate " + size + " (no commit)");
      openFile().truncate(size);
      model = Arrays.copyOf(model, size);
    }

    void openTruncating() throws IOException {
      note("open O_TRUNC");
      long h = fs.open(ME, ino, O_RDWR | O_TRUNC);
      model = new byte[0];
      if (r.nextBoolean()) {
        fs.release(rw);
        rw = h;
      } else {
        fs.release(h);
        commits++;
      }
    }

    void read() throws IOException {
      long off = r.nextInt(4) == 0 ? r.nextInt(maxSize + BS) : offset();
      int len = 1 + r.nextInt(2 * BS);
      note("read @" + off + " +" + len);
      byte[] got = new byte[len];
      int n = fs.read(rw, off, got, 0, len);
      int want = (int) Math.max(0, Math.min(len, model.length - off));
      assertEquals(want, n, "bytes read at " + off);
      int bad = Arrays.mismatch(Arrays.copyOf(got, n), Arrays.copyOfRange(model, (int) Math.min(off, model.length),
          (int) Math.min(off, model.length) + n));
      assertEquals(-1, bad, () -> "first wrong byte at file offset " + (off + bad) + " (block "
          + (off + bad) / BS + ", in-block " + (off + bad) % BS + "): got " + got[bad] + ", model "
          + model[(int) (off + bad)]);
      reads++;
    }

    void checkAll(String when) throws IOException {
      byte[] got = new byte[model.length + 10];
      int done = 0;
      while (done < got.length) {
        int n = fs.read(rw, done, got, done, got.length - done);
        if (n == 0) {
          break;
        }
        done += n;
      }
      assertEquals(model.length, done, when + ": file length");
      int bad = Arrays.mismatch(Arrays.copyOf(got, done), model);
      assertEquals(-1, bad, () -> when + ": first wrong byte at " + bad + " (block " + bad / BS + ")");
      reads++;
    }

    OpenFile openFile() {
      return fs.openFileForTest(ino);
    }

    @Override
    public void close() throws IOException {
      try {
        if (fs != null) {
          fs.close();
        }
      } finally {
        if (dir != null) {
          dir.close();
        }
      }
    }
  }
}
