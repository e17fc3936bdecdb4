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
    runDifferential(fs, operations, () -> { });
  }

  private void runDifferential(MountedFs fs, int operations, Runnable beforeRemount) throws IOException {
    Path reference = Files.createDirectories(base.resolve("reference"));
    long seed = seed();
    System.err.println("DifferentialMountTest seed=" + seed);
    FsDifferential diff = new FsDifferential(fs.mnt, reference, seed, fs.fuseLibrary().equals("fuse3"));
    diff.run(operations, 50);
    assertCovered(diff, fs.fuseLibrary().equals("fuse3"));
    beforeRemount.run();
    fs.remount();
    diff.compareTrees();
  }

  /** The run exercised copy_file_range, lseek and (where the binding has them) renameat2's flags, successfully. */
  private static void assertCovered(FsDifferential diff, boolean renameFlags) {
    java.util.Map<String, Integer> counts = new java.util.TreeMap<>();
    diff.outcomeCounts().forEach((k, v) -> {
      if (k.startsWith("copy_file_range") || k.startsWith("lseek") || k.startsWith("renameat2")) {
        counts.put(k, v);
      }
    });
    System.err.println("DifferentialMountTest new operations: " + counts);
    java.util.List<String> need = new java.util.ArrayList<>(java.util.List.of("copy_file_range:ok",
        "lseek[SEEK_DATA]:ok", "lseek[SEEK_HOLE]:ok"));
    if (renameFlags) {
      need.addAll(java.util.List.of("renameat2[EXCHANGE]:ok", "renameat2[NOREPLACE]:ok",
          "renameat2[NOREPLACE]:EEXIST"));
    }
    for (String k : need) {
      org.junit.jupiter.api.Assertions.assertTrue(counts.getOrDefault(k, 0) > 0, "the run never had " + k);
    }
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

  /** The high-performance preset (long kernel caching) with the writeback cache asked for (libfuse 3 grants it). */
  @Test
  void randomOperations_highPerformanceWithWritebackCache_matchPlainDirectory() throws IOException {
    try (MountedFs fs = WritebackCache.mount(base)) {
      runDifferential(fs, 3000);
    }
    FsckAssert.assertClean(base.resolve("data"));
  }

  /**
   * Tiny L1 (4 blocks) over a tiny persistent L2 (8 blocks, always admitting): both evict constantly, L2
   * entries are written behind reads, and the remount at the end reopens the same L2 directory.
   */
  @Test
  void randomOperations_tinyL1AndL2_matchPlainDirectory() throws IOException {
    io.dynamicfs.core.format.FormatOptions small =
        new io.dynamicfs.core.format.FormatOptions(64 << 10, io.dynamicfs.core.codec.Codec.LZ4, 4096);
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    java.util.function.UnaryOperator<io.dynamicfs.core.block.BlockStore> caches =
        io.dynamicfs.cache.CacheStack.builder(registry).memory(256 << 10)
            .disk(base.resolve("l2"), 8 * (68 << 10) * 8 / 7, io.dynamicfs.cache.Admission.ALWAYS).build();
    try (MountedFs fs = MountedFs.mount(base, small, caches, FusePreset.BALANCED)) {
      runDifferential(fs, 3000, () -> {
        streamThroughTheCaches(fs.mnt, 24 * (64 << 10));
        double l2Hits = registry.get("dfs.cache.hits").tag("level", "l2").counter().count();
        double l2Evictions = registry.get("dfs.cache.evictions").tag("level", "l2").counter().count();
        double l1Evictions = registry.get("dfs.cache.evictions").tag("level", "l1").counter().count();
        System.err.println("tiny caches: l1 evictions=" + l1Evictions + " l2 hits=" + l2Hits
            + " l2 evictions=" + l2Evictions);
        org.junit.jupiter.api.Assertions.assertTrue(l1Evictions > 0 && l2Evictions > 0,
            "both caches must be evicting constantly");
      });
    }
    FsckAssert.assertClean(base.resolve("data"));
  }

  /**
   * Writes a file of {@code size} random bytes, reads it back three times with O_DIRECT (the kernel's page
   * cache would answer otherwise) and removes it. The random operations do not always read more distinct
   * blocks than a tiny L2 holds (a seed that read 47-61 blocks from L2 never overflowed its 8); this makes
   * every block of the file pass through both levels, so their eviction does not depend on the seed.
   */
  private static void streamThroughTheCaches(Path mnt, int size) {
    Path f = mnt.resolve(".stream-through-caches");
    try {
      byte[] bytes = new byte[size];
      new java.util.Random(size).nextBytes(bytes);
      Files.write(f, bytes);
      java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(size + 4096).alignedSlice(4096);
      for (int pass = 0; pass < 3; pass++) {
        buf.clear().limit(size);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f,
            java.nio.file.StandardOpenOption.READ, com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
          while (buf.hasRemaining() && ch.read(buf, buf.position()) > 0) {
            // reads until the buffer is full
          }
        }
        byte[] back = new byte[size];
        buf.flip().get(back);
        org.junit.jupiter.api.Assertions.assertArrayEquals(bytes, back, "pass " + pass);
      }
      Files.delete(f);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
