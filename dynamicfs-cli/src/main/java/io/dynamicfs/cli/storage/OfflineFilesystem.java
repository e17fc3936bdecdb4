package io.dynamicfs.cli.storage;

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

  @Override
  public void close() throws IOException {
    try {
      fs.close();
    } finally {
      dir.close();
    }
  }
}
