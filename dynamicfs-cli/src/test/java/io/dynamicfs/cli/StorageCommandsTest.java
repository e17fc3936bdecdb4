package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamicfs.fuse.FuseMount;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The storage commands against a real daemon (through its admin API) and against an unmounted DATA:
 * tier status, tier move, scrub after a device vanished, rebuild onto the replaced device; bad input.
 */
class StorageCommandsTest {
  @TempDir
  Path work;

  private static void deleteTree(Path p) throws Exception {
    try (Stream<Path> w = Files.walk(p)) {
      for (Path x : w.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }

  private static String scrape(Path data) throws Exception {
    JsonNode info = new ObjectMapper().readTree(Files.readString(data.resolve("run/admin.json")));
    var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(info.get("url").asText() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  @Test
  void tierStatusMoveScrubAndRebuildOnAMount() throws Exception {
    Path data = Files.createDirectories(work.resolve("data"));
    Path mnt = Files.createDirectories(work.resolve("mnt"));
    String fast = "fast:replicate-2:" + work.resolve("f0") + "," + work.resolve("f1");
    String slow = "slow:rs-2-1:" + work.resolve("s0") + "," + work.resolve("s1") + "," + work.resolve("s2");
    Random rnd = new Random(11);
    Map<String, byte[]> files = new LinkedHashMap<>();
    try (Daemon d = Daemon.start(data, mnt, work, "--tier", fast, "--tier", slow)) {
      Files.createDirectories(mnt.resolve("cold"));
      for (int i = 0; i < 6; i++) {
        byte[] b = new byte[300_000 + rnd.nextInt(900_000)];
        rnd.nextBytes(b);
        String name = "cold/f" + i;
        Files.write(mnt.resolve(name), b);
        files.put(name, b);
      }

      CliRun.Result st = CliRun.run("tier", "status", "--json", mnt.toString());
      assertEquals(0, st.code(), st.toString());
      JsonNode tiers = new ObjectMapper().readTree(st.out());
      assertEquals("fast", tiers.get(0).path("name").asText());
      assertEquals("rs-2-1", tiers.get(1).path("redundancy").asText());
      assertTrue(tiers.get(0).path("devices").get(0).path("records").asLong() > 0, "new data is on fast: " + tiers);
      assertEquals(0, tiers.get(1).path("devices").get(0).path("records").asLong());

      CliRun.Result mv = CliRun.run("tier", "move", mnt.resolve("cold").toString(), "--to", "slow");
      assertEquals(0, mv.code(), mv.toString());
      assertTrue(mv.out().contains("6 files") && mv.out().contains("moved to 'slow'"), mv.out());
      JsonNode after = new ObjectMapper().readTree(CliRun.run("tier", "status", "--json", mnt.toString()).out());
      assertEquals(0, after.get(0).path("devices").get(0).path("records").asLong(), "fast emptied: " + after);
      for (Map.Entry<String, byte[]> e : files.entrySet()) {
        assertArrayEquals(e.getValue(), Files.readAllBytes(mnt.resolve(e.getKey())));
      }

      CliRun.Result bad = CliRun.run("tier", "move", mnt.resolve("cold").toString(), "--to", "nowhere");
      assertEquals(Main.EXIT_USAGE, bad.code(), bad.toString());
      assertTrue(bad.err().startsWith("dynamicfs: ") && bad.err().contains("no tier named 'nowhere'"), bad.err());

      // one rs-2-1 device gone: everything still reads, scrub says what it could not restore
      deleteTree(work.resolve("s1"));
      CliRun.Result sc = CliRun.run("scrub", mnt.toString());
      assertEquals(0, sc.code(), sc.toString());
      assertTrue(sc.out().contains("unrepairable 0") && !sc.out().contains("degraded 0"), sc.out());
      assertTrue(CliRun.run("status", mnt.toString()).out().contains("failed"), "status shows the failed device");
      for (Map.Entry<String, byte[]> e : files.entrySet()) {
        assertArrayEquals(e.getValue(), Files.readAllBytes(mnt.resolve(e.getKey())));
      }

      Files.createDirectories(work.resolve("s1"));
      CliRun.Result rb = CliRun.run("rebuild", work.resolve("s1").toString());
      assertEquals(0, rb.code(), rb.toString());
      assertTrue(rb.out().contains("unrepairable 0") && rb.out().contains("degraded 0"), rb.out());
      CliRun.Result clean = CliRun.run("scrub", "--no-repair", mnt.toString());
      assertTrue(clean.out().contains("repaired 0, degraded 0, unrepairable 0"), clean.out());
      String metrics = scrape(data);
      String s1 = work.resolve("s1").toString();
      assertTrue(metrics.lines().anyMatch(l -> l.startsWith("dfs_device_repairs_total{") && l.contains(s1)
          && !l.endsWith(" 0.0")), "repairs onto the rebuilt device are counted:\n" + metrics);
      assertTrue(metrics.lines().anyMatch(l -> l.startsWith("dfs_device_up{") && l.contains(s1) && l.endsWith(" 1.0")),
          metrics);

      CliRun.Result notDev = CliRun.run("rebuild", work.resolve("elsewhere").toString());
      assertEquals(Main.EXIT_USAGE, notDev.code(), notDev.toString());
      int code = d.terminate();
      assertTrue(code == 0 || code == 143, "exit " + code);
    }
    assertFalse(FuseMount.isMounted(mnt));
    // the same commands on the unmounted DATA, in-process
    CliRun.Result off = CliRun.run("tier", "status", data.toString());
    assertEquals(0, off.code(), off.toString());
    assertTrue(off.out().contains("rs-2-1") && off.out().contains(work.resolve("s1").toString()), off.out());
    CliRun.Result offScrub = CliRun.run("scrub", data.toString());
    assertEquals(0, offScrub.code(), offScrub.toString());
    assertTrue(offScrub.out().contains("repaired 0, degraded 0, unrepairable 0"), offScrub.out());
    CliRun.Result fsck = CliRun.run("fsck", "-q", data.toString());
    assertEquals(0, fsck.code(), fsck.toString());
  }

  @Test
  void badStorageConfigIsOneLineAndExitTwoAndFormatsNothing() throws Exception {
    Path data = Files.createDirectories(work.resolve("data"));
    Path mnt = Files.createDirectories(work.resolve("mnt"));
    Path cfg = work.resolve("bad.yaml");
    Files.writeString(cfg, "tiers:\n  - name: slow\n    redundancy: rs-4-2\n    devices: [a, b, c, d, e]\n");
    CliRun.Result r = CliRun.run("mount", data.toString(), mnt.toString(), "--config", cfg.toString());
    assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
    assertTrue(r.err().startsWith("dynamicfs: ") && r.err().contains("rs-4-2 needs at least 6 devices, 5 given"),
        r.err());
    assertEquals(1, r.err().strip().lines().count(), r.err());
    assertEquals(List.of(), Files.list(data).toList(), "nothing formatted");
    CliRun.Result t = CliRun.run("mount", data.toString(), mnt.toString(), "--tier", "x:replicate-3:/a,/b");
    assertEquals(Main.EXIT_USAGE, t.code(), t.toString());
    assertTrue(t.err().contains("replicate-3 needs at least 3 devices"), t.err());
    CliRun.Result s = CliRun.run("scrub", work.resolve("nothing-here").toString());
    assertEquals(Main.EXIT_USAGE, s.code(), s.toString());
    assertFalse(FuseMount.isMounted(mnt));
  }
}
