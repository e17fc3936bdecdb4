package io.dynamicfs.fuse;

import io.dynamicfs.cache.MemoryBlockCache;
import io.dynamicfs.core.format.FormatOptions;
import java.io.IOException;
import java.nio.file.Path;

/**
 * A high-performance mount with the kernel's writeback cache asked for ({@code dfs.fuse.lowlevel.writebackCache}
 * set while it mounts, as an operator opts in; no preset turns it on). Libfuse 3 grants it; libfuse 2 cannot.
 */
final class WritebackCache {
  private static final String PROPERTY = "dfs.fuse.lowlevel.writebackCache";

  private WritebackCache() {}

  static MountedFs mount(Path base) throws IOException {
    String before = System.getProperty(PROPERTY);
    System.setProperty(PROPERTY, "true");
    try {
      return MountedFs.mount(base, FormatOptions.DEFAULT, s -> new MemoryBlockCache(s, 64L << 20),
          FusePreset.HIGH_PERFORMANCE);
    } finally {
      if (before == null) {
        System.clearProperty(PROPERTY);
      } else {
        System.setProperty(PROPERTY, before);
      }
    }
  }
}
