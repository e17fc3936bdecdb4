package io.dynamicfs.core.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SegmentStore#appendDirectly}: records written with O_DIRECT (each rewriting the disk block the
 * previous one ended in) read back through every read path, leave segments that a store appending through
 * the page cache and a check read as clean, hold the same bytes as buffered appends, survive being copied
 * mid-run (what a crash leaves after a sync), and stay readable by readers racing the appends.
 */
class DirectAppendTest {
  private static final long SEGMENT = 4L << 20;

  @TempDir Path dir;
  private final Random random = new Random(23);

  @BeforeEach
  void directIoPossibleHere() throws IOException {
    Path probe = dir.resolve("probe");
    Files.createFile(probe);
    boolean ok;
    try (var ch = java.nio.channels.FileChannel.open(probe, java.nio.file.StandardOpenOption.WRITE,
        com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
      ok = ReadBuffer.ALIGN % Files.getFileStore(probe).getBlockSize() == 0;
    } catch (IOException | UnsupportedOperationException e) {
      ok = false;
    }
    Files.delete(probe);
    Assumptions.assumeTrue(ok, "the test directory's filesystem refuses O_DIRECT: direct appends are not exercised");
  }

  /** Random sizes (1 byte to 300 KiB, some whole 1 MiB blocks), half of them compressible. */
  private byte[] block() {
    int n = random.nextInt(10) == 0 ? 1 << 20 : 1 + random.nextInt(random.nextBoolean() ? 5000 : 300_000);
    byte[] b = new byte[n];
    if (random.nextBoolean()) {
      random.nextBytes(b);
    } else {
      for (int i = 0; i < n; i++) {
        b[i] = (byte) ('a' + (i * 7 + i / 13) % 19);
      }
      b[random.nextInt(n)] = (byte) random.nextInt(); // unique, so nothing dedups
    }
    return b;
  }

  private static BlockId put(SegmentStore s, byte[] b) throws IOException {
    BlockId id = BlockId.hash(b, 0, b.length);
    s.put(id, b, b.length);
    return id;
  }

  private static void assertAllRead(SegmentStore s, Map<BlockId, byte[]> blocks) throws IOException {
    for (Map.Entry<BlockId, byte[]> e : blocks.entrySet()) {
      byte[] want = e.getValue();
      assertArrayEquals(want, s.get(e.getKey(), false));
      assertArrayEquals(want, s.get(e.getKey(), true)); // the O_DIRECT read path
      int off = want.length / 3;
      int len = Math.min(want.length - off, 5000);
      byte[] range = new byte[len];
      int got = s.readRange(e.getKey(), off, range, 0, len);
      assertEquals(len, got);
      assertArrayEquals(Arrays.copyOfRange(want, off, off + len), range);
    }
  }

  private static Map<String, Long> segmentSizes(Path d) throws IOException {
    Map<String, Long> sizes = new TreeMap<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(d, "seg-*.dfs")) {
      for (Path p : ds) {
        sizes.put(p.getFileName().toString(), Files.size(p));
      }
    }
    return sizes;
  }

  @Test
  void directAppends_readBackEverywhere_andSegmentsReopenCleanInEitherMode() throws IOException {
    Map<BlockId, byte[]> blocks = new LinkedHashMap<>();
    try (SegmentStore s = SegmentStore.open(dir, Codec.LZ4, SEGMENT).appendDirectly()) {
      for (int i = 0; i < 120; i++) {
        byte[] b = block();
        blocks.put(put(s, b), b);
        if (i % 10 == 0) {
          s.sync();
        }
      }
      assertAllRead(s, blocks);
      List<Long> sizes = new ArrayList<>(segmentSizes(dir).values());
      assertTrue(sizes.size() > 3, "rolled over several segments");
      long last = sizes.get(sizes.size() - 1);
      assertEquals(0, last % ReadBuffer.ALIGN, "a direct append pads the segment to a block boundary");
      assertTrue(sizes.subList(0, sizes.size() - 1).stream().anyMatch(x -> x % ReadBuffer.ALIGN != 0),
          "segments rolled over lose their padding: " + sizes);
    }
    try (SegmentStore check = SegmentStore.openForCheck(dir, Codec.LZ4)) {
      assertEquals(List.of(), check.damage(), "padding is not damage");
      assertEquals(blocks.size(), check.stats().blocks());
    }
    // reopened appending directly: the last segment's partial block is read back from the file and rewritten
    try (SegmentStore s = SegmentStore.open(dir, Codec.LZ4, SEGMENT).appendDirectly()) {
      assertAllRead(s, blocks);
      for (int i = 0; i < 30; i++) {
        byte[] b = block();
        blocks.put(put(s, b), b);
      }
      assertAllRead(s, blocks);
    }
    // reopened appending through the page cache: appends after the padding was dropped
    try (SegmentStore s = SegmentStore.open(dir, Codec.LZ4, SEGMENT)) {
      assertAllRead(s, blocks);
      for (int i = 0; i < 10; i++) {
        byte[] b = block();
        blocks.put(put(s, b), b);
      }
    }
    try (SegmentStore s = SegmentStore.open(dir, Codec.LZ4, SEGMENT).appendDirectly()) {
      assertAllRead(s, blocks);
      assertEquals(blocks.size(), s.stats().blocks());
    }
  }

