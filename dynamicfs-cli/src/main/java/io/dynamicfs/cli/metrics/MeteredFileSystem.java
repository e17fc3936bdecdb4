package io.dynamicfs.cli.metrics;

import io.dynamicfs.core.api.Attr;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.api.StatFs;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.io.IOException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@link FileSystem} that meters every operation of the one it wraps. It sits between the FUSE adapter
 * and the engine, where every kernel request passes, so the figures are what applications see:
 *
 * <ul>
 *   <li>{@code dfs.fs.op} (timer, tag {@code op}): count and latency of each operation, with a histogram
 *       over fixed buckets from 25 µs to 10 s ({@code dfs_fs_op_seconds_bucket} in Prometheus);
 *   <li>{@code dfs.fs.op.errors} (counter, tags {@code op}, {@code errno}): failed operations by errno
 *       (anything that is not an {@link FsException} counts as EIO, as the adapter reports it);
 *   <li>{@code dfs.fs.read} / {@code dfs.fs.written} (counters, bytes): bytes returned by read and accepted
 *       by write.
 * </ul>
 *
 * <p>Meters are created up front (errors lazily, per errno), so the hot path is two {@code nanoTime}
 * calls and an atomic add.
 */
public final class MeteredFileSystem implements FileSystem, io.dynamicfs.policy.act.Foreground {
  /** Latency buckets: wide enough for a cached stat and for an fsync on a slow disk. */
  static final Duration[] BUCKETS = {
      Duration.ofNanos(25_000), Duration.ofNanos(50_000), Duration.ofNanos(100_000), Duration.ofNanos(250_000),
      Duration.ofNanos(500_000), Duration.ofMillis(1), Duration.ofNanos(2_500_000), Duration.ofMillis(5),
      Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
      Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500),
      Duration.ofSeconds(5), Duration.ofSeconds(10)};

  /** The metered operations; names are the FUSE operation names. */
  enum Op {
    GETATTR, LOOKUP, MKNOD, MKDIR, SYMLINK, READLINK, UNLINK, RMDIR, RENAME, LINK, SETATTR, OPEN, CREATE, READ,
    WRITE, FLUSH, FSYNC, RELEASE, READDIR, FSYNCDIR, GETXATTR, SETXATTR, LISTXATTR, REMOVEXATTR, STATFS, FALLOCATE, COPY_FILE_RANGE,
    LSEEK;

    final String tag = name().toLowerCase(Locale.ROOT);
  }

  private final FileSystem fs;
  private final MeterRegistry registry;
  private final Map<Op, Timer> timers = new EnumMap<>(Op.class);
  private final Counter[][] errors = new Counter[Op.values().length][Errno.values().length];
  private final Counter bytesRead;
  private final Counter bytesWritten;
  /** Requests being served now: the policy executor's back-off signal (with the read/write latency). */
  private final java.util.concurrent.atomic.LongAdder inFlight = new java.util.concurrent.atomic.LongAdder();

  public MeteredFileSystem(FileSystem fs, MeterRegistry registry) {
    this.fs = fs;
    this.registry = registry;
    for (Op op : Op.values()) {
      timers.put(op, Timer.builder("dfs.fs.op").description("FileSystem operations and their latency")
          .tag("op", op.tag).serviceLevelObjectives(BUCKETS).register(registry));
    }
    bytesRead = Counter.builder("dfs.fs.read").baseUnit("bytes").description("Bytes returned by read")
        .register(registry);
    bytesWritten = Counter.builder("dfs.fs.written").baseUnit("bytes").description("Bytes accepted by write")
        .register(registry);
  }

  @FunctionalInterface
  private interface Call<T> {
    T run() throws IOException;
  }

  @FunctionalInterface
  private interface VoidCall {
    void run() throws IOException;
  }

  private <T> T timed(Op op, Call<T> call) throws IOException {
    long start = System.nanoTime();
    inFlight.increment();
    try {
      return call.run();
    } catch (IOException | RuntimeException e) {
      countError(op, e);
      throw e;
    } finally {
      inFlight.decrement();
      timers.get(op).record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    }
  }

  private void timed(Op op, VoidCall call) throws IOException {
    timed(op, () -> {
      call.run();
      return null;
    });
  }

  @Override
  public long inFlight() {
    return inFlight.sum();
  }

  @Override
  public long completed() {
    return timers.get(Op.READ).count() + timers.get(Op.WRITE).count();
  }

  @Override
  public long totalNanos() {
    return (long) (timers.get(Op.READ).totalTime(TimeUnit.NANOSECONDS) + timers.get(Op.WRITE).totalTime(TimeUnit.NANOSECONDS));
  }

  private void countError(Op op, Exception e) {
    Errno errno = e instanceof FsException f ? f.errno() : Errno.EIO;
    Counter c = errors[op.ordinal()][errno.ordinal()];
    if (c == null) {
      c = Counter.builder("dfs.fs.op.errors").description("Failed FileSystem operations by errno")
          .tag("op", op.tag).tag("errno", errno.name()).register(registry);
      errors[op.ordinal()][errno.ordinal()] = c;
    }
    c.increment();
  }

  @Override
  public Attr getattr(long ino) throws IOException {
    return timed(Op.GETATTR, () -> fs.getattr(ino));
  }

  @Override
  public long lookup(long parent, String name) throws IOException {
    return timed(Op.LOOKUP, () -> fs.lookup(parent, name));
  }

  @Override
  public Attr mknod(Caller caller, long parent, String name, int mode, long rdev) throws IOException {
    return timed(Op.MKNOD, () -> fs.mknod(caller, parent, name, mode, rdev));
  }

  @Override
  public Attr mkdir(Caller caller, long parent, String name, int mode) throws IOException {
    return timed(Op.MKDIR, () -> fs.mkdir(caller, parent, name, mode));
  }

  @Override
  public Attr symlink(Caller caller, long parent, String name, String target) throws IOException {
    return timed(Op.SYMLINK, () -> fs.symlink(caller, parent, name, target));
  }

  @Override
  public String readlink(long ino) throws IOException {
    return timed(Op.READLINK, () -> fs.readlink(ino));
  }

  @Override
  public void unlink(long parent, String name) throws IOException {
    timed(Op.UNLINK, () -> fs.unlink(parent, name));
  }

  @Override
  public void rmdir(long parent, String name) throws IOException {
    timed(Op.RMDIR, () -> fs.rmdir(parent, name));
  }

  @Override
  public void rename(long parent, String name, long newParent, String newName, int flags) throws IOException {
    timed(Op.RENAME, () -> fs.rename(parent, name, newParent, newName, flags));
  }

  @Override
  public Attr link(long ino, long newParent, String newName) throws IOException {
    return timed(Op.LINK, () -> fs.link(ino, newParent, newName));
  }

  @Override
  public Attr setattr(Caller caller, long ino, SetAttr changes, long handle) throws IOException {
    return timed(Op.SETATTR, () -> fs.setattr(caller, ino, changes, handle));
  }

  @Override
  public void fallocate(Caller caller, long handle, int mode, long offset, long length) throws IOException {
    timed(Op.FALLOCATE, () -> fs.fallocate(caller, handle, mode, offset, length));
  }

  @Override
  public long copyFileRange(Caller caller, long handleIn, long offsetIn, long handleOut, long offsetOut,
      long length, int flags) throws IOException {
    long n = timed(Op.COPY_FILE_RANGE, () -> fs.copyFileRange(caller, handleIn, offsetIn, handleOut, offsetOut,
        length, flags));
    bytesWritten.increment(n);
    return n;
  }

  @Override
  public long seekData(long handle, long offset, int whence) throws IOException {
    return timed(Op.LSEEK, () -> fs.seekData(handle, offset, whence));
  }

  @Override
  public long open(Caller caller, long ino, int flags) throws IOException {
    return timed(Op.OPEN, () -> fs.open(caller, ino, flags));
  }

  @Override
  public OpenResult create(Caller caller, long parent, String name, int mode, int flags) throws IOException {
    return timed(Op.CREATE, () -> fs.create(caller, parent, name, mode, flags));
  }

  @Override
  public int read(long handle, long offset, byte[] dst, int dstOffset, int length) throws IOException {
    int n = timed(Op.READ, () -> fs.read(handle, offset, dst, dstOffset, length));
    bytesRead.increment(n);
    return n;
  }

  @Override
  public int write(long handle, long offset, byte[] src, int srcOffset, int length) throws IOException {
    int n = timed(Op.WRITE, () -> fs.write(handle, offset, src, srcOffset, length));
    bytesWritten.increment(n);
    return n;
  }

  /** Not a FUSE operation of its own (the adapter asks it while serving fstat), so not metered. */
  @Override
  public long inodeOf(long handle) throws IOException {
    return fs.inodeOf(handle);
  }

  @Override
  public void flush(long handle) throws IOException {
    timed(Op.FLUSH, () -> fs.flush(handle));
  }

  @Override
  public void fsync(long handle, boolean dataOnly) throws IOException {
    timed(Op.FSYNC, () -> fs.fsync(handle, dataOnly));
  }

  @Override
  public void release(long handle) throws IOException {
    timed(Op.RELEASE, () -> fs.release(handle));
  }

  @Override
  public List<DirEntry> readdir(long ino) throws IOException {
    return timed(Op.READDIR, () -> fs.readdir(ino));
  }

  @Override
  public void syncMetadata() throws IOException {
    timed(Op.FSYNCDIR, fs::syncMetadata);
  }

  @Override
  public byte[] getxattr(long ino, String name) throws IOException {
    return timed(Op.GETXATTR, () -> fs.getxattr(ino, name));
  }

  @Override
  public void setxattr(long ino, String name, byte[] value, int flags) throws IOException {
    timed(Op.SETXATTR, () -> fs.setxattr(ino, name, value, flags));
  }

  @Override
  public List<String> listxattr(long ino) throws IOException {
    return timed(Op.LISTXATTR, () -> fs.listxattr(ino));
  }

  @Override
  public void removexattr(long ino, String name) throws IOException {
    timed(Op.REMOVEXATTR, () -> fs.removexattr(ino, name));
  }

  @Override
  public StatFs statfs() throws IOException {
    return timed(Op.STATFS, fs::statfs);
  }

  /** Closes the wrapped filesystem (the meters stay in the registry). */
  @Override
  public void close() throws IOException {
    fs.close();
  }
}
