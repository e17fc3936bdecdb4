package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.FormatOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine tells its {@link AccessObserver} of every read and write served through a handle, whatever
 * served the bytes: a block being written, a stored block, inline bytes or a hole; with the offset the
 * bytes were at (for an append, where it landed), the count actually read, and the engine's clock.
 */
class AccessObserverTest {
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final int BS = 64 << 10;
  private static final int O_RDWR = 2;
  private static final int O_APPEND = 02000;

  /** What the observer heard: kind (r/w), inode, offset, length, time. */
  record Access(char kind, long ino, long offset, int length, long nanos) {}

  /** Records every call; the engine may call from any thread. */
  static final class Recording implements AccessObserver {
    final List<Access> seen = new ArrayList<>();

    @Override
    public synchronized void read(long ino, long offset, int length, long nanos) {
      seen.add(new Access('r', ino, offset, length, nanos));
    }

    @Override
    public synchronized void write(long ino, long offset, int length, long nanos) {
      seen.add(new Access('w', ino, offset, length, nanos));
    }

    synchronized List<Access> takeAll() {
      List<Access> out = List.copyOf(seen);
      seen.clear();
      return out;
    }
  }

  @TempDir Path data;
  private DynamicFileSystemTest.Engine engine;
  private DynamicFileSystem fs;
  private final Recording observer = new Recording();
  private long now = 1_000_000_000L;

  @BeforeEach
  void open() throws Exception {
    engine = new DynamicFileSystemTest.Engine(data, new FormatOptions(BS, Codec.LZ4, 4096));
    engine.options = EngineOptions.defaults().withClock(() -> now).withAccessObserver(observer);
    fs = engine.reopen();
  }

  @AfterEach
  void fsckAndClose() throws Exception {
    Fsck.Report r = engine.fsckOnDisk();
    engine.close();
    assertEquals(List.of(), r.problems());
  }

  @Test
  void defaults_observeNothing() {
    assertSame(AccessObserver.NONE, EngineOptions.defaults().accessObserver());
  }

  @Test
  void systemClock_coarseNanos_isTheTimeToTheMillisecond() {
    long fine = TimeSource.SYSTEM.nowNanos();
    long coarse = TimeSource.SYSTEM.coarseNanos();
    assertEquals(0, coarse % 1_000_000L);
    org.junit.jupiter.api.Assertions.assertTrue(Math.abs(coarse - fine) < 1_000_000_000L, fine + " vs " + coarse);
  }

  @Test
  void readAndWrite_fromEverySource_areObservedWithOffsetLengthAndClock() throws Exception {
    OpenResult f = fs.create(ME, FileSystem.ROOT_INO, "f", 0644, O_RDWR);
    long ino = f.attr().ino();
    byte[] buf = new byte[3 * BS];
    assertEquals(2 * BS + 100, fs.write(f.handle(), 0, buf, 0, 2 * BS + 100));
    now += 5;
    // the tail is still a dirty buffer, the first blocks are in the pipeline or stored
    assertEquals(200, fs.read(f.handle(), 2 * BS - 100, buf, 0, 200));
    fs.flush(f.handle());
    now += 5;
    assertEquals(BS, fs.read(f.handle(), 0, buf, 0, BS)); // a stored block
    assertEquals(100, fs.read(f.handle(), 2 * BS, buf, 0, 4096)); // short at the end of the file
    assertEquals(0, fs.read(f.handle(), 3 * BS, buf, 0, 4096)); // past the end: nothing read, nothing observed
    fs.setattr(ME, ino, SetAttr.truncate(5L * BS), f.handle());
    assertEquals(4096, fs.read(f.handle(), 4L * BS, buf, 0, 4096)); // a hole
    fs.release(f.handle());

    assertEquals(List.of(
        new Access('w', ino, 0, 2 * BS + 100, 1_000_000_000L),
        new Access('r', ino, 2 * BS - 100, 200, 1_000_000_005L),
        new Access('r', ino, 0, BS, 1_000_000_010L),
        new Access('r', ino, 2 * BS, 100, 1_000_000_010L),
        new Access('r', ino, 4L * BS, 4096, 1_000_000_010L)), observer.takeAll());

    // inline: a small file lives in its metadata, no block store involved
    OpenResult small = fs.create(ME, FileSystem.ROOT_INO, "small", 0644, O_RDWR);
    fs.write(small.handle(), 0, new byte[10], 0, 10);
    fs.release(small.handle());
    long h = fs.open(ME, small.attr().ino(), O_RDWR | O_APPEND);
    assertEquals(5, fs.write(h, 0, new byte[5], 0, 5)); // O_APPEND: lands at 10 whatever offset is given
    assertEquals(15, fs.read(h, 0, buf, 0, 100));
    fs.release(h);
    assertEquals(List.of(
        new Access('w', small.attr().ino(), 0, 10, now),
        new Access('w', small.attr().ino(), 10, 5, now),
        new Access('r', small.attr().ino(), 0, 15, now)), observer.takeAll());
  }
}
