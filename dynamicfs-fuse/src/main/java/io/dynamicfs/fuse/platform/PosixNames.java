package io.dynamicfs.fuse.platform;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Path splitting and name rules shared by the POSIX platforms (Linux, macOS). */
final class PosixNames {
  /** NAME_MAX on Linux and macOS, in bytes. */
  static final int NAME_MAX = 255;

  private PosixNames() {}

  static List<String> split(String path, Platform platform) {
    List<String> names = new ArrayList<>();
    for (String part : path.split("/", -1)) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      String why = platform.invalidNameReason(part);
      if (why != null) {
        throw new IllegalArgumentException("bad path component '" + part + "' in " + path + ": " + why);
      }
      names.add(part);
    }
    return names;
  }

  static String invalidNameReason(String name) {
    if (name.isEmpty()) {
      return "empty name";
    }
    if (name.equals("..")) {
      return "'..' is resolved by the filesystem, not a name";
    }
    if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
      return "contains '/' or NUL";
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
      return "longer than " + NAME_MAX + " bytes";
    }
    return null;
  }

  static String absoluteDirectory(String userArgument) {
    if (userArgument.isBlank()) {
      throw new IllegalArgumentException("empty mount point");
    }
    return java.nio.file.Path.of(userArgument).toAbsolutePath().normalize().toString();
  }
}
