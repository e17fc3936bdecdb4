package io.dynamicfs.fuse.platform;

import io.dynamicfs.core.api.FileType;
import io.dynamicfs.fuse.MountOptions;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Windows with WinFsp's FUSE compatibility layer. WinFsp implements the path-based libfuse 2 API only,
 * mounts on a drive letter ({@code X:}), any free letter ({@code *}) or a directory that does not exist
 * yet, and turns FUSE's POSIX view into Windows': paths use {@code \}, names compare without case
 * ({@code CaseInsensitiveSearch}), and the POSIX mode becomes file attributes (see
 * {@link #fileAttributes}). {@code uid=-1,gid=-1} map every file to the user running the daemon. Not run
 * yet: written from WinFsp's FUSE option table (src/dll/fuse/fuse.c) and the Win32 naming rules.
 */
final class WindowsPlatform implements Platform {
  private static final Pattern DRIVE = Pattern.compile("[A-Za-z]:[\\\\/]?");
  private static final Pattern ABSOLUTE_DIR = Pattern.compile("[A-Za-z]:[\\\\/].+");
  /** Names Win32 reserves for devices, with or without an extension. */
  private static final Set<String> RESERVED = Set.of("CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4",
      "COM5", "COM6", "COM7", "COM8", "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8",
      "LPT9");
  private static final String FORBIDDEN = "<>:\"|?*\\/";
  /** Options WinFsp's fuse.c does not know (Linux kernel or libfuse-Linux only): dropped from extras. */
  private static final Set<String> NOT_WINFSP = Set.of("big_writes", "default_permissions", "allow_other",
      "allow_root", "auto_unmount", "nonempty", "auto_cache", "kernel_cache");
  private static final List<String> NOT_WINFSP_PREFIX = List.of("max_readahead=", "subtype=", "max_read=",
      "max_write=", "fsname=");
  private static final int POSIX_WRITE_BITS = 0222;

  @Override
  public String name() {
    return "windows";
  }

  @Override
  public List<String> pathApiArguments(MountOptions options) {
    List<String> o = new ArrayList<>();
    o.add("uid=-1");
    o.add("gid=-1");
    o.add("use_ino");
    o.add("CaseInsensitiveSearch");
    o.add("FileInfoTimeout=" + Math.round(options.attrTimeout() * 1000));
    o.add("volname=DynamicFS");
    for (String e : options.extra()) {
      for (String one : e.split(",")) {
        if (!one.isEmpty() && !NOT_WINFSP.contains(one) && NOT_WINFSP_PREFIX.stream().noneMatch(one::startsWith)) {
          o.add(one);
        }
      }
    }
    return List.of("-o", String.join(",", o));
  }

  @Override
  public boolean hasLowLevelApi() {
    return false;
  }

  @Override
  public List<String> lowLevelOptions(MountOptions options) {
    throw new UnsupportedOperationException(
        "WinFsp has no low-level FUSE API; mount with -Ddfs.fuse.api=highlevel on Windows");
  }

  @Override
  public String mountTarget(String userArgument) {
    String a = userArgument.trim();
    if (a.equals("*")) {
      return a;
    }
    if (DRIVE.matcher(a).matches()) {
      return a.substring(0, 1).toUpperCase(Locale.ROOT) + ":";
    }
    if (ABSOLUTE_DIR.matcher(a).matches()) {
      List<String> names = splitPath(a.substring(2));
      return a.substring(0, 1).toUpperCase(Locale.ROOT) + ":\\" + String.join("\\", names);
    }
    throw new IllegalArgumentException("'" + userArgument
        + "' is not a Windows mount point: use a drive letter (X:), * for any free letter, or an absolute"
        + " directory (C:\\dfs) that does not exist yet");
  }

  @Override
  public List<String> splitPath(String path) {
    List<String> names = new ArrayList<>();
    for (String part : path.split("[\\\\/]", -1)) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      String why = invalidNameReason(part);
      if (why != null) {
        throw new IllegalArgumentException("bad path component '" + part + "' in " + path + ": " + why);
      }
      names.add(part);
    }
    return names;
  }

  @Override
  public String invalidNameReason(String name) {
    String posix = PosixNames.invalidNameReason(name);
    if (posix != null) {
      return posix;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c < 0x20 || FORBIDDEN.indexOf(c) >= 0) {
        return c < 0x20 ? "contains a control character" : "contains '" + c + "', which Windows forbids";
      }
    }
    if (name.endsWith(".") || name.endsWith(" ")) {
      return "ends with a dot or a space, which Windows strips";
    }
    int dot = name.indexOf('.');
    String stem = (dot < 0 ? name : name.substring(0, dot)).trim().toUpperCase(Locale.ROOT);
    if (RESERVED.contains(stem)) {
      return "'" + stem + "' is a reserved device name on Windows";
    }
    return null;
  }

  @Override
  public boolean caseSensitive() {
    return false;
  }

  /** NFC, then upper case without locale rules (close to NTFS's invariant upcase table). */
  @Override
  public String nameKey(String name) {
    return Normalizer.normalize(name, Normalizer.Form.NFC).toUpperCase(Locale.ROOT);
  }

  /**
   * DIRECTORY for directories, REPARSE_POINT for symbolic links, READONLY when nobody may write, HIDDEN
   * for dot files (the POSIX convention for hidden), ARCHIVE for other regular files; NORMAL when no
   * other bit applies.
   */
  @Override
  public int fileAttributes(FileType type, int mode, String name) {
    int a = 0;
    switch (type) {
      case DIRECTORY -> a |= FILE_ATTRIBUTE_DIRECTORY;
      case SYMLINK -> a |= FILE_ATTRIBUTE_REPARSE_POINT;
      case REGULAR -> a |= FILE_ATTRIBUTE_ARCHIVE;
      default -> { }
    }
    if (type != FileType.SYMLINK && (mode & POSIX_WRITE_BITS) == 0) {
      a |= FILE_ATTRIBUTE_READONLY;
    }
    if (name.startsWith(".") && !name.equals(".") && !name.equals("..")) {
      a |= FILE_ATTRIBUTE_HIDDEN;
    }
    return a == 0 ? FILE_ATTRIBUTE_NORMAL : a;
  }

  /**
   * Setting READONLY clears every write bit; clearing it gives the owner write permission back. Other attributes do not touch the mode.
   */
  @Override
  public int modeWithAttributes(FileType type, int mode, int attributes) {
    int perms = mode & 07777;
    if ((attributes & FILE_ATTRIBUTE_READONLY) != 0) {
      return perms & ~POSIX_WRITE_BITS;
    }
    if ((perms & POSIX_WRITE_BITS) == 0) {
      return perms | 0200;
    }
    return perms;
  }
}