  @Test
  void directAndBufferedAppends_leaveTheSameSegments() throws IOException {
    Path direct = dir.resolve("direct");
    Path buffered = dir.resolve("buffered");
    List<byte[]> seq = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      seq.add(block());
    }
    try (SegmentStore d = SegmentStore.open(direct, Codec.LZ4, SEGMENT).appendDirectly();
        SegmentStore b = SegmentStore.open(buffered, Codec.LZ4, SEGMENT)) {
      for (byte[] x : seq) {
        put(d, x);
        put(b, x);
      }
    }
    // reopening drops the padding; after that the files are byte for byte the same
    SegmentStore.open(direct, Codec.LZ4, SEGMENT).close();
    Map<String, Long> sizes = segmentSizes(buffered);
    assertEquals(sizes, segmentSizes(direct));
    for (String name : sizes.keySet()) {
      assertArrayEquals(Files.readAllBytes(buffered.resolve(name)), Files.readAllBytes(direct.resolve(name)), name);
    }
  }

  @Test
  void segmentsCopiedAfterASync_openWithEverySyncedBlock() throws IOException {
    Map<BlockId, byte[]> synced = new LinkedHashMap<>();
    Path copy = dir.resolve("copy");
    Path live = dir.resolve("live");
    try (SegmentStore s = SegmentStore.open(live, Codec.LZ4, SEGMENT).appendDirectly()) {
      for (int i = 0; i < 25; i++) {
        byte[] b = block();
        synced.put(put(s, b), b);
      }
      s.sync();
      // what a kill -9 right now leaves on the disk: the files as they are, padding and all
      Files.createDirectories(copy);
      for (String name : segmentSizes(live).keySet()) {
        Files.copy(live.resolve(name), copy.resolve(name));
      }
      for (int i = 0; i < 5; i++) {
        put(s, block()); // appends after the copy rewrite the block the copy ends in
      }
    }
    try (SegmentStore check = SegmentStore.openForCheck(copy, Codec.LZ4)) {
      assertEquals(List.of(), check.damage());
    }
    try (SegmentStore s = SegmentStore.open(copy, Codec.LZ4, SEGMENT).appendDirectly()) {
      assertAllRead(s, synced);
      assertEquals(synced.size(), s.stats().blocks());
    }
  }

  @Test
  void readersRacingDirectAppends_alwaysReadWhatWasPut() throws Exception {
    Map<BlockId, byte[]> blocks = new ConcurrentHashMap<>();
    List<BlockId> ids = new CopyOnWriteArrayList<>();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    AtomicBoolean done = new AtomicBoolean();
    try (SegmentStore s = SegmentStore.open(dir, Codec.NONE, 64L << 20).appendDirectly()) {
      List<Thread> readers = new ArrayList<>();
      for (int t = 0; t < 3; t++) {
        int seed = t;
        Thread r = new Thread(() -> {
          Random rnd = new Random(seed);
          while (!done.get() && errors.isEmpty()) {
            if (ids.isEmpty()) {
              Thread.onSpinWait();
              continue;
            }
            // mostly the newest records: their first block is the one the next append rewrites
            int n = ids.size();
            BlockId id = ids.get(Math.max(0, n - 1 - rnd.nextInt(Math.min(n, rnd.nextBoolean() ? 2 : n))));
            try {
              byte[] got = s.get(id, rnd.nextBoolean());
              if (!Arrays.equals(blocks.get(id), got)) {
                errors.add(new AssertionError("read wrong bytes of " + id));
              }
            } catch (Throwable e) {
              errors.add(e);
            }
          }
        });
        r.start();
        readers.add(r);
      }
      Random w = new Random(99);
      for (int i = 0; i < 1500 && errors.isEmpty(); i++) {
        byte[] b = new byte[1 + w.nextInt(9000)]; // small records: several share each disk block
        w.nextBytes(b);
        BlockId id = BlockId.hash(b, 0, b.length);
        blocks.put(id, b);
        s.put(id, b, b.length);
        ids.add(id);
      }
      done.set(true);
      for (Thread r : readers) {
        r.join();
      }
    }
    assertEquals(List.of(), errors);
  }
}
