package io.dynamicfs.cli.storage;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import java.io.IOException;
import java.nio.file.Path;

/**
 * An unmounted DATA directory opened in this process (locked, like a mount would), for storage commands
 * that run without a daemon. Closing flushes and releases DATA.
 */
final class OfflineFilesystem implements AutoCloseable {
  private final DataDirectory dir;
  private final DynamicFileSystem fs;

  private OfflineFilesystem(DataDirectory dir, DynamicFileSystem fs) {
    this.dir = dir;
    this.fs = fs;
  }

  static OfflineFilesystem open(Path data) throws IOException {
    DataDirectory dir = DataDirectory.open(data, null);
    try {
      return new OfflineFilesystem(dir, DynamicFileSystem.open(dir, EngineOptions.defaults()));
    } catch (IOException | RuntimeException e) {
      dir.close();
      throw e;
    }
  }

  DynamicFileSystem fs() {
    return fs;
  }

  /** The inode at a path from the filesystem's root ("/" is the root). */
  long lookup(String path) throws IOException {
    long ino = FileSystem.ROOT_INO;
    for (String part : path.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        throw FsException.of(Errno.EINVAL, "'..' is not allowed in %s", path);
      }
      ino = fs.lookup(ino, part);
    }
    return ino;
  }

  @Override
  public void close() throws IOException {
    try {
      fs.close();
    } finally {
      dir.close();
    }
  }
}
