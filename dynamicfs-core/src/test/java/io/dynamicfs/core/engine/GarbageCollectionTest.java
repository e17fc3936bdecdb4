package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.ProgressListener;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** gc: a dry run reports and changes nothing; applied, it deletes unreferenced blocks and compacts dead space. */
class GarbageCollectionTest {
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

  private static byte[] content(int seed, int length) {
    byte[] b = new byte[length];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void write(DynamicFileSystem fs, String name, byte[] c) throws IOException {
    OpenResult r = fs.create(Caller.ROOT, FileSystem.ROOT_INO, name, 0644, O_RDWR);
    fs.write(r.handle(), 0, c, 0, c.length);
    fs.release(r.handle());
  }

  private static byte[] read(DynamicFileSystem fs, String name, int length) throws IOException {
    long h = fs.open(Caller.ROOT, fs.lookup(FileSystem.ROOT_INO, name), 0);
    byte[] got = new byte[length];
    int n = 0;
    while (n < length) {
      int k = fs.read(h, n, got, n, length - n);
      assertTrue(k > 0);
      n += k;
    }
    fs.release(h);
    return got;
  }

  @Test
  void collectGarbage_dryRunReports_applyReclaims_survivorsIntact_fsckClean() throws Exception {
    byte[] stray = content(99, 200_000);
    BlockId strayId = BlockId.hash(stray, 0, stray.length);
    try (DataDirectory dir = DataDirectory.open(data, FormatOptions.DEFAULT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, smallSegments())) {
      for (int i = 0; i < 8; i++) {
        write(fs, "f" + i, content(i, 3 * MIB));
      }
      for (int i = 1; i < 8; i++) {
        if (i != 4) {
          fs.unlink(FileSystem.ROOT_INO, "f" + i);
        }
      }
      fs.reclaimNow(); // what the background reclaimer does within a second: deleted files' blocks go
      assertEquals(0, fs.collectGarbage(false, 0.1, ProgressListener.NONE).pendingBlocks());
      // A record no metadata references, as a failed delete would leave behind.
      fs.blockStore().put(strayId, stray, stray.length);
      fs.blockStore().sync();

      long filesBefore = blockFileBytes();
      List<String> phases = new ArrayList<>();
      GarbageReport dry = fs.collectGarbage(false, 0.1, (phase, done, total) -> phases.add(phase));
      assertFalse(dry.applied());
      assertEquals(1, dry.unreferencedBlocks(), dry.toString());
      long strayStored = SegmentStore.incompressibleRecordBytes(stray.length) - SegmentStore.RECORD_HEADER_BYTES;
      assertTrue(dry.unreferencedBytes() > 0 && dry.unreferencedBytes() <= strayStored, dry.toString());
      assertTrue(dry.deadBytes() >= 15L * MIB, "15 MiB of files were deleted: " + dry);
      assertTrue(dry.reclaimableBytes() > 0 && dry.reclaimableSegments() > 0, dry.toString());
      assertTrue(dry.reclaimableBytes() <= dry.deadBytes(), dry.toString());
      assertEquals(0, dry.deletedBlocks());
      assertEquals(0, dry.freedBytes());
      assertEquals(filesBefore, blockFileBytes(), "a dry run must not change the store");
      assertTrue(fs.blockStore().contains(strayId), "a dry run must not delete");
      assertTrue(phases.contains("scan"), phases.toString());

      GarbageReport applied = fs.collectGarbage(true, 0.1, ProgressListener.NONE);
      assertTrue(applied.applied());
      assertEquals(1, applied.deletedBlocks(), applied.toString());
      assertFalse(fs.blockStore().contains(strayId));
      assertTrue(applied.freedBytes() > 0, applied.toString());
      assertTrue(blockFileBytes() < filesBefore - 8L * MIB, "segments still hold " + blockFileBytes());

      GarbageReport again = fs.collectGarbage(false, 0.1, ProgressListener.NONE);
      assertEquals(0, again.unreferencedBlocks());
      assertEquals(0, again.reclaimableSegments(), again.toString());

      assertArrayEquals(content(0, 3 * MIB), read(fs, "f0", 3 * MIB));
      assertArrayEquals(content(4, 3 * MIB), read(fs, "f4", 3 * MIB));
    }
    try (DataDirectory dir = DataDirectory.open(data, null);
        MetadataStore meta = MetadataStore.open(dir.metaDir(), dir.format().blockSize());
        SegmentStore store = SegmentStore.openForCheck(dir.blocksDir(), dir.format().codec())) {
      Fsck.Report r = Fsck.check(meta, store, true, s -> { });
      assertTrue(r.clean(), r.problems().toString());
      assertEquals(6, r.blocks(), "2 files of 3 blocks remain");
    }
  }

  @Test
  void collectGarbage_badFraction_einval() throws Exception {
    try (DataDirectory dir = DataDirectory.open(data, FormatOptions.DEFAULT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, smallSegments())) {
      assertThrows(FsException.class, () -> fs.collectGarbage(false, 0, ProgressListener.NONE));
      assertThrows(FsException.class, () -> fs.collectGarbage(false, 1.5, ProgressListener.NONE));
    }
  }

  @Test
  void usage_duplicateFiles_dedupRatioTwo_compressibleData_compressionAboveOne() throws Exception {
    try (DataDirectory dir = DataDirectory.open(data, FormatOptions.DEFAULT);
        DynamicFileSystem fs = DynamicFileSystem.open(dir, smallSegments())) {
      byte[] random = content(7, 2 * MIB);
      write(fs, "a", random);
      write(fs, "b", random);
      SpaceUsage u = fs.usage();
      assertEquals(2, u.blocks());
      assertEquals(2L * MIB, u.uniqueBytes());
      assertEquals(4L * MIB, u.referencedBytes());
      assertEquals(2.0, u.dedupRatio(), 1e-9);
      byte[] text = "all work and no play makes jack a dull boy\n".repeat(30_000).substring(0, MIB)
          .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      write(fs, "c", text);
      SpaceUsage v = fs.usage();
      assertEquals(3, v.blocks());
      assertTrue(v.compressionRatio() > 1.2, v.toString());
      assertTrue(v.storedBytes() < v.uniqueBytes(), v.toString());
    }
  }
}
