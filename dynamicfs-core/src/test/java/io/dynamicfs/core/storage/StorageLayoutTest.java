package io.dynamicfs.core.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StorageLayoutTest {
  @TempDir
  Path tmp;

  private Path write(String yaml) throws Exception {
    Path f = tmp.resolve("dynamicfs.yaml");
    Files.writeString(f, yaml);
    return f;
  }

  @Test
  void readsTiersInOrderWithRelativeDevicesFromTheFilesDirectory() throws Exception {
    StorageLayout l = StorageLayout.read(write("""
        tiers:
          - name: fast
            redundancy: replicate-2
            devices: [nvme0, /abs/nvme1]
          - name: slow
            redundancy: rs-4-2
            devices: [h0, h1, h2, h3, h4, h5]
        scrub:
          rate_mib_per_second: 8
          interval_hours: 2
        """));
    assertEquals(2, l.tiers().size());
    assertEquals("fast", l.tiers().get(0).name());
    assertEquals(new Redundancy.Replicate(2), l.tiers().get(0).redundancy());
    assertEquals(tmp.resolve("nvme0"), l.tiers().get(0).devices().get(0));
    assertEquals(Path.of("/abs/nvme1"), l.tiers().get(0).devices().get(1));
    assertEquals(new Redundancy.ReedSolomon(4, 2), l.tiers().get(1).redundancy());
    assertEquals(8L << 20, l.scrub().rateBytesPerSecond());
    assertEquals(Duration.ofHours(2), l.scrub().interval());
    assertEquals(1, l.tierIndex("slow"));
  }

  @Test
  void refusesWhatCannotWorkWithAClearMessage() throws Exception {
    String rs5 = msg("""
        tiers:
          - name: slow
            redundancy: rs-4-2
            devices: [a, b, c, d, e]
        """);
    assertTrue(rs5.contains("rs-4-2 needs at least 6 devices, 5 given"), rs5);
    String unknown = msg("""
        tiers:
          - name: fast
            redundancy: replicate-1
            devices: [a]
            speed: fast
        """);
    assertTrue(unknown.contains("line 5") && unknown.contains("unknown key 'speed'"), unknown);
    String twice = msg("""
        tiers:
          - name: a
            redundancy: replicate-1
            devices: [x]
          - name: b
            redundancy: replicate-1
            devices: [./x]
        """);
    assertTrue(twice.contains("listed twice"), twice);
    String nested = msg("""
        tiers:
          - name: a
            redundancy: replicate-2
            devices: [x, x/y]
        """);
    assertTrue(nested.contains("lies inside"), nested);
    String redundancy = msg("""
        tiers:
          - name: a
            redundancy: raid5
            devices: [x]
        """);
    assertTrue(redundancy.contains("not replicate-N or rs-K-M"), redundancy);
    assertTrue(msg("tiers: []\n").contains("no tiers"));
    assertTrue(msg("tiers: [\n").contains("line"));
    String dupName = msg("""
        tiers:
          - {name: a, redundancy: replicate-1, devices: [x]}
          - {name: a, redundancy: replicate-1, devices: [y]}
        """);
    assertTrue(dupName.contains("defined twice"), dupName);
  }

  private String msg(String yaml) throws Exception {
    Path f = write(yaml);
    FsException e = assertThrows(FsException.class, () -> StorageLayout.read(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
    return e.getMessage();
  }

  @Test
  void tierOptionsAndRecordedLayoutRoundTrip() throws Exception {
    StorageLayout l = StorageLayout.fromOptions(List.of("fast:replicate-2:" + tmp.resolve("a") + "," + tmp.resolve("b"),
        "slow:rs-2-1:" + tmp.resolve("c") + "," + tmp.resolve("d") + "," + tmp.resolve("e")));
    Path rec = tmp.resolve("storage.yaml");
    l.writeTiers(rec);
    StorageLayout back = StorageLayout.read(rec);
    assertNull(l.tierDifference(back));
    StorageLayout other = StorageLayout.fromOptions(List.of("fast:replicate-1:" + tmp.resolve("a")));
    assertTrue(l.tierDifference(other).contains("tier"));
    assertThrows(FsException.class, () -> StorageLayout.fromOptions(List.of("fast:replicate-2")));
    FsException e = assertThrows(FsException.class,
        () -> StorageLayout.fromOptions(List.of("x:rs-4-2:" + tmp.resolve("a"))));
    assertTrue(e.getMessage().contains("needs at least 6"), e.getMessage());
  }
}
