package io.dynamicfs.fuse;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A live FUSE mount of a {@link FileSystem}. {@link #mount} checks the mount point, starts libfuse's
 * loop on its own thread and returns once the kernel has initialised the connection; {@link #close}
 * unmounts and waits for the loop to end. The caller still owns (and closes) the FileSystem.
 */
public final class FuseMount implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(FuseMount.class);

  /** Java threads serving FUSE requests (reads block in the kernel, so more than the cores). */
  private static final int WORKERS = Integer.getInteger("dfs.fuse.threads", 8);

  private final Path mountPoint;
  private final FuseAdapter adapter;
  private final FuseLoop loop;
  private volatile boolean unmounted;
  // Set for a low-level mount (the default): this object then delegates to it.
  private final io.dynamicfs.fuse.lowlevel.LowLevelMount lowLevel;

  private FuseMount(Path mountPoint, FuseAdapter adapter, FuseLoop loop) {
    this.mountPoint = mountPoint;
    this.adapter = adapter;
    this.loop = loop;
    this.lowLevel = null;
  }

  private FuseMount(io.dynamicfs.fuse.lowlevel.LowLevelMount lowLevel) {
    this.mountPoint = lowLevel.mountPoint();
    this.adapter = null;
    this.loop = null;
    this.lowLevel = lowLevel;
  }

  /** Mounts {@code fs} at {@code mnt}; a clear FsException when the mount point cannot be used. */
  public static FuseMount mount(FileSystem fs, Path mnt, MountOptions options) throws IOException {
    // The low-level (inode) API is the default: the kernel inode is ours, so attribute caching is
    // coherent for hard links. -Ddfs.fuse.api=highlevel selects the path-based jnr-fuse adapter.
    if (!"highlevel".equals(System.getProperty("dfs.fuse.api", "lowlevel"))) {
      return new FuseMount(io.dynamicfs.fuse.lowlevel.LowLevelMount.mount(fs, mnt, options));
    }
    Path mp = mnt.toAbsolutePath().normalize();
    MountPoints.check(mp);
    FuseAdapter adapter = new FuseAdapter(fs);
    List<String> args = new java.util.ArrayList<>(List.of(options.toArgs()));
    if (options.debug()) {
      args.add("-d");
    }
    args.add(io.dynamicfs.fuse.platform.Platform.current().mountTarget(mp.toString()));
    FuseLoop loop;
    try {
      loop = FuseLoop.start(adapter, args, WORKERS);
    } catch (IllegalStateException e) {
      throw FsException.of(Errno.EIO, "cannot mount at %s: %s", mp, e.getMessage());
    }
    try {
      while (!adapter.initialized.await(50, TimeUnit.MILLISECONDS)) {
        if (!loop.isRunning()) {
          throw FsException.of(Errno.EIO, "cannot mount at %s: libfuse stopped before the kernel connected", mp);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FsException(Errno.EIO, "interrupted while mounting");
    }
    FuseMount m = new FuseMount(mp, adapter, loop);
    MountPoints.raiseReadAhead(mp);
    log.atInfo().addKeyValue("op", "mount").addKeyValue("path", mp.toString())
        .addKeyValue("options", String.join(" ", options.toArgs())).log("mounted");
    return m;
  }

  /** True if {@code mp} appears as a mount point in /proc/self/mountinfo. */
  public static boolean isMounted(Path mp) {
    return MountPoints.isMounted(mp);
  }

  public Path mountPoint() {
    return mountPoint;
  }

  /** True when the kernel's writeback cache is on (the low-level binding on libfuse 3, as the preset asks). */
  public boolean writebackCache() {
    return lowLevel != null && lowLevel.writebackCache();
  }

  /** What the low-level binding told the kernel it may cache (timeouts, keep_cache…); "highlevel" on the path API. */
  public String kernelCaching() {
    return lowLevel != null ? lowLevel.caching() : "highlevel";
  }

  /** The kernel's lookup count of an inode on the low-level binding (-1 on the path API). */
  public long kernelLookups(long ino) {
    return lowLevel != null ? lowLevel.lookupCount(ino) : -1;
  }

  /** The largest write request the kernel sent to the low-level binding (-1 on the path API). */
  public long largestWriteRequest() {
    return lowLevel != null ? lowLevel.largestWrite() : -1;
  }

  /** FLUSH requests the kernel sent to the low-level binding (-1 on the path API). */
  public long flushRequests() {
    return lowLevel != null ? lowLevel.flushes() : -1;
  }

  /**
   * Requests the low-level binding's reader took while spinning and after sleeping
   * ({@code lowlevel.DeviceSpin}); null for the high-level binding.
   */
  public long[] deviceSpinCounts() {
    return lowLevel != null ? lowLevel.spinCounts() : null;
  }

  /** "fuse3" or "fuse2" for the low-level binding (whichever libfuse it loaded), "highlevel" for jnr-fuse's. */
  public String fuseLibrary() {
    return lowLevel != null ? lowLevel.library() : "highlevel";
  }

  /** Blocks until the filesystem is unmounted (by {@link #close}, fusermount -u, umount or a signal). */
  public void awaitUnmount() throws InterruptedException {
    if (lowLevel != null) {
      lowLevel.awaitUnmount();
      return;
    }
    loop.join();
  }

  public boolean isAlive() {
    if (lowLevel != null) {
      return lowLevel.isAlive();
    }
    return loop.isRunning();
  }

  /** Unmounts (lazily if busy after a few tries) and waits for libfuse's loop to end. */
  @Override
  public void close() throws IOException {
    if (lowLevel != null) {
      lowLevel.close();
      return;
    }
    if (unmounted) {
      return;
    }
    unmounted = true;
    if (loop.isRunning()) {
      MountPoints.unmount(mountPoint);
    }
    try {
      loop.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.atInfo().addKeyValue("op", "unmount").addKeyValue("path", mountPoint.toString()).log("unmounted");
  }


}
