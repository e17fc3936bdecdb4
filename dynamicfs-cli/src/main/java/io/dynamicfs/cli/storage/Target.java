package io.dynamicfs.cli.storage;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a storage command works on: a DATA directory, and the mount point when it is mounted. A path given
 * by the user may be a mount point, a path inside a mount (then {@link #inner} is the path from the
 * filesystem's root), or a DATA directory.
 */
record Target(Path data, Path mountPoint, String inner) {
  static final String PROC_MOUNTS = "/proc/mounts";

  boolean mounted() {
    return mountPoint != null;
  }

  /** A mounted DynamicFS: its DATA (from the fsname) and mount point. */
  record Mount(Path data, Path mountPoint) {}

  static List<Mount> mounts() {
    List<Mount> out = new ArrayList<>();
    List<String> lines;
    try {
      lines = Files.readAllLines(Path.of(PROC_MOUNTS), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return out;
    }
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f.length > 2 && f[2].equals("fuse.dynamicfs") && f[0].startsWith("dynamicfs:")) {
        out.add(new Mount(Path.of(unescape(f[0].substring("dynamicfs:".length()))), Path.of(unescape(f[1]))));
      }
    }
    return out;
  }

  /** /proc/mounts escapes space, tab, newline and backslash as octal. */
  static String unescape(String s) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        try {
          b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
          i += 3;
          continue;
        } catch (NumberFormatException e) {
          // not an escape
        }
      }
      b.append(c);
    }
    return b.toString();
  }

  /** Resolves a mount point, a path inside a mount, or a DATA directory. */
  static Target resolve(Path p) throws FsException {
    Path abs = p.toAbsolutePath().normalize();
    Mount best = null;
    for (Mount m : mounts()) {
      if (abs.startsWith(m.mountPoint()) && (best == null
          || m.mountPoint().getNameCount() > best.mountPoint().getNameCount())) {
        best = m;
      }
    }
    if (best != null) {
      Path rel = best.mountPoint().relativize(abs);
      return new Target(best.data(), best.mountPoint(), "/" + rel.toString().replace('\\', '/'));
    }
    if (Files.isRegularFile(abs.resolve("dynamicfs.properties"))) {
      for (Mount m : mounts()) {
        if (m.data().equals(abs)) {
          return new Target(abs, m.mountPoint(), "/");
        }
      }
      return new Target(abs, null, "/");
    }
    throw FsException.of(Errno.EINVAL, "%s is neither a mounted DynamicFS (or a path in one) nor a DATA directory", abs);
  }
}
