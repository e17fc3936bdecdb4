package io.dynamicfs.fuse.lowlevel;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.fuse.FusePreset;
import io.dynamicfs.fuse.MountOptions;
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
import jnr.ffi.Struct;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live FUSE mount of a {@link FileSystem} through libfuse 2.9's low-level (inode-based) API.
 *
 * <p>{@code fuse_mount} + {@code fuse_lowlevel_new} build the session; a fixed pool of Java threads each
 * loops on {@code fuse_chan_recv}/{@code fuse_session_process} with its own buffer, so callbacks run on
 * already-attached JVM threads (see {@code io.dynamicfs.fuse.FuseLoop} for why). {@link #mount} returns
 * once the kernel's INIT was processed; {@link #close} runs {@code fusermount -u}, joins the workers and
 * frees the session. The caller still owns (and closes) the FileSystem.
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
  private static final int EINTR = 4;
  private static final int EAGAIN = 11;
  private final Path mountPoint;
  private final LibFuseLowLevel lib;
  private final LowLevelAdapter adapter;
  private final LowLevelOps ops;
  private final List<Object> callbacks;
  private final Pointer session;
  private final Pointer channel;
  private final List<Thread> workers = new ArrayList<>();
  private boolean tornDown;
  private volatile boolean unmounted;

  private LowLevelMount(Path mountPoint, LibFuseLowLevel lib, LowLevelAdapter adapter, LowLevelOps ops,
      List<Object> callbacks, Pointer session, Pointer channel) {
    this.mountPoint = mountPoint;
    this.lib = lib;
    this.adapter = adapter;
    this.ops = ops;
    this.callbacks = callbacks;
    this.session = session;
    this.channel = channel;
  }

  /** Mounts {@code fs} at {@code mnt}; a clear FsException when the mount point cannot be used. */
  public static LowLevelMount mount(FileSystem fs, Path mnt, MountOptions options) throws IOException {
    Path mp = mnt.toAbsolutePath().normalize();
    io.dynamicfs.fuse.MountPoints.check(mp);
    LibFuseLowLevel lib;
    try {
      lib = LibFuseLowLevel.Holder.LIB;
    } catch (LinkageError | RuntimeException e) {
      throw FsException.of(Errno.EIO, "cannot load libfuse.so.2: %s", e.getMessage());
    }
    Runtime rt = Runtime.getRuntime(lib);
    KernelCaching caching = KernelCaching.of(options.preset());
    LowLevelAdapter adapter = new LowLevelAdapter(fs, lib, caching);
    LowLevelOps ops = new LowLevelOps(rt);
    List<Object> callbacks = adapter.install(ops);

    String opts = String.join(",", options(options));
    Pointer args = Memory.allocateDirect(rt, Layout.Args.SIZE, true);
    for (String a : List.of("dynamicfs", "-o", opts)) {
      if (lib.fuse_opt_add_arg(args, a) != 0) {
        throw FsException.of(Errno.ENOMEM, "fuse_opt_add_arg failed");
      }
    }
    String mpText = Platform.current().mountTarget(mp.toString());
    Pointer ch = null;
    Pointer se = null;
    try {
      ch = lib.fuse_mount(mpText, args);
      if (ch == null) {
        throw FsException.of(Errno.EIO, "cannot mount at %s: fuse_mount failed (its message is on stderr)", mp);
      }
      se = lib.fuse_lowlevel_new(args, Struct.getMemory(ops), LowLevelOps.SIZE, null);
      if (se == null) {
        lib.fuse_unmount(mpText, ch);
        throw FsException.of(Errno.EIO, "cannot mount at %s: fuse_lowlevel_new rejected options \"%s\"", mp, opts);
      }
      lib.fuse_session_add_chan(se, ch);
      adapter.channel(ch);
    } finally {
      lib.fuse_opt_free_args(args);
    }
    LowLevelMount m = new LowLevelMount(mp, lib, adapter, ops, callbacks, se, ch);
    m.start(rt);
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
    io.dynamicfs.fuse.MountPoints.raiseReadAhead(m.mountPoint);
    log.atInfo().addKeyValue("op", "mount").addKeyValue("path", mp.toString()).addKeyValue("preset",
        options.preset().cliName()).addKeyValue("options", opts).addKeyValue("attr_timeout", caching.attrTimeout())
        .addKeyValue("entry_timeout", caching.entryTimeout()).addKeyValue("negative_timeout", caching.negativeTimeout())
        .addKeyValue("keep_cache", caching.keepCache()).addKeyValue("auto_inval_data", caching.autoInvalData())
        .log("mounted (low-level API)");
    return m;
  }

  /** The -o options for fuse_mount + fuse_lowlevel_new, as this OS's {@link Platform} writes them. */
  static List<String> options(MountOptions options) {
    return Platform.current().lowLevelOptions(options);
  }

  private void start(Runtime rt) {
    long bufsize = lib.fuse_chan_bufsize(channel);
    for (int i = 0; i < WORKERS; i++) {
      Thread t = new Thread(() -> work(rt, bufsize), "fuse-ll-" + i);
      t.setDaemon(true);
      workers.add(t);
    }
    for (Thread t : workers) {
      t.start();
    }
  }

  private void work(Runtime rt, long bufsize) {
    Pointer buf = Memory.allocateDirect(rt, bufsize);
    Pointer chp = Memory.allocateDirect(rt, 8, true);
    try {
      while (lib.fuse_session_exited(session) == 0) {
        chp.putPointer(0, channel);
        int res = lib.fuse_chan_recv(chp, buf, bufsize);
        if (res == -EINTR || res == -EAGAIN) {
          continue;
        }
        if (res <= 0) {
          if (res < 0) {
            log.atWarn().addKeyValue("errno", -res).log("fuse device read failed");
            lib.fuse_session_exit(session);
          }
          break;
        }
        lib.fuse_session_process(session, buf, res, chp.getPointer(0));
      }
    } catch (RuntimeException | Error e) {
      log.error("fuse worker died", e);
      lib.fuse_session_exit(session);
    }
  }

  public Path mountPoint() {
    return mountPoint;
  }

  /** What the kernel was told it may cache (tests, diagnostics). */
  public String caching() {
    return adapter.caching().toString();
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
      io.dynamicfs.fuse.MountPoints.unmount(mountPoint);
    }
    try {
      join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.atInfo().addKeyValue("op", "unmount").addKeyValue("path", mountPoint.toString()).log("unmounted");
  }

  /** Waits for the workers, then frees the session and channel (unmounting if still mounted), once. */
  private synchronized void join() throws InterruptedException {
    for (Thread t : workers) {
      t.join();
    }
    if (!tornDown) {
      tornDown = true;
      lib.fuse_session_remove_chan(channel);
      lib.fuse_session_destroy(session);
      lib.fuse_unmount(mountPoint.toString(), channel);
      log.atDebug().addKeyValue("callbacks", callbacks.size()).addKeyValue("ops", ops)
          .log("fuse low-level session torn down");
    }
  }


}
