package io.dynamicfs.fuse.platform;

import io.dynamicfs.core.api.FileType;
import java.util.List;

/**
 * What Linux and macOS share: POSIX paths and names, case-sensitive lookups, and no file attributes beside
 * the mode. Subclasses say how they mount and how they compare names.
 */
abstract class PosixPlatform implements Platform {
  @Override
  public String mountTarget(String userArgument) {
    return PosixNames.absoluteDirectory(userArgument);
  }

  @Override
  public List<String> splitPath(String path) {
    return PosixNames.split(path, this);
  }

  @Override
  public String invalidNameReason(String name) {
    return PosixNames.invalidNameReason(name);
  }

  @Override
  public boolean caseSensitive() {
    return true;
  }

  @Override
  public int fileAttributes(FileType type, int mode, String name) {
    return 0;
  }

  @Override
  public int modeWithAttributes(FileType type, int mode, int attributes) {
    return mode;
  }
}
