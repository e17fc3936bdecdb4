package io.dynamicfs.fuse.platform;

import io.dynamicfs.core.api.FileType;
import io.dynamicfs.fuse.MountOptions;
import java.util.List;
import java.util.Locale;

/**
 * What differs between the operating systems DynamicFS mounts on: the libfuse mount options, how a mount
 * point is written, how paths and names are split and compared, and how a POSIX mode shows up as the
 * OS's file attributes. One implementation per OS, chosen from {@code os.name} by {@link #current()}.
 *
 * <p>Only {@link #LINUX} has been run against a real kernel. The macOS (macFUSE) and Windows (WinFsp)
 * implementations are pure logic written from those projects' documentation and are covered by unit
 * tests only: see docs/operations.md, "Platforms".
 */
public interface Platform {
  /** Linux with libfuse 2.9 (the only platform DynamicFS has been run on). */
  Platform LINUX = new LinuxPlatform();
  /** macOS with macFUSE (libfuse 2 API). Not run yet. */
  Platform MACOS = new MacPlatform();
  /** Windows with WinFsp's FUSE compatibility layer (path API only). Not run yet. */
  Platform WINDOWS = new WindowsPlatform();

  /** Windows FILE_ATTRIBUTE_READONLY. */
  int FILE_ATTRIBUTE_READONLY = 0x1;
  /** Windows FILE_ATTRIBUTE_HIDDEN. */
  int FILE_ATTRIBUTE_HIDDEN = 0x2;
  /** Windows FILE_ATTRIBUTE_DIRECTORY. */
  int FILE_ATTRIBUTE_DIRECTORY = 0x10;
  /** Windows FILE_ATTRIBUTE_ARCHIVE. */
  int FILE_ATTRIBUTE_ARCHIVE = 0x20;
  /** Windows FILE_ATTRIBUTE_NORMAL: only ever alone. */
  int FILE_ATTRIBUTE_NORMAL = 0x80;
  /** Windows FILE_ATTRIBUTE_REPARSE_POINT (how a symbolic link shows). */
  int FILE_ATTRIBUTE_REPARSE_POINT = 0x400;

  /** The platform of this JVM. */
  static Platform current() {
    return forOsName(System.getProperty("os.name", ""));
  }

  /** The platform for an {@code os.name} value; Linux for anything that is neither macOS nor Windows. */
  static Platform forOsName(String osName) {
    String os = osName.toLowerCase(Locale.ROOT);
    if (os.startsWith("windows")) {
      return WINDOWS;
    }
    if (os.startsWith("mac") || os.startsWith("darwin")) {
      return MACOS;
    }
    return LINUX;
  }

  /** A short name for messages and logs: linux, macos, windows. */
  String name();

  /** The arguments for libfuse's path-based {@code fuse_main} that precede the mount point. */
  List<String> pathApiArguments(MountOptions options);

  /** True if the platform's FUSE library has the low-level (inode-based) API. */
  boolean hasLowLevelApi();

  /**
   * The {@code -o} options (one per element) for {@code fuse_mount} + {@code fuse_lowlevel_new}.
   *
   * @throws UnsupportedOperationException when {@link #hasLowLevelApi()} is false
   */
  List<String> lowLevelOptions(MountOptions options);

  /**
   * The mount point as libfuse wants it, from what the user typed: an absolute normalised directory on
   * POSIX systems; on Windows also a drive letter ({@code X:}) or {@code *} for any free letter.
   *
   * @throws IllegalArgumentException with a one-line reason when it cannot be a mount point here
   */
  String mountTarget(String userArgument);

  /**
   * The names along {@code path}, a path inside the filesystem as this OS writes it (separators,
   * {@code .} and empty parts handled; {@code ..} refused because the filesystem resolves it).
   *
   * @throws IllegalArgumentException naming the bad component
   */
  List<String> splitPath(String path);

  /** Why {@code name} cannot be a file name on this OS, or null if it can. */
  String invalidNameReason(String name);

  /** True if two names that differ only in letter case are different files. */
  boolean caseSensitive();

  /** The key under which the OS compares names: two names are the same file iff their keys are equal. */
  String nameKey(String name);

  /**
   * The Windows FILE_ATTRIBUTE_* bits a file with this type, POSIX permission bits and name shows; 0 on
   * systems without such attributes.
   */
  int fileAttributes(FileType type, int mode, String name);

  /**
   * The POSIX permission bits after the OS set {@code attributes} on a file whose bits were {@code mode};
   * {@code mode} unchanged on systems without such attributes.
   */
  int modeWithAttributes(FileType type, int mode, int attributes);
}
