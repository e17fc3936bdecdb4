package io.dynamicfs.fuse;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
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
    checkMountPoint(mp);
    FuseAdapter adapter = new FuseAdapter(fs);
    List<String> args = new java.util.ArrayList<>(List.of(options.toArgs()));
    if (options.debug()) {
      args.add("-d");
    }
    args.add(mp.toString());
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
    m.raiseReadAhead();
    log.info("mounted mountpoint={} options=\"{}\"", mp, String.join(" ", options.toArgs()));
    return m;
  }

  private static void checkMountPoint(Path mp) throws FsException {
    if (!Files.exists(mp)) {
      throw FsException.of(Errno.ENOENT, "mount point %s does not exist", mp);
    }
    if (!Files.isDirectory(mp)) {
      throw FsException.of(Errno.ENOTDIR, "mount point %s is not a directory", mp);
    }
    if (isMounted(mp)) {
      throw FsException.of(Errno.EBUSY, "%s is already a mount point; unmount it first", mp);
    }
    try (Stream<Path> s = Files.list(mp)) {
      if (s.findAny().isPresent()) {
        throw FsException.of(Errno.ENOTEMPTY, "mount point %s is not empty", mp);
      }
    } catch (FsException e) {
      throw e;
    } catch (IOException e) {
      throw FsException.of(Errno.EACCES, "cannot read mount point %s: %s", mp, e.getMessage());
    }
  }

  /** True if {@code mp} appears as a mount point in /proc/self/mountinfo. */
  public static boolean isMounted(Path mp) {
    try {
      String want = mp.toAbsolutePath().normalize().toString();
      for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
        String[] f = line.split(" ");
        if (f.length > 4 && unescape(f[4]).equals(want)) {
          return true;
        }
      }
    } catch (IOException e) {
      return false;
    }
    return false;
  }

  private static String unescape(String s) {
    return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
  }

  /** As root, lets the kernel read ahead up to 1 MiB (FUSE mounts default to 128 KiB). */
  private void raiseReadAhead() {
    try {
      long dev = ((Number) Files.getAttribute(mountPoint, "unix:dev")).longValue();
      long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
      long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
      Path ra = Path.of("/sys/class/bdi/" + major + ":" + minor + "/read_ahead_kb");
      if (Files.isWritable(ra)) {
        Files.writeString(ra, "1024");
      }
    } catch (IOException | RuntimeException e) {
      log.debug("read-ahead not raised mountpoint={} error=\"{}\"", mountPoint, e.getMessage());
    }
  }

  public Path mountPoint() {
    return mountPoint;
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
      for (int attempt = 0; attempt < 50 && isMounted(mountPoint); attempt++) {
        if (runUnmount(false)) {
          break;
        }
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
      if (isMounted(mountPoint)) {
        log.warn("mount point busy, detaching lazily mountpoint={}", mountPoint);
        runUnmount(true);
      }
    }
    try {
      loop.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    log.info("unmounted mountpoint={}", mountPoint);
  }

  private boolean runUnmount(boolean lazy) {
    for (List<String> cmd : List.of(
        lazy ? List.of("fusermount", "-u", "-z") : List.of("fusermount", "-u"),
        lazy ? List.of("fusermount3", "-u", "-z") : List.of("fusermount3", "-u"),
        lazy ? List.of("umount", "-l") : List.of("umount"))) {
      try {
        List<String> full = new java.util.ArrayList<>(cmd);
        full.add(mountPoint.toString());
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor() == 0) {
          return true;
        }
      } catch (IOException e) {
        // that tool is not installed: try the next one
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }
}
