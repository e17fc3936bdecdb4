package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Deleted data gives its disk space back: segments that are mostly dead are compacted away. */
class CompactionTest {
  private static final int MIB = 1 << 20;
  private static final int O_RDWR = 2;

  @TempDir
  Path data;

  private static EngineOptions smallSegments() {
    return new EngineOptions(UnaryOperator.identity(), TimeSource.SYSTEM, 2, Duration.ofSeconds(5), 4L * MIB);
  }

  private long blockFileBytes() throws IOException {
    try (Stream<Path> s = Files.list(data.resolve("blocks"))) {
      return s.mapToLong(p -> p.toFile().length()).sum();
    }
  }

  private static byte[] content(int seed) {
    byte[] b = new byte[3 * MIB];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void compact_afterDeletingMostFiles_shrinksSegments_keepsSurvivorsReadable() throws Exception {
    try (DataDirectory dir = DataDirectory.open(data, FormatOptions.DEFAULT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, smallSegments())) {
      for (int i = 0; i < 12; i++) {
        OpenResult r = fs.create(Caller.ROOT, FileSystem.ROOT_INO, "f" + i, 0644, O_RDWR);
        byte[] c = content(i);
        fs.write(r.handle(), 0, c, 0, c.length);
        fs.release(r.handle());
      }
      long before = blockFileBytes();
      for (int i = 0; i < 12; i++) {
        if (i % 4 != 0) {
          fs.unlink(FileSystem.ROOT_INO, "f" + i);
        }
      }
      fs.reclaimNow(); // deleted files' blocks leave the store when reclaimed (every second in the background)
      long freed = fs.compact();
      long after = blockFileBytes();
      assertTrue(freed > 0, "nothing was compacted");
      assertTrue(after < before / 2, "segments still hold " + after + " of " + before + " bytes");
      for (int i = 0; i < 12; i += 4) {
        long h = fs.open(Caller.ROOT, fs.lookup(FileSystem.ROOT_INO, "f" + i), 0);
        byte[] got = new byte[3 * MIB];
        int n = 0;
        while (n < got.length) {
          int k = fs.read(h, n, got, n, got.length - n);
          assertTrue(k > 0);
          n += k;
        }
        fs.release(h);
        assertArrayEquals(content(i), got, "f" + i + " after compaction");
      }
    }
    try (DataDirectory dir = DataDirectory.open(data, null);
        MetadataStore meta = MetadataStore.open(dir.metaDir(), dir.format().blockSize());
        SegmentStore store = SegmentStore.openForCheck(dir.blocksDir(), dir.format().codec())) {
      Fsck.Report r = Fsck.check(meta, store, true, s -> { });
      assertTrue(r.clean(), r.problems().toString());
      assertEquals(9, r.blocks(), "3 files of 3 blocks remain");
    }
  }
}
