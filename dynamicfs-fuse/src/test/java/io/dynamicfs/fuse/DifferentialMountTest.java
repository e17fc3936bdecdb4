package io.dynamicfs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Thousands of random operations on a real mount and on a plain directory, compared after every batch
 * (FsDifferential prints the seed; set -Ddfs.seed=N to replay). Runs with the default 1 MiB blocks and
 * with 64 KiB blocks and a tiny cache, so block boundaries and cache misses are crossed constantly.
 */
class DifferentialMountTest {
  @TempDir
  Path base;

  private static long seed() {
    String s = System.getProperty("dfs.seed");
    return s != null ? Long.parseLong(s) : System.nanoTime();
  }

  private void runDifferential(MountedFs fs, int operations) throws IOException {
    Path reference = Files.createDirectories(base.resolve("reference"));
    long seed = seed();
    System.err.println("DifferentialMountTest seed=" + seed);
    FsDifferential diff = new FsDifferential(fs.mnt, reference, seed);
    diff.run(operations, 50);
    fs.remount();
    diff.compareTrees();
  }

  @Test
  void randomOperations_defaultFormat_matchPlainDirectory() throws IOException {
    try (MountedFs fs = MountedFs.mount(base)) {
      runDifferential(fs, 5000);
    }
    FsckAssert.assertClean(base.resolve("data"));
  }

  @Test
  void randomOperations_smallBlocksTinyCache_matchPlainDirectory() throws IOException {
    try (MountedFs fs = MountedFs.mount(base,
        new io.dynamicfs.core.format.FormatOptions(64 << 10, io.dynamicfs.core.codec.Codec.ZSTD, 4096), 1 << 20)) {
      runDifferential(fs, 3000);
    }
    FsckAssert.assertClean(base.resolve("data"));
  }
}
