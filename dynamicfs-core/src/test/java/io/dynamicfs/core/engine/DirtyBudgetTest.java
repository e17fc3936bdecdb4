package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Blocks written and not yet handed to the pipeline: a file keeps up to 64 (page writes all over a database
 * file stay in memory), all files together about 128 MiB, and every byte reads back whatever was evicted.
 */
class DirtyBudgetTest {
  private static final int BS = 1 << 20;
  private static final FormatOptions FORMAT = new FormatOptions(BS, Codec.LZ4, 4096);
  private static final int O_RDWR = 2;

  @TempDir Path data;

  @Test
  void pageWritesOverManyBlocks_stayWithinThePerFileAndTotalBounds_andReadBack() throws IOException {
    EngineOptions options = new EngineOptions(UnaryOperator.identity(), TimeSource.SYSTEM, 2, Duration.ofHours(1),
        64L << 20);
    Random random = new Random(11);
    Map<String, Map<Long, byte[]>> written = new HashMap<>();
    try (DataDirectory dir = DataDirectory.open(data, FORMAT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, options)) {
      List<Long> handles = new ArrayList<>();
      for (String name : List.of("a", "b", "c")) {
        long h = fs.create(Caller.ROOT, FileSystem.ROOT_INO, name, 0644, O_RDWR).handle();
        handles.add(h);
        Map<Long, byte[]> pages = new HashMap<>();
        written.put(name, pages);
        for (long block = 0; block < 100; block++) { // one 4 KiB page in each of 100 blocks
          byte[] page = new byte[4096];
          random.nextBytes(page);
          long off = block * BS + 4096L * random.nextInt(BS / 4096);
          fs.write(h, off, page, 0, page.length);
          pages.put(off, page);
        }
        if (name.equals("a")) {
          assertEquals(64, fs.dirtyBlocks(), "one file keeps its newest 64 blocks in memory");
        }
      }
      // a: 64; past 128 blocks in all a file grows no further than its first 8 (c: 8)
      int total = fs.dirtyBlocks();
      assertTrue(total <= 128 + 3 * 8 && total >= 64 + 8 + 8, "dirty blocks in all: " + total);
      for (long h : handles) {
        fs.release(h);
      }
      assertEquals(0, fs.dirtyBlocks(), "released files hold nothing");
      for (var file : written.entrySet()) {
        long ino = fs.lookup(FileSystem.ROOT_INO, file.getKey());
        long h = fs.open(Caller.ROOT, ino, 0);
        try {
          for (var page : file.getValue().entrySet()) {
            byte[] got = new byte[4096];
            assertEquals(4096, fs.read(h, page.getKey(), got, 0, 4096));
            assertArrayEquals(page.getValue(), got, file.getKey() + " at " + page.getKey());
          }
        } finally {
          fs.release(h);
        }
      }
    }
  }
}
