package io.dynamicfs.cli.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The DynamicFS mounts the kernel lists in /proc/self/mounts (fsname {@code dynamicfs:DATA}). */
public final class DynamicFsMounts {
  static final String FSNAME_PREFIX = "dynamicfs:";

  /** One mounted DynamicFS. */
  public record Mount(Path mountPoint, Path data) {}

  private DynamicFsMounts() {}

  public static List<Mount> list() throws IOException {
    return parse(Files.readAllLines(Path.of("/proc/self/mounts"), StandardCharsets.UTF_8));
  }

  static List<Mount> parse(List<String> lines) {
    List<Mount> out = new ArrayList<>();
    for (String line : lines) {
      String[] f = line.split(" ");
      if (f.length > 2 && f[0].startsWith(FSNAME_PREFIX)) {
        out.add(new Mount(Path.of(unescape(f[1])), Path.of(unescape(f[0].substring(FSNAME_PREFIX.length())))));
      }
    }
    return out;
  }

  /** The mount that holds {@code path} (the deepest mount point above it), if it is a DynamicFS. */
  public static Optional<Mount> containing(Path path) throws IOException {
    Path p = path.toAbsolutePath().normalize();
    Mount best = null;
    for (Mount m : list()) {
      if (p.startsWith(m.mountPoint()) && (best == null || m.mountPoint().getNameCount() > best.mountPoint()
          .getNameCount())) {
        best = m;
      }
    }
    return Optional.ofNullable(best);
  }

  /** /proc/mounts writes space, tab, newline and backslash as octal escapes (\040…). */
  static String unescape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
        b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
