package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamicfs.fuse.FuseMount;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Operations against a real mount (the CLI's daemon in its own JVM): JSON log file, Prometheus metrics that
 * move when files are written, and the operator commands (status, stats, warmup, gc) through the admin API.
 */
class OpsMountTest {
  private static final int MIB = 1 << 20;
  /** One line of the Prometheus text format: a comment, or name{labels} value. */
  private static final Pattern SAMPLE = Pattern.compile(
      "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"(\\\\.|[^\"\\\\])*\",?)*\\})? "
          + "(-?[0-9.]+([eE][-+]?[0-9]+)?|NaN|\\+Inf|-Inf)( -?[0-9]+)?");
  private static final Pattern COMMENT = Pattern.compile("# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .*");

  @TempDir
  Path tmp;

  private final ObjectMapper json = new ObjectMapper();

  private static byte[] random(int seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private JsonNode adminInfo(Path data) throws Exception {
    return json.readTree(Files.readString(data.resolve("run/admin.json")));
  }

  private String scrape(Path data) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(adminInfo(data).get("url").asText() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  /** Checks every line is valid exposition text; returns the samples by name{labels}. */
  private static Map<String, Double> parsePrometheus(String text) {
    Map<String, Double> samples = new HashMap<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      if (line.startsWith("#")) {
        assertTrue(COMMENT.matcher(line).matches(), "bad comment line: " + line);
        continue;
      }
      Matcher m = SAMPLE.matcher(line);
      assertTrue(m.matches(), "bad sample line: " + line);
      int space = line.lastIndexOf(' ');
      samples.put(line.substring(0, space), Double.parseDouble(line.substring(space + 1).replace("+Inf", "Infinity")));
    }
    return samples;
  }

  private static double sample(Map<String, Double> s, String key) {
    Double v = s.get(key);
    assertTrue(v != null, "no sample " + key);
    return v;
  }

  private JsonNode statusJson(Path mnt) throws Exception {
    CliRun.Result r = CliRun.run("status", "--json", mnt.toString());
    assertEquals(0, r.code(), r.toString());
    return json.readTree(r.out());
  }

  @Test
  void mountedDaemon_logsJson_metricsMove_statusStatsWarmupGcWork() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M")) {
      // Logs: every line of the file is a JSON object; the mount event carries the stable keys.
      List<String> lines = Files.readAllLines(data.resolve("logs/dynamicfs.log"), StandardCharsets.UTF_8);
      assertFalse(lines.isEmpty());
      JsonNode mounted = null;
      for (String line : lines) {
        JsonNode e = json.readTree(line);
        for (String key : List.of("timestamp", "level", "logger", "thread", "message")) {
          assertTrue(e.hasNonNull(key), key + " missing in " + line);
        }
        if (e.get("message").asText().equals("dynamicfs mounted")) {
          mounted = e;
        }
      }
      assertTrue(mounted != null, lines.toString());
      assertEquals("mount", mounted.get("op").asText());
      assertEquals(mnt.toString(), mounted.get("path").asText());
      assertEquals(d.process.pid(), mounted.get("pid").asLong());

      // Metrics: valid text; the write counters move by what is written through the mount.
      Map<String, Double> before = parsePrometheus(scrape(data));
      double writesBefore = sample(before, "dfs_fs_op_seconds_count{op=\"write\"}");
      double bytesBefore = sample(before, "dfs_fs_written_bytes_total");
      byte[] content = random(1, 3 * MIB);
      Files.write(mnt.resolve("a.bin"), content);
      Files.write(mnt.resolve("b.bin"), content); // the same bytes again: dedup
      Map<String, Double> after = parsePrometheus(scrape(data));
      assertTrue(sample(after, "dfs_fs_op_seconds_count{op=\"write\"}") > writesBefore);
      assertTrue(sample(after, "dfs_fs_written_bytes_total") - bytesBefore >= 2.0 * content.length,
          "written bytes moved by " + (sample(after, "dfs_fs_written_bytes_total") - bytesBefore));
      assertTrue(sample(after, "dfs_fs_op_seconds_bucket{op=\"write\",le=\"+Inf\"}")
          >= sample(after, "dfs_fs_op_seconds_count{op=\"write\"}"));
      assertTrue(sample(after, "dfs_fs_op_seconds_count{op=\"create\"}") >= 2);
      assertEquals(3, sample(after, "dfs_store_blocks"), "two identical 3 MiB files share 3 blocks");
      assertTrue(after.containsKey("jvm_memory_used_bytes{area=\"heap\",id=\"G1 Eden Space\"}")
          || after.keySet().stream().anyMatch(k -> k.startsWith("jvm_memory_used_bytes")), "JVM metrics");
      assertTrue(after.keySet().stream().anyMatch(k -> k.startsWith("dfs_meta_keys{cf=\"inodes\"}")));

      // status: what runs where, and the dedup the two files made.
      JsonNode s = statusJson(mnt);
      assertEquals(d.process.pid(), s.get("pid").asLong());
      assertEquals(mnt.toString(), s.get("mount_point").asText());
      assertEquals(data.toString(), s.get("data").asText());
      assertEquals(1 << 20, s.path("format").path("block_size").asInt());
      assertEquals("lz4", s.path("format").path("compression").asText());
      assertEquals(64L << 20, s.path("config").path("cache_memory").asLong());
      assertEquals("ok", s.path("health").path("status").asText(), s.toString());
      assertEquals(2.0, s.path("space").path("dedup_ratio").asDouble(), 1e-9, s.toString());
      assertTrue(s.path("caches").has("l1"), s.toString());
      CliRun.Result text = CliRun.run("status", mnt.toString());
      assertEquals(0, text.code(), text.toString());
      assertTrue(text.out().contains("health   ok") && text.out().contains("dedup 2.00x"), text.out());

      // stats --once while a writer runs: the write line shows up.
      AtomicBoolean stop = new AtomicBoolean();
      Thread writer = new Thread(() -> {
        try {
          for (int i = 0; !stop.get() && i < 400; i++) {
            Files.write(mnt.resolve("w" + (i % 4)), random(i, 256 << 10));
          }
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      writer.start();
      CliRun.Result st;
      try {
        st = CliRun.run("stats", "--once", "--interval", "0.5", mnt.toString());
      } finally {
        stop.set(true);
        writer.join();
      }
      assertEquals(0, st.code(), st.toString());
      assertTrue(st.out().contains("ops/s") && st.out().contains("p99 ms"), st.out());
      assertTrue(Pattern.compile("(?m)^  write +[0-9.]+").matcher(st.out()).find(), st.out());

      // gc --dry-run: a deleted file's bytes are dead space, nothing is changed.
      Files.delete(mnt.resolve("a.bin"));
      Files.delete(mnt.resolve("b.bin"));
      // Their blocks wait in pending deletion until the reclaimer runs (every second).
      CliRun.Result gc;
      JsonNode report;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      do {
        gc = CliRun.run("gc", "--dry-run", "--json", mnt.toString());
        assertEquals(0, gc.code(), gc.toString());
        report = json.readTree(gc.out());
      } while (report.get("pending_blocks").asLong() > 0 && System.nanoTime() < deadline && sleep(100));
      assertEquals(0, report.get("pending_blocks").asLong(), "the reclaimer deletes pending blocks: " + report);
      JsonNode space = statusJson(mnt).get("space");
      gc = CliRun.run("gc", "--dry-run", "--json", mnt.toString());
      report = json.readTree(gc.out());
      assertFalse(report.get("applied").asBoolean());
      assertEquals(0, report.get("unreferenced_blocks").asLong());
      assertTrue(report.get("dead_bytes").asLong() >= content.length, report.toString());
      assertEquals(0, report.get("freed_bytes").asLong());
      assertEquals(space.get("segment_file_bytes").asLong(), statusJson(mnt).path("space").path("segment_file_bytes")
          .asLong(), "a dry run changes nothing");
      CliRun.Result gcText = CliRun.run("gc", mnt.toString());
      assertTrue(gcText.out().contains("dry run") && gcText.out().contains("unreferenced blocks"), gcText.out());

      Files.write(mnt.resolve("cold.bin"), random(7, 2 * MIB + 5));
      Files.createDirectories(mnt.resolve("dir/sub"));
      Files.write(mnt.resolve("dir/sub/small.txt"), "tiny".getBytes(StandardCharsets.UTF_8));
      assertStoppedCleanly(d.terminate(), data);
    }
    assertFalse(FuseMount.isMounted(mnt));
    assertFalse(Files.exists(data.resolve("run/admin.json")), "admin files go away at unmount");

    // warmup after a restart (a cold cache): the blocks are loaded once, later reads hit.
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M")) {
      JsonNode cold = statusJson(mnt).path("caches").path("l1");
      CliRun.Result w = CliRun.run("warmup", mnt.resolve("cold.bin").toString(), mnt.resolve("dir").toString());
      assertEquals(0, w.code(), w.toString());
      assertTrue(w.out().contains("2 files, 3 blocks"), w.out());
      assertTrue(w.err().contains("warmup: warm 100%"), "progress lines when not on a terminal: " + w.err());
      JsonNode warm = statusJson(mnt).path("caches").path("l1");
      // (MemoryBlockCache counts a cold load as two misses: getIfPresent, then get with the loader.)
      assertTrue(warm.get("misses").asLong() >= cold.get("misses").asLong() + 3, "the cold blocks were loaded");
      CliRun.Result again = CliRun.run("warmup", mnt.resolve("cold.bin").toString());
      assertEquals(0, again.code(), again.toString());
      JsonNode hot = statusJson(mnt).path("caches").path("l1");
      assertEquals(warm.get("misses").asLong(), hot.get("misses").asLong(), "warm blocks are not loaded again");
      assertEquals(warm.get("hits").asLong() + 3, hot.get("hits").asLong());
      assertStoppedCleanly(d.terminate(), data);
    }
    CliRun.Result f = CliRun.run("fsck", "-q", data.toString());
    assertEquals(0, f.code(), f.toString());
  }

  /** SIGTERM: the JVM reports 143 even when its shutdown hook finished cleanly; the log says how it went. */
  private void assertStoppedCleanly(int code, Path data) throws Exception {
    assertTrue(code == 0 || code == 143, "exit code " + code);
    long clean = 0;
    for (String line : Files.readAllLines(data.resolve("logs/dynamicfs.log"), StandardCharsets.UTF_8)) {
      JsonNode e = json.readTree(line);
      if (e.path("message").asText().equals("dynamicfs stopped")) {
        assertTrue(e.path("clean").asBoolean(), line);
        clean++;
      }
    }
    assertTrue(clean > 0, "no 'dynamicfs stopped' line");
  }

  @Test
  void badInput_oneLine_exit2() throws Exception {
    Path notMounted = Files.createDirectories(tmp.resolve("plain"));
    for (String[] args : List.of(
        new String[] {"status", notMounted.toString()},
        new String[] {"stats", "--once", notMounted.toString()},
        new String[] {"gc", notMounted.toString()},
        new String[] {"warmup", notMounted.toString()},
        new String[] {"warmup", tmp.resolve("missing").toString()},
        new String[] {"stats", "--interval", "-1", notMounted.toString()},
        new String[] {"gc", "--apply", "--dry-run", notMounted.toString()},
        new String[] {"gc", "--min-dead", "0", notMounted.toString()},
        new String[] {"mount", "--log-format", "xml", "d", "m"},
        new String[] {"mount", "--log-level", "loud", "d", "m"},
        new String[] {"mount", "--admin-address", "here:there", "d", "m"})) {
      CliRun.Result r = CliRun.run(args);
      assertEquals(Main.EXIT_USAGE, r.code(), String.join(" ", args) + ": " + r);
      assertTrue(r.err().startsWith("dynamicfs: "), String.join(" ", args) + ": " + r.err());
      assertTrue(r.err().strip().lines().count() <= 2, "one line (and a --help hint): " + r.err());
    }
  }

  @Test
  void help_onOperatorCommands_explainsOptions() {
    for (String cmd : List.of("status", "stats", "warmup", "gc")) {
      CliRun.Result r = CliRun.run(cmd, "--help");
      assertEquals(0, r.code(), cmd);
      assertTrue(r.out().contains("Usage: dynamicfs " + cmd), r.out());
    }
    assertTrue(CliRun.run("gc", "--help").out().contains("--apply"));
    assertTrue(CliRun.run("stats", "--help").out().contains("--interval"));
    String mount = CliRun.run("mount", "--help").out();
    assertTrue(mount.contains("--log-format") && mount.contains("--log-level") && mount.contains("--admin-address"),
        mount);
  }

  @Test
  void mount_adminAddressInUse_exit2_nothingMounted() throws Exception {
    try (java.net.ServerSocket busy = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      Path data = Files.createDirectories(tmp.resolve("d2"));
      Path mnt = Files.createDirectories(tmp.resolve("m2"));
      CliRun.Result r = CliRun.run("mount", data.toString(), mnt.toString(), "--admin-address",
          "127.0.0.1:" + busy.getLocalPort());
      assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
      assertTrue(r.err().contains("in use"), r.err());
      assertFalse(FuseMount.isMounted(mnt));
    }
  }

  private static boolean sleep(long ms) throws InterruptedException {
    Thread.sleep(ms);
    return true;
  }
}
