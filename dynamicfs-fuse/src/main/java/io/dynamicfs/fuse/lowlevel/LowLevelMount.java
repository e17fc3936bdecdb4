package io.dynamicfs.fuse.lowlevel;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.fuse.FusePreset;
import io.dynamicfs.fuse.KernelInvalidations;
import io.dynamicfs.fuse.MountOptions;
import io.dynamicfs.fuse.MountPoints;
import io.dynamicfs.fuse.platform.Platform;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live FUSE mount of a {@link FileSystem} through libfuse's low-level (inode-based) API: libfuse 3 where
 * {@code libfuse3.so.3} loads, else libfuse 2.9 ({@link Library}; {@code -Ddfs.fuse.lib=fuse2|fuse3|auto}).
 *
 * <p>The binding's {@link FuseSession} mounts and owns the kernel connection; a fixed pool of Java threads
 * each loops receive/process with its own buffer (one of them reading the device at a time, spinning a
 * little before it sleeps, see {@link ReaderGate} and {@link DeviceSpin}), so callbacks run on
 * already-attached JVM threads (see {@code io.dynamicfs.fuse.FuseLoop} for why), into the one
 * {@link LowLevelAdapter} both bindings share. {@link #mount} returns once the kernel's INIT was processed;
 * {@link #close} runs {@code fusermount -u} ({@code fusermount3} for libfuse 3), joins the workers and frees
 * the session. The caller still owns (and closes) the FileSystem.
 *
 * <p>Kernel caching comes from the mount's {@link FusePreset} (timeouts overridable by the system
 * properties {@code dfs.fuse.lowlevel.attrTimeout}, {@code entryTimeout}, {@code negativeTimeout}; see
 * {@link KernelCaching}); MountOptions' attrTimeout/entryTimeout belong to the path-based API and are not
 * used here. Caching by time is coherent for a single mount: every change goes through this kernel inode,
 * and hard links share it.
 */
public final class LowLevelMount implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(LowLevelMount.class);
  private static final int WORKERS = Integer.getInteger("dfs.fuse.threads", 8);
  /**
   * Request threads waiting on the device at once; the rest park ({@link ReaderGate}). One while the reader
   * spins ({@link DeviceSpin}): a second, asleep in the device, would be the one the kernel wakes.
   */
  private static final Integer READERS = Integer.getInteger("dfs.fuse.readers");
  private static final int EINTR = 4;
  private static final int EAGAIN = 11;
  /** libfuse 3 refuses these libfuse 2 options; it negotiates request sizes and read-ahead in INIT instead. */
  private static final List<String> FUSE2_ONLY_PREFIX = List.of("big_writes", "max_write=", "max_readahead=",
      "max_read=");

  /** Which libfuse the low-level binding uses. */
  public enum Library {
    /** libfuse 3 if {@code libfuse3.so.3} loads, else libfuse 2.9 (the default). */
    AUTO,
    FUSE2,
    FUSE3;

    /** {@code -Ddfs.fuse.lib=auto|fuse2|fuse3}; anything else is refused, naming the property. */
    public static Library fromSystemProperty() {
      String v = System.getProperty("dfs.fuse.lib", "auto");
      return switch (v) {
        case "auto" -> AUTO;
        case "fuse2" -> FUSE2;
        case "fuse3" -> FUSE3;
        default -> throw new IllegalArgumentException("-Ddfs.fuse.lib=" + v + ": expected auto, fuse2 or fuse3");
      };
    }
  }

  private final Path mountPoint;
  private final FuseSession session;
  private final LowLevelAdapter adapter;
  private final List<Thread> workers = new ArrayList<>();
  private ReaderGate gate;
  private DeviceSpin spin;
  // Changes this kernel did not make, told to it while the session lives (null: none are).
  private final KernelInvalidations invalidations;
  private boolean tornDown;
  private volatile boolean unmounted;

  private LowLevelMount(Path mountPoint, FuseSession session, LowLevelAdapter adapter,
      KernelInvalidations invalidations) {
    this.mountPoint = mountPoint;
    this.session = session;
    this.adapter = adapter;
    this.invalidations = invalidations;
  }

  /** Mounts {@code fs} at {@code mnt}; a clear FsException when the mount point cannot be used. */
  public static LowLevelMount mount(FileSystem fs, Path mnt, MountOptions options) throws IOException {
    return mount(fs, mnt, options, Library.fromSystemProperty());
  }

  /** Mounts {@code fs} at {@code mnt} through {@code library}. */
  public static LowLevelMount mount(FileSystem fs, Path mnt, MountOptions options, Library library)
      throws IOException {
    Path mp = mnt.toAbsolutePath().normalize();
    long spinNs = DeviceSpin.spinNsFromSystemProperty(); // a bad value is refused before anything is mounted
    MountPoints.check(mp);
    KernelCaching caching = KernelCaching.of(options.preset(), options.invalidations());
    String mpText = Platform.current().mountTarget(mp.toString());
    List<String> opts = options(options);
    FuseSession session;
    LowLevelAdapter adapter;
    LibFuse3LowLevel lib3 = library == Library.FUSE2 ? null : loadFuse3(library);
    if (lib3 != null) {
      adapter = new LowLevelAdapter(fs, lib3, FuseAbi.FUSE3, caching);
      session = Fuse3Session.mount(lib3, adapter, mpText, String.join(",", fuse3Options(opts)));
    } else {
      LibFuseLowLevel lib2;
      try {
        lib2 = Fuse2Session.load();
      } catch (LinkageError | RuntimeException e) {
        throw FsException.of(Errno.EIO, "cannot load libfuse.so.2: %s", e.getMessage());
      }
      adapter = new LowLevelAdapter(fs, lib2, FuseAbi.FUSE2, caching);
      session = Fuse2Session.mount(lib2, adapter, mpText, String.join(",", opts));
    }
    KernelInvalidations.Sink kernel = new KernelInvalidations.Sink() { // -ENOENT when the kernel holds no such thing
      @Override
      public void staleAttributes(long ino) {
        session.invalInode(ino, -1, 0);
      }

      @Override
      public void staleName(long parent, String name) {
        session.invalEntry(parent, name);
      }
    };
    adapter.notifier(kernel);
    LowLevelMount m = new LowLevelMount(mp, session, adapter, options.invalidations());
    m.start(spinNs);
    try {
      while (!adapter.initialized.await(50, TimeUnit.MILLISECONDS)) {
        if (!m.isAlive()) {
          m.close();
          throw FsException.of(Errno.EIO, "cannot mount at %s: session ended before the kernel connected", mp);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      m.close();
      throw new FsException(Errno.EIO, "interrupted while mounting");
    }
    MountPoints.raiseReadAhead(m.mountPoint);
    if (m.invalidations != null) {
      m.invalidations.attach(kernel);
    }
    log.atInfo().addKeyValue("op", "mount").addKeyValue("path", mp.toString())
        .addKeyValue("fuse_lib", session.abi().libName).addKeyValue("preset", options.preset().cliName())
        .addKeyValue("options", String.join(",", opts)).addKeyValue("connection", adapter.negotiated())
        .addKeyValue("attr_timeout", caching.attrTimeout()).addKeyValue("entry_timeout", caching.entryTimeout())
        .addKeyValue("negative_timeout", caching.negativeTimeout()).addKeyValue("keep_cache", caching.keepCache())
        .addKeyValue("auto_inval_data", caching.autoInvalData()).addKeyValue("writeback_cache", adapter.writeback())
        .log("mounted (low-level API, " + session.abi().libName + ")");
    return m;
  }

  /** libfuse 3, or null to fall back to libfuse 2 (AUTO only; FUSE3 fails naming the library). */
  private static LibFuse3LowLevel loadFuse3(Library library) throws FsException {
    try {
      return Fuse3Session.load();
    } catch (LinkageError | RuntimeException e) {
      if (library == Library.FUSE3) {
        throw FsException.of(Errno.EIO, "cannot load libfuse3.so.3 (-Ddfs.fuse.lib=fuse3): %s", e.getMessage());
      }
      log.atInfo().addKeyValue("error", String.valueOf(e.getMessage()))
          .log("libfuse3.so.3 not loadable, using libfuse 2");
      return null;
    }
  }

  /** The -o options for a libfuse 2 mount, as this OS's {@link Platform} writes them. */
  static List<String> options(MountOptions options) {
    return Platform.current().lowLevelOptions(options);
  }

  /** The same options for libfuse 3: without those it refuses (request sizes are negotiated in INIT). */
  static List<String> fuse3Options(List<String> fuse2Options) {
    List<String> o = new ArrayList<>();
    for (String one : fuse2Options) {
      if (FUSE2_ONLY_PREFIX.stream().noneMatch(one::startsWith)) {
        o.add(one);
      }
    }
    return o;
  }

  /** A {@code struct fuse_args} holding {@code dynamicfs -o options} (the caller frees it). */
  static Pointer args(LibFuseCommon lib, Runtime rt, String options) throws FsException {
    Pointer args = Memory.allocateDirect(rt, Layout.Args.SIZE, true);
    for (String a : List.of("dynamicfs", "-o", options)) {
      if (lib.fuse_opt_add_arg(args, a) != 0) {
        lib.fuse_opt_free_args(args);
        throw FsException.of(Errno.ENOMEM, "fuse_opt_add_arg failed");
      }
    }
    return args;
  }

  /** True on a thread serving FUSE requests: the kernel hears of the changes it makes in the reply. */
  public static boolean onRequestThread() {
    return Thread.currentThread() instanceof RequestThread;
  }

  private static final class RequestThread extends Thread {
    RequestThread(Runnable work, String name) {
      super(work, name);
    }
  }

  private void start(long spinNs) {
    spin = DeviceSpin.on(session.fd(), spinNs);
    int readers = READERS != null ? READERS : spin.spinning() ? 1 : 2;
    gate = new ReaderGate(Math.min(readers, WORKERS), session::exited, "fuse-ll-watch");
    for (int i = 0; i < WORKERS; i++) {
      Thread t = new RequestThread(this::work, "fuse-ll-" + i);
      t.setDaemon(true);
      workers.add(t);
    }
    for (Thread t : workers) {
      t.start();
    }
  }

  private void work() {
    FuseSession.Worker w = session.worker();
    jnr.ffi.Pointer pollFd = DeviceSpin.pollFd();
    java.util.function.IntSupplier read = w::receive;
    try {
      while (gate.enter()) {
        int res = Integer.MIN_VALUE;
        try {
          res = spin.receive(read, pollFd, session::exited);
        } finally {
          gate.leave(res > 0 && gate.wakesAtOnce(w.opcode()));
        }
        if (res == -EINTR || res == -EAGAIN) {
          continue;
        }
        if (res <= 0) {
          if (res < 0) {
            log.atWarn().addKeyValue("errno", -res).log("fuse device read failed");
            session.exit();
          }
          break;
        }
        int opcode = w.opcode();
        long start = System.nanoTime();
        w.process(res);
        gate.served(opcode, System.nanoTime() - start);
      }
    } catch (RuntimeException | Error e) {
      log.error("fuse worker died", e);
      session.exit();
    } finally {
      gate.wakeAll(); // parked threads see the session ended and return
      w.close();
    }
  }

  public Path mountPoint() {
    return mountPoint;
  }

  /** Which libfuse serves this mount: "fuse2" or "fuse3". */
  public String library() {
    return session.abi().libName;
  }

  /** What the kernel was told it may cache (tests, diagnostics). */
  public String caching() {
    return adapter.caching().toString();
  }

  /** The connection's want and capable flags after INIT (tests, diagnostics). */
  public String negotiated() {
    return adapter.negotiated();
  }

  /** True when the kernel's writeback cache is on (libfuse 3, the preset asked for it). */
  public boolean writebackCache() {
    return adapter.writeback();
  }

  /** The largest write request the kernel has sent, in bytes (diagnostics, tests). */
  public long largestWrite() {
    return adapter.largestWrite();
  }

  /** Requests the reader took while spinning, and after sleeping in poll ({@link DeviceSpin}; tests). */
  public long[] spinCounts() {
    return new long[] {spin.atOnce(), spin.slept()};
  }

  /** FLUSH requests the kernel sent so far. */
  public long flushes() {
    return adapter.flushes();
  }

  /** The kernel's current lookup count of {@code ino} (diagnostics, tests). */
  public long lookupCount(long ino) {
    return adapter.lookupCount(ino);
  }

  /** Blocks until the filesystem is unmounted (by {@link #close}, fusermount -u, umount or a signal). */
  public void awaitUnmount() throws InterruptedException {
    join();
  }

  public boolean isAlive() {
    for (Thread t : workers) {
      if (t.isAlive()) {
        return true;
      }
    }
    return false;
  }

  /** Unmounts (lazily if still busy after a few tries), waits for the workers and frees the session. */
  @Override
  public void close() throws IOException {
    if (unmounted) {
      return;
    }
    unmounted = true;
    if (isAlive()) {
      MountPoints.unmount(mountPoint, session.fusermount());
    }
    try {
      join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.atInfo().addKeyValue("op", "unmount").addKeyValue("path", mountPoint.toString())
        .addKeyValue("fuse_lib", session.abi().libName).log("unmounted");
  }

  /** Waits for the workers, then frees the session (unmounting if still mounted), once. */
  private synchronized void join() throws InterruptedException {
    for (Thread t : workers) {
      t.join();
    }
    if (gate != null) {
      gate.close();
    }
    if (!tornDown) {
      tornDown = true;
      if (invalidations != null) {
        invalidations.detach(); // no notice may reach a freed session
      }
      session.destroy();
      log.atDebug().addKeyValue("session", session).log("fuse low-level session torn down");
    }
  }
}
