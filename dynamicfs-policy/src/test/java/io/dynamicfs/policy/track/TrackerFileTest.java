package io.dynamicfs.policy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrackerFileTest {
  private static final AccessTracker.Config CONFIG = new AccessTracker.Config(500, 2000, new double[] {10, 100, 1000});

  @TempDir
  Path dir;

  private static AccessTracker filled(long seed) {
    AccessTracker t = new AccessTracker(CONFIG);
    SplittableRandom r = new SplittableRandom(seed);
    for (int i = 0; i < 20_000; i++) {
      long extent = r.nextInt(3000);
      t.record(i * 3L, extent >>> 3, extent, 1 + r.nextInt(1 << 20), r.nextInt(5) == 0);
    }
    return t;
  }

  private static void assertSameTable(AccessTable a, AccessTable b, long now) {
    assertEquals(a.size(), b.size());
    for (int s = 0; s < a.slots(); s++) {
      if (!a.occupied(s)) {
        continue;
      }
      int o = b.find(a.key(s));
      assertTrue(o >= 0, "key " + a.key(s) + " lost");
      assertEquals(a.lastAccess(s), b.lastAccess(o));
      assertEquals(a.firstAccess(s), b.firstAccess(o));
      assertEquals(a.bytes(s), b.bytes(o));
      assertEquals(a.accesses(s), b.accesses(o));
      assertEquals(a.writes(s), b.writes(o));
      assertEquals(a.sequentialAccesses(s), b.sequentialAccesses(o));
      assertEquals(a.lastSize(s), b.lastSize(o));
      for (int i = 0; i < a.counters(); i++) {
        assertEquals(a.counter(s, i, now), b.counter(o, i, now), 0.0);
      }
    }
  }

  @Test
  void saveLoad_roundTrip_keepsEveryFigure() throws IOException {
    AccessTracker t = filled(1);
    Path f = dir.resolve("tracker.bin");
    TrackerFile.save(t, f);
    TrackerFile.Loaded l = TrackerFile.load(f, CONFIG);
    assertTrue(l.ok(), l.problem());
    assertSameTable(t.files(), l.tracker().files(), 70_000);
    assertSameTable(t.extents(), l.tracker().extents(), 70_000);
    assertFalse(Files.exists(dir.resolve("tracker.bin.tmp")));
  }

  @Test
  void load_missingFile_startsEmptyWithoutComplaint() {
    TrackerFile.Loaded l = TrackerFile.load(dir.resolve("none"), CONFIG);
    assertTrue(l.ok());
    assertEquals(0, l.tracker().extents().size());
  }

  @Test
  void load_anyFlippedByte_isReportedAndTheTrackerStartsEmpty() throws IOException {
    Path f = dir.resolve("tracker.bin");
    TrackerFile.save(filled(2), f);
    byte[] good = Files.readAllBytes(f);
    SplittableRandom r = new SplittableRandom(8);
    for (int round = 0; round < 30; round++) {
      byte[] bad = good.clone();
      int at = r.nextInt(bad.length);
      bad[at] ^= (byte) (1 << r.nextInt(8));
      Files.write(f, bad);
      TrackerFile.Loaded l = TrackerFile.load(f, CONFIG);
      assertFalse(l.ok(), "flip at " + at + " went unnoticed");
      assertTrue(l.problem().contains("checksum"), l.problem());
      assertEquals(0, l.tracker().extents().size());
      assertEquals(0, l.tracker().files().size());
    }
  }

  @Test
  void load_truncatedOrForeignFile_isReported() throws IOException {
    Path f = dir.resolve("tracker.bin");
    TrackerFile.save(filled(3), f);
    byte[] good = Files.readAllBytes(f);
    Files.write(f, Arrays.copyOf(good, good.length / 2));
    assertFalse(TrackerFile.load(f, CONFIG).ok());
    Files.write(f, new byte[5]);
    assertTrue(TrackerFile.load(f, CONFIG).problem().contains("too short"));
    Files.writeString(f, "this is not a tracker file at all, just text");
    assertFalse(TrackerFile.load(f, CONFIG).ok());
  }

  @Test
  void load_newerVersionWithValidChecksum_isRefusedByVersion() throws IOException {
    Path f = dir.resolve("tracker.bin");
    TrackerFile.save(filled(4), f);
    byte[] data = Files.readAllBytes(f);
    ByteBuffer.wrap(data).putInt(TrackerFile.MAGIC.length, TrackerFile.VERSION + 1);
    java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
    crc.update(data, 0, data.length - 4);
    ByteBuffer.wrap(data).putInt(data.length - 4, (int) crc.getValue());
    Files.write(f, data);
    TrackerFile.Loaded l = TrackerFile.load(f, CONFIG);
    assertTrue(l.problem().contains("unsupported version"), l.problem());
    assertEquals(0, l.tracker().extents().size());
  }

  @Test
  void load_differentCounterCount_isReported() throws IOException {
    Path f = dir.resolve("tracker.bin");
    TrackerFile.save(filled(5), f);
    TrackerFile.Loaded l = TrackerFile.load(f, new AccessTracker.Config(500, 2000, new double[] {10}));
    assertTrue(l.problem().contains("counters"), l.problem());
    assertNull(TrackerFile.load(f, CONFIG).problem());
  }
}
