package io.dynamicfs.core.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Frames;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.Version1Fixture;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Range reads of framed records through the tiers: the bytes at every frame boundary, a damaged frame caught
 * by the range read that touches it (served from another copy and repaired on replicate-2, EIO on a single
 * copy, decoded from parity on rs-4-2), scrub's check of every frame, and tiers of first-format records.
 */
class FramedTierTest {
  private static final int F = 1 << Frames.SHIFT;
  private static final int HEADER = SegmentStore.RECORD_HEADER_BYTES;

  @TempDir Path tmp;
  private final Random rnd = new Random(9);

  private List<Path> devices(Path base, int n) {
    List<Path> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(base.resolve("dev" + i));
    }
    return out;
  }

  private static TieredStore open(String redundancy, List<Path> devs, boolean create, String fs) throws IOException {
    StorageLayout l = new StorageLayout(List.of(new TierSpec("t", Redundancy.parse(redundancy), devs)),
        StorageLayout.Scrub.DEFAULT);
    return TieredStore.open(l, fs, Codec.LZ4, 4 << 20, create, false);
  }

  private static TieredStore open(String redundancy, List<Path> devs, boolean create) throws IOException {
    return open(redundancy, devs, create, "test-fs");
  }

  /** A 1 MiB block: incompressible, compressible, or frames of both. */
  private byte[] block(int kind) {
    byte[] b = new byte[16 * F];
    for (int f = 0; f < 16; f++) {
      if (kind == 0 || (kind == 2 && f % 2 == 0)) {
        byte[] r = new byte[F];
        rnd.nextBytes(r);
        System.arraycopy(r, 0, b, f * F, F);
      } else {
        for (int i = 0; i < F; i++) {
          b[f * F + i] = (byte) ("tiers keep frames ".charAt(i % 18) + f);
        }
      }
    }
    b[0] = (byte) kind;
    b[1] = (byte) rnd.nextInt();
    return b;
  }

  private static byte[] expect(byte[] plain, int off, int len) {
    int n = Math.max(0, Math.min(len, plain.length - off));
    return n == 0 ? new byte[0] : Arrays.copyOfRange(plain, off, off + n);
  }

  /** Range reads at every frame boundary (and random ones) through the store, compared with the plain bytes. */
  private void assertRanges(TieredStore s, BlockId id, byte[] plain, String what) throws IOException {
    List<int[]> ranges = new ArrayList<>();
    for (int b = 0; b <= plain.length; b += F) {
      for (int off : new int[] {b - 1, b, b + 1}) {
        for (int len : new int[] {1, 4096, F, F + 2}) {
          if (off >= 0) {
            ranges.add(new int[] {off, len});
          }
        }
      }
    }
    for (int i = 0; i < 30; i++) {
      ranges.add(new int[] {rnd.nextInt(plain.length), 1 + rnd.nextInt(3 * F)});
    }
    for (int[] r : ranges) {
      byte[] dst = new byte[r[1]];
      int n = s.readRange(id, r[0], dst, 0, r[1]);
      assertTrue(n >= 0, () -> what + ": a framed block serves ranges");
      assertArrayEquals(expect(plain, r[0], r[1]), Arrays.copyOf(dst, n), () -> what + " " + r[0] + "+" + r[1]);
    }
  }

  /** The segment files of a device. */
  private static List<Path> segments(Path dev) throws IOException {
    try (Stream<Path> l = Files.list(dev)) {
      return l.filter(p -> p.getFileName().toString().startsWith("seg-")).sorted().toList();
    }
  }

  private static void flip(Path file, long at) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
      f.seek(at);
      int b = f.read();
      f.seek(at);
      f.write(b ^ 0x5a);
    }
  }

  /** Where plain byte {@code at} of the only record of a device lies: an incompressible block's raw frames. */
  private static long plainByteOfOnlyRecord(int rawLength, int at) {
    return HEADER + Frames.tableLength(rawLength, Frames.SHIFT) + at;
  }

  @Test
  void replicate2_rangesMatchAtEveryFrameBoundary_andSurviveReopen() throws IOException {
    List<Path> devs = devices(tmp, 3);
    Map<BlockId, byte[]> blocks = new LinkedHashMap<>();
    try (TieredStore s = open("replicate-2", devs, true)) {
      for (int kind = 0; kind < 3; kind++) {
        byte[] b = block(kind);
        BlockId id = BlockId.hash(b, 0, b.length);
        s.put(id, b, b.length);
        blocks.put(id, b);
      }
      s.sync();
      for (var e : blocks.entrySet()) {
        assertRanges(s, e.getKey(), e.getValue(), "fresh");
      }
    }
    try (TieredStore s = open("replicate-2", devs, false)) {
      for (var e : blocks.entrySet()) {
        assertRanges(s, e.getKey(), e.getValue(), "reopened");
        assertArrayEquals(e.getValue(), s.get(e.getKey()));
      }
    }
  }

  @Test
  void replicate2_aFlippedByteInOneFrame_isCaughtByARangeReadTouchingIt_servedFromTheOtherCopy_andRepaired()
      throws IOException {
    List<Path> devs = devices(tmp, 2);
    byte[] b = block(0);
    BlockId id = BlockId.hash(b, 0, b.length);
    try (TieredStore s = open("replicate-2", devs, true)) {
      s.put(id, b, b.length);
    }
    // devices are read in a fixed order: damage the copy on the first one, in frame 7
    flip(segments(devs.get(0)).get(0), plainByteOfOnlyRecord(b.length, 7 * F + 333));
    try (TieredStore s = open("replicate-2", devs, false)) {
      Tier t = s.tiers().get(0);
      Device d0 = t.devices().get(0);
      byte[] dst = new byte[4096];
      assertEquals(4096, s.readRange(id, 2 * F, dst, 0, 4096), "a frame elsewhere is not read, so not noticed");
      assertEquals(0, d0.badRecords());
      assertEquals(4096, s.readRange(id, 7 * F, dst, 0, 4096));
      assertArrayEquals(expect(b, 7 * F, 4096), dst, "the right bytes, from the other copy");
      assertEquals(1, d0.badRecords(), "the bad frame was noticed");
      assertEquals(1, d0.repairs(), "and the copy rewritten from the good one");
      byte[] own = new byte[4096];
      assertEquals(4096, d0.readable().readRange(id, 7 * F, own, 0, 4096), "the first device's own copy is good again");
      assertArrayEquals(dst, own);
      assertEquals(BlockCheck.Verdict.HEALTHY, t.check(id, false).verdict());
    }
  }

  @Test
  void singleCopy_aFlippedByteInOneFrame_failsEioForRangesTouchingIt_only() throws IOException {
    List<Path> devs = devices(tmp, 1);
    byte[] b = block(0);
    BlockId id = BlockId.hash(b, 0, b.length);
    try (TieredStore s = open("replicate-1", devs, true)) {
      s.put(id, b, b.length);
    }
    flip(segments(devs.get(0)).get(0), plainByteOfOnlyRecord(b.length, 3 * F + 1));
    try (TieredStore s = open("replicate-1", devs, false)) {
      byte[] dst = new byte[4096];
      assertEquals(4096, s.readRange(id, 0, dst, 0, 4096));
      assertArrayEquals(expect(b, 0, 4096), dst);
      FsException e = assertThrows(FsException.class, () -> s.readRange(id, 3 * F, dst, 0, 4096));
      assertEquals(Errno.EIO, e.errno(), "no redundancy: EIO, never wrong bytes");
      assertThrows(FsException.class, () -> s.get(id));
      assertEquals(BlockCheck.Verdict.UNREPAIRABLE, s.tiers().get(0).check(id, true).verdict());
    }
  }

  @Test
  void scrubCheck_findsAFlipInAnyFrame_evenOneNoReadTouched_andRepairsIt() throws IOException {
    for (int frame : new int[] {0, 7, 15}) {
      Path base = tmp.resolve("f" + frame);
      List<Path> devs = devices(base, 2);
      byte[] b = block(0);
      BlockId id = BlockId.hash(b, 0, b.length);
      try (TieredStore s = open("replicate-2", devs, true)) {
        s.put(id, b, b.length);
      }
      flip(segments(devs.get(1)).get(0), plainByteOfOnlyRecord(b.length, frame * F + 99)); // the copy reads skip
      try (TieredStore s = open("replicate-2", devs, false)) {
        Tier t = s.tiers().get(0);
        assertRanges(s, id, b, "reads come from the intact first copy");
        BlockCheck c = t.check(id, false);
        assertEquals(BlockCheck.Verdict.DEGRADED, c.verdict(), "frame " + frame + ": " + c);
        assertEquals(1, c.bad());
        assertEquals(BlockCheck.Verdict.REPAIRED, t.check(id, true).verdict());
        assertEquals(BlockCheck.Verdict.HEALTHY, t.check(id, false).verdict());
      }
    }
  }

  @Test
  void rs42_rangesComeFromTheDataShardsFrames_andMatchAtEveryFrameBoundary() throws IOException {
    List<Path> devs = devices(tmp, 6);
    Map<BlockId, byte[]> blocks = new LinkedHashMap<>();
    try (TieredStore s = open("rs-4-2", devs, true)) {
      for (int kind : new int[] {0, 2}) { // text compresses below SMALL_BODY: read whole, below
        byte[] b = block(kind);
        BlockId id = BlockId.hash(b, 0, b.length);
        s.put(id, b, b.length);
        blocks.put(id, b);
      }
      s.sync();
    }
    try (TieredStore s = open("rs-4-2", devs, false)) {
      ErasureCodedTier t = (ErasureCodedTier) s.tiers().get(0);
      for (var e : blocks.entrySet()) {
        assertRanges(s, e.getKey(), e.getValue(), "rs-4-2");
      }
      assertEquals(0, t.rangesFromWholeBlocks(), "healthy shards: no whole-block reads");
      assertTrue(t.rangesFromFrames() > 100);
      for (byte[] small : List.of(new byte[] {1, 2, 3, 4, 5}, block(1))) {
        BlockId smallId = BlockId.hash(small, 0, small.length);
        s.put(smallId, small, small.length);
        assertEquals(-1, s.readRange(smallId, 0, new byte[5], 0, 5), "a block stored small is read whole");
        assertArrayEquals(small, s.get(smallId));
      }
    }
  }

  @Test
  void rs42_aDamagedOrMissingShard_rangesStillRight_damageRepaired() throws IOException {
    byte[] b = block(2);
    BlockId id = BlockId.hash(b, 0, b.length);
    for (int victim = 0; victim < 6; victim++) {
      Path base = tmp.resolve("v" + victim);
      List<Path> devs = devices(base, 6);
      try (TieredStore s = open("rs-4-2", devs, true)) {
        s.put(id, b, b.length);
      }
      Path seg = segments(devs.get(victim)).get(0);
      flip(seg, Files.size(seg) / 2);
      try (TieredStore s = open("rs-4-2", devs, false)) {
        ErasureCodedTier t = (ErasureCodedTier) s.tiers().get(0);
        for (int off = 0; off < b.length; off += 4096) {
          byte[] dst = new byte[4096];
          assertEquals(4096, s.readRange(id, off, dst, 0, 4096));
          assertArrayEquals(expect(b, off, 4096), dst, "victim " + victim + " offset " + off);
        }
        BlockCheck c = t.check(id, true);
        assertTrue(c.verdict() == BlockCheck.Verdict.HEALTHY || c.verdict() == BlockCheck.Verdict.REPAIRED,
            c.toString());
        assertEquals(BlockCheck.Verdict.HEALTHY, t.check(id, false).verdict(), "victim " + victim);
        assertTrue(t.devices().get(victim).badRecords() > 0, "the damage was noticed, by a read or the check");
      }
    }
    // a device gone: ranges of the frames it held are decoded from the others
    List<Path> devs = devices(tmp.resolve("gone"), 6);
    try (TieredStore s = open("rs-4-2", devs, true)) {
      s.put(id, b, b.length);
    }
    for (Path p : Files.list(devs.get(2)).toList()) {
      Files.delete(p);
    }
    Files.delete(devs.get(2));
    try (TieredStore s = open("rs-4-2", devs, false)) {
      ErasureCodedTier t = (ErasureCodedTier) s.tiers().get(0);
      assertRanges(s, id, b, "device 2 gone");
      assertTrue(t.rangesFromFrames() > 0, "ranges whose shards are all there still come from frames");
    }
  }

  // ---- first-format records (written by the code before framed records) ----------------------------

  @Test
  void firstFormatReplicatedTier_readsWhole_rangesDeferToGet_aRepairedCopyIsFramed() throws IOException {
    Path fixture = Version1Fixture.copyTo(tmp);
    List<Path> devs = devices(fixture.resolve("replicate-2"), 2);
    List<byte[]> blocks = Version1Fixture.tierBlocks();
    try (TieredStore s = open("replicate-2", devs, false, Version1Fixture.FS_UUID)) {
      Tier t = s.tiers().get(0);
      for (byte[] b : blocks) {
        BlockId id = Version1Fixture.id(b);
        assertArrayEquals(b, s.get(id));
        assertEquals(-1, s.readRange(id, 0, new byte[10], 0, 10), "no frames: read whole");
        assertEquals(BlockCheck.Verdict.HEALTHY, t.check(id, false).verdict());
      }
    }
    // damage the text block's old record on the first device: a read repairs it, as a framed record
    byte[] text = blocks.get(0);
    BlockId textId = Version1Fixture.id(text);
    Path seg0 = segments(devs.get(0)).get(0);
    flip(seg0, HEADER + 100);
    try (TieredStore s = open("replicate-2", devs, false, Version1Fixture.FS_UUID)) {
      assertArrayEquals(text, s.get(textId));
      assertEquals(1, s.tiers().get(0).devices().get(0).repairs());
      byte[] dst = new byte[5000];
      assertEquals(5000, s.readRange(textId, 200_000, dst, 0, dst.length), "the rewritten copy has frames");
      assertArrayEquals(expect(text, 200_000, 5000), dst);
      assertArrayEquals(blocks.get(1), s.get(Version1Fixture.id(blocks.get(1))));
    }
  }

  @Test
  void firstFormatErasureCodedTier_readsWhole_survivesALostDevice_andIsRebuilt() throws IOException {
    Path fixture = Version1Fixture.copyTo(tmp);
    List<Path> devs = devices(fixture.resolve("rs-2-1"), 3);
    List<byte[]> blocks = Version1Fixture.tierBlocks();
    try (TieredStore s = open("rs-2-1", devs, false, Version1Fixture.FS_UUID)) {
      for (byte[] b : blocks) {
        BlockId id = Version1Fixture.id(b);
        assertArrayEquals(b, s.get(id));
        assertEquals(-1, s.readRange(id, 0, new byte[10], 0, 10), "first-format shards: read whole");
        assertEquals(BlockCheck.Verdict.HEALTHY, s.tiers().get(0).check(id, false).verdict());
      }
    }
    // one device replaced by an empty one: reads decode, a check rebuilds its shards
    for (Path p : segments(devs.get(1))) {
      Files.delete(p);
    }
    try (TieredStore s = open("rs-2-1", devs, false, Version1Fixture.FS_UUID)) {
      for (byte[] b : blocks) {
        BlockId id = Version1Fixture.id(b);
        assertArrayEquals(b, s.get(id));
        assertNotEquals(BlockCheck.Verdict.UNREPAIRABLE, s.tiers().get(0).check(id, true).verdict());
        assertEquals(BlockCheck.Verdict.HEALTHY, s.tiers().get(0).check(id, false).verdict());
      }
    }
    try (TieredStore s = open("rs-2-1", devs, false, Version1Fixture.FS_UUID)) {
      for (byte[] b : blocks) {
        assertArrayEquals(b, s.get(Version1Fixture.id(b)));
      }
    }
  }
}
