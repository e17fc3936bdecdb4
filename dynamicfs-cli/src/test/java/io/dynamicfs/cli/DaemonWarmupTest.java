package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The start-up warm-up in a real mount process (the build's tests switch it off: see the module's pom): it runs
 * before the mount serves, in {@code java.io.tmpdir}, leaves nothing there, and the mount then works; 0 skips it.
 */
class DaemonWarmupTest {
  @TempDir Path work;

  @Test
  void aMount_warmsUpInItsTemporaryDirectory_leavesNothing_andServes() throws Exception {
    Path tmp = Files.createDirectories(work.resolve("tmp"));
    Path data = Files.createDirectories(work.resolve("data"));
    Path mnt = Files.createDirectories(work.resolve("mnt"));
    byte[] content = new byte[300_000];
    new Random(5).nextBytes(content);
    try (Daemon d = Daemon.startWith(List.of("mount", data.toString(), mnt.toString()), mnt, work,
        List.of("-Xmx1g", "-Djava.io.tmpdir=" + tmp), Map.of(DaemonWarmup.ENVIRONMENT, "3000"))) {
      String out = Files.readString(data.resolve("logs/dynamicfs.log")); // a daemon with a ready file logs there
      assertTrue(out.contains("warm-up done"), out);
      assertTrue(out.contains(tmp.resolve("dynamicfs-warmup-").toString()), "the scratch engine ran in tmpdir: " + out);
      try (Stream<Path> left = Files.list(tmp)) { // (native libraries are unpacked there too)
        assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith("dynamicfs-warmup-")).toList(),
            "the scratch filesystem is gone before the mount serves");
      }
      Files.write(mnt.resolve("f"), content);
      assertArrayEquals(content, Files.readAllBytes(mnt.resolve("f")));
      try (Stream<Path> names = Files.list(mnt)) {
        assertEquals(List.of(mnt.resolve("f")), names.toList(), "nothing of the warm-up is in the mount");
      }
    }
  }

  @Test
  void zero_skipsIt() throws Exception {
    Path data = Files.createDirectories(work.resolve("data"));
    Path mnt = Files.createDirectories(work.resolve("mnt"));
    try (Daemon d = Daemon.startWith(List.of("mount", data.toString(), mnt.toString()), mnt, work,
        List.of("-Xmx1g"), Map.of(DaemonWarmup.ENVIRONMENT, "0"))) {
      String out = Files.readString(data.resolve("logs/dynamicfs.log"));
      assertTrue(out.contains("dynamicfs mounted"), out);
      assertFalse(out.contains("warm-up"), out);
    }
  }

  @Test
  void theBound_comesFromThePropertyThenTheEnvironment_andABadValueMeansTheDefault() {
    assertEquals(0, DaemonWarmup.budgetMillis("0", "5000"));
    assertEquals(5000, DaemonWarmup.budgetMillis(null, "5000"));
    assertEquals(1200, DaemonWarmup.budgetMillis(" 1200 ", null));
    assertEquals(DaemonWarmup.DEFAULT_MS, DaemonWarmup.budgetMillis(null, null));
    assertEquals(DaemonWarmup.DEFAULT_MS, DaemonWarmup.budgetMillis("soon", "0"));
    assertEquals(DaemonWarmup.DEFAULT_MS, DaemonWarmup.budgetMillis("-5", null));
  }
}
