package io.dynamicfs.core.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Replicated and erasure-coded tiers over real segment stores in temp directories, with devices lost and bytes flipped. */
class TierTest {
  private static final String FS = "test-fs";

  @TempDir
  Path tmp;

  private final Random rnd = new Random(42);

  private List<Path> devices(int n) {
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(tmp.resolve("dev" + i));
    }
    return out;
  }

  private TieredStore open(String redundancy, List<Path> devs, boolean create) throws IOException {
    StorageLayout l = new StorageLayout(List.of(new TierSpec("t", Redundancy.parse(redundancy), devs)),
        StorageLayout.Scrub.DEFAULT);
    return TieredStore.open(l, FS, Codec.LZ4, 4 << 20, create, false);
  }

  /** Blocks of assorted sizes and compressibility, by id. */
  private Map<BlockId, byte[]> blocks(int n) {
    Map<BlockId, byte[]> out = new LinkedHashMap<>();
    int[] sizes = {1, 7, 100, 4096, 65536, 200_000, 1 << 20};
    for (int i = 0; i < n; i++) {
      byte[] b = new byte[sizes[i % sizes.length]];
      if (i % 3 == 0) {
        for (int j = 0; j < b.length; j++) {
          b[j] = (byte) ("abcdefgh".charAt(j % 8) + (j / 4096));
        }
        b[0] = (byte) i;
        if (b.length > 1) {
          b[1] = (byte) (i >> 8);
        }
      } else {
        rnd.nextBytes(b);
      }
      out.put(BlockId.hash(b, 0, b.length), b);
    }
    return out;
  }

  private static void putAll(TieredStore s, Map<BlockId, byte[]> blocks) throws IOException {
    for (var e : blocks.entrySet()) {
      s.put(e.getKey(), e.getValue(), e.getValue().length);
    }
    s.sync();
  }

  private static void assertAllRead(TieredStore s, Map<BlockId, byte[]> blocks) throws IOException {
    for (var e : blocks.entrySet()) {
      assertArrayEquals(e.getValue(), s.get(e.getKey()), "block " + e.getKey());
    }
  }

  private static void deleteTree(Path p) throws IOException {
    try (Stream<Path> w = Files.walk(p)) {
      for (Path x : w.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  private static int copiesOf(TieredStore s, BlockId id) {
    int n = 0;
    for (Device d : s.tiers().get(0).devices()) {
      if (d.readable() != null && d.readable().stat(id) != null) {
        n++;
      }
    }
    return n;
  }

  @Test
  void replicateKeepsNCopiesAndSurvivesLosingNMinusOneDevices() throws Exception {
    List<Path> devs = devices(3);
    Map<BlockId, byte[]> blocks = blocks(40);
    try (TieredStore s = open("replicate-2", devs, true)) {
      putAll(s, blocks);
      for (BlockId id : blocks.keySet()) {
        assertEquals(2, copiesOf(s, id));
      }
    }
    deleteTree(devs.get(1));
    try (TieredStore s = open("replicate-2", devs, false)) {
      assertEquals(Device.Health.FAILED, s.tiers().get(0).devices().get(1).health());
      assertAllRead(s, blocks);
      for (BlockId id : blocks.keySet()) {
        BlockCheck c = s.tiers().get(0).check(id, true);
        assertTrue(c.verdict() != BlockCheck.Verdict.UNREPAIRABLE, c.toString());
        assertEquals(2, copiesOf(s, id), "copies restored on the two devices left");
      }
    }
  }

  @Test
  void erasureCodedBlocksReadBackWithAnyTwoOfSixDevicesGone() throws Exception {
    List<Path> devs = devices(6);
    Map<BlockId, byte[]> blocks = blocks(21);
    try (TieredStore s = open("rs-4-2", devs, true)) {
      putAll(s, blocks);
      for (BlockId id : blocks.keySet()) {
        assertEquals(6, copiesOf(s, id), "one shard per device");
        assertEquals(BlockCheck.Verdict.HEALTHY, s.tiers().get(0).check(id, false).verdict());
      }
    }
    // every pair of lost devices: move both away, read everything, move them back
    for (int a = 0; a < 6; a++) {
      for (int b = a + 1; b < 6; b++) {
        Path pa = tmp.resolve("away-a");
        Path pb = tmp.resolve("away-b");
        Files.move(devs.get(a), pa);
        Files.move(devs.get(b), pb);
        try (TieredStore s = open("rs-4-2", devs, false)) {
          assertAllRead(s, blocks);
        } finally {
          Files.move(pa, devs.get(a));
          Files.move(pb, devs.get(b));
        }
      }
    }
  }

  @Test
  void threeLostDevicesOfRs42FailWithEioNeverWrongBytes() throws Exception {
    List<Path> devs = devices(6);
    Map<BlockId, byte[]> blocks = blocks(7);
    try (TieredStore s = open("rs-4-2", devs, true)) {
      putAll(s, blocks);
    }
    for (int i = 0; i < 3; i++) {
      deleteTree(devs.get(i));
    }
    FsException e = assertThrows(FsException.class, () -> open("rs-4-2", devs, false));
    assertTrue(e.getMessage().contains("needs at least 4"), e.getMessage());
    // with the directories back but empty, the tier opens and every read fails cleanly
    for (int i = 0; i < 3; i++) {
      Files.createDirectories(devs.get(i));
    }
    try (TieredStore s = open("rs-4-2", devs, false)) {
      for (BlockId id : blocks.keySet()) {
        assertThrows(FsException.class, () -> s.get(id));
        assertEquals(BlockCheck.Verdict.UNREPAIRABLE, s.tiers().get(0).check(id, true).verdict());
      }
    }
  }

  @Test
  void replacedEmptyDevicesAreRefilledByRepair() throws Exception {
    List<Path> devs = devices(6);
    Map<BlockId, byte[]> blocks = blocks(14);
    try (TieredStore s = open("rs-4-2", devs, true)) {
      putAll(s, blocks);
    }
    deleteTree(devs.get(0));
    deleteTree(devs.get(4));
    Files.createDirectories(devs.get(0));
    Files.createDirectories(devs.get(4));
    try (TieredStore s = open("rs-4-2", devs, false)) {
      assertTrue(s.tiers().get(0).devices().get(0).isFresh());
      for (BlockId id : blocks.keySet()) {
        BlockCheck c = s.tiers().get(0).check(id, true);
        assertEquals(BlockCheck.Verdict.REPAIRED, c.verdict(), c.toString());
        assertEquals(2, c.missing());
      }
      s.sync();
    }
    // now two *other* devices may go
    deleteTree(devs.get(1));
    deleteTree(devs.get(2));
    try (TieredStore s = open("rs-4-2", devs, false)) {
      assertAllRead(s, blocks);
    }
  }

  /** Flips one byte inside the payload area of records of one device's segments. */
  private void flipBytes(Path dev, int flips) throws IOException {
    List<Path> segs;
    try (Stream<Path> l = Files.list(dev)) {
      segs = l.filter(p -> p.getFileName().toString().startsWith("seg-")).sorted().toList();
    }
    for (int i = 0; i < flips; i++) {
      Path seg = segs.get(rnd.nextInt(segs.size()));
      try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
        if (f.length() < 200) {
          continue;
        }
        int header = io.dynamicfs.core.block.SegmentStore.RECORD_HEADER_BYTES;
        long pos = header + (long) (rnd.nextDouble() * (f.length() - header - 1));
        f.seek(pos);
        int b = f.read();
        f.seek(pos);
        f.write(b ^ 0x5a);
      }
    }
  }

  @Test
  void corruptCopiesAndShardsAreRebuiltOnReadAndByCheck() throws Exception {
    for (String red : List.of("replicate-2", "rs-4-2")) {
      Path base = tmp.resolve(red);
      List<Path> devs = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        devs.add(base.resolve("d" + i));
      }
      Map<BlockId, byte[]> blocks = blocks(30);
      try (TieredStore s = open(red, devs, true)) {
        putAll(s, blocks);
      }
      // damage only one device per redundancy unit of tolerance: always repairable
      flipBytes(devs.get(2), 25);
      try (TieredStore s = open(red, devs, false)) {
        assertAllRead(s, blocks);
        long repaired = 0;
        for (BlockId id : blocks.keySet()) {
          BlockCheck c = s.tiers().get(0).check(id, true);
          assertTrue(c.verdict() == BlockCheck.Verdict.HEALTHY || c.verdict() == BlockCheck.Verdict.REPAIRED,
              red + " " + c);
        }
        Device d2 = s.tiers().get(0).devices().get(2);
        assertTrue(d2.badRecords() > 0, red + ": corruption was noticed");
        repaired += d2.repairs();
        assertTrue(repaired > 0 || d2.badRecords() > 0);
        for (BlockId id : blocks.keySet()) {
          assertEquals(BlockCheck.Verdict.HEALTHY, s.tiers().get(0).check(id, false).verdict(), red);
        }
        s.sync();
      }
      try (TieredStore s = open(red, devs, false)) {
        assertAllRead(s, blocks);
      }
    }
  }

  @Test
  void writesGoOnDegradedWhileTheyCanAndStopWhenTheyCannot() throws Exception {
    List<Path> devs = devices(6);
    try (TieredStore s = open("rs-4-2", devs, true)) {
      s.tiers().get(0).devices().get(3).fail("test: pulled");
      Map<BlockId, byte[]> blocks = blocks(5);
      putAll(s, blocks);
      assertAllRead(s, blocks);
      assertEquals(5, s.tiers().get(0).degradedWrites());
      s.tiers().get(0).devices().get(5).fail("test: pulled");
      byte[] more = new byte[5000];
      rnd.nextBytes(more);
      FsException e = assertThrows(FsException.class, () -> s.put(BlockId.hash(more, 0, more.length), more, more.length));
      assertTrue(e.getMessage().contains("needs at least 5 writable devices"), e.getMessage());
    }
  }

  @Test
  void aDamagedRecordHeaderIsSalvagedOnARedundantTier() throws Exception {
    List<Path> devs = devices(2);
    Map<BlockId, byte[]> blocks = blocks(12);
    try (TieredStore s = open("replicate-2", devs, true)) {
      putAll(s, blocks);
    }
    Path seg = devs.get(0).resolve("seg-00000001.dfs");
    try (RandomAccessFile f = new RandomAccessFile(seg.toFile(), "rw")) {
      f.seek(20); // inside the first record's header
      f.write(0xff);
      f.write(0xee);
    }
    try (TieredStore s = open("replicate-2", devs, false)) {
      assertTrue(!s.damage().isEmpty(), "damage is listed");
      assertAllRead(s, blocks);
      int restored = 0;
      for (BlockId id : blocks.keySet()) {
        if (s.tiers().get(0).check(id, true).verdict() == BlockCheck.Verdict.REPAIRED) {
          restored++;
        }
      }
      assertEquals(1, restored, "only the record behind the damaged header was lost");
    }
  }

  @Test
  void aDeviceOfAnotherFilesystemIsRefused() throws Exception {
    List<Path> devs = devices(2);
    try (TieredStore s = open("replicate-2", devs, true)) {
      putAll(s, blocks(2));
    }
    StorageLayout l = new StorageLayout(List.of(new TierSpec("t", new Redundancy.Replicate(2), devs)),
        StorageLayout.Scrub.DEFAULT);
    try (TieredStore s = TieredStore.open(l, "other-fs", Codec.LZ4, 4 << 20, false, false)) {
      fail();
    } catch (FsException e) {
      assertTrue(e.getMessage().contains("belongs to filesystem test-fs"), e.getMessage());
    }
  }

  private static void fail() {
    throw new AssertionError("should not open");
  }
}
