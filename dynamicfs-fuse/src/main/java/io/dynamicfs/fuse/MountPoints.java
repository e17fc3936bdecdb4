package io.dynamicfs.fuse;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What every FUSE mount does with its mount point: check it, tune its read-ahead, unmount it. */
public final class MountPoints {
  private static final Logger log = LoggerFactory.getLogger(MountPoints.class);

  private MountPoints() {}

  /** A clear FsException unless {@code mp} is an existing, empty directory that is not mounted. */
  public static void check(Path mp) throws FsException {
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
  public static void raiseReadAhead(Path mp) {
    try {
      long dev = ((Number) Files.getAttribute(mp, "unix:dev")).longValue();
      long major = ((dev >>> 8) & 0xfff) | ((dev >>> 32) & ~0xfffL);
      long minor = (dev & 0xff) | ((dev >>> 12) & ~0xffL);
      Path ra = Path.of("/sys/class/bdi/" + major + ":" + minor + "/read_ahead_kb");
      if (Files.isWritable(ra)) {
        Files.writeString(ra, "1024");
      }
    } catch (IOException | RuntimeException e) {
      log.atDebug().addKeyValue("path", mp.toString()).addKeyValue("error", e.getMessage())
          .log("read-ahead not raised");
    }
  }

  /** Unmounts with fusermount (or umount), retrying while busy, then detaching lazily. */
  public static void unmount(Path mp) {
    unmount(mp, "fusermount");
  }

  /**
   * Unmounts with {@code fusermount} first ("fusermount" for a libfuse 2 mount, "fusermount3" for libfuse 3),
   * then the other one, then umount; retrying while busy, then detaching lazily.
   */
  public static void unmount(Path mp, String fusermount) {
    for (int attempt = 0; attempt < 50 && isMounted(mp); attempt++) {
      if (run(mp, false, fusermount)) {
        break;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    if (isMounted(mp)) {
      log.atWarn().addKeyValue("op", "unmount").addKeyValue("path", mp.toString())
          .log("mount point busy, detaching lazily");
      run(mp, true, fusermount);
    }
  }

  private static boolean run(Path mp, boolean lazy, String fusermount) {
    String other = fusermount.equals("fusermount3") ? "fusermount" : "fusermount3";
    for (List<String> cmd : List.of(
        lazy ? List.of(fusermount, "-u", "-z") : List.of(fusermount, "-u"),
        lazy ? List.of(other, "-u", "-z") : List.of(other, "-u"),
        lazy ? List.of("umount", "-l") : List.of("umount"))) {
      try {
        List<String> full = new ArrayList<>(cmd);
        full.add(mp.toString());
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
