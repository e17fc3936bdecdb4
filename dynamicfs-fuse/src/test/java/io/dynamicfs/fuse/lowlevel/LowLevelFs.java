package io.dynamicfs.fuse.lowlevel;

import io.dynamicfs.cache.MemoryBlockCache;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.fuse.MountOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A real DynamicFS mounted through {@link LowLevelMount} for a test; {@link #close} always unmounts. */
final class LowLevelFs implements AutoCloseable {
  final Path data;
  final Path mnt;
  private DataDirectory dir;
  private DynamicFileSystem fs;
  LowLevelMount mount;

  private LowLevelFs(Path base) throws IOException {
    this.data = Files.createDirectories(base.resolve("data"));
    this.mnt = Files.createDirectories(base.resolve("mnt"));
  }

  static LowLevelFs mount(Path base) throws IOException {
    LowLevelFs m = new LowLevelFs(base);
    try {
      m.start();
    } catch (IOException | RuntimeException e) {
      m.close();
      throw e;
    }
    return m;
  }

  private void start() throws IOException {
    dir = DataDirectory.open(data, FormatOptions.DEFAULT);
    fs = DynamicFileSystem.open(dir, EngineOptions.defaults()
        .withStoreDecorator(s -> new MemoryBlockCache(s, 64L << 20)));
    mount = LowLevelMount.mount(fs, mnt, MountOptions.defaults("dynamicfs:" + data));
  }

  Path path(String first, String... more) {
    return mnt.resolve(Path.of(first, more).toString());
  }

  void remount() throws IOException {
    stop();
    start();
  }

  void stop() throws IOException {
    IOException failure = null;
    for (AutoCloseable c : new AutoCloseable[] {mount, fs, dir}) {
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e instanceof IOException io ? io : new IOException(e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    mount = null;
    fs = null;
    dir = null;
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void close() throws IOException {
    stop();
  }
}
