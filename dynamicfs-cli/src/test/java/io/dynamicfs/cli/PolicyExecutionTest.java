package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.format.DataDirectory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy engine acting on a real mount (the CLI's daemon in its own JVM, unmounted or killed at the end of
 * every test) with two tiers on one disk, the slow one made slow by {@code --debug-slow-tier} (20 ms a read):
 * a hot set that shifts is promoted by {@code policy apply} each time, and the fast tier's byte hit ratio and
 * the p99 read latency the workload sees improve by the asserted margins; a SIGKILL in the middle of an
 * executed move loses nothing (fsck clean, every file identical) and the audit log records it; a move that
 * would break a tier's headroom is refused and audited.
 */
class PolicyExecutionTest {
  private static final int KIB = 1 << 10;
  private static final int MIB = 1 << 20;
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path tmp;

  private static byte[] random(int seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static byte[] sha(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }

  private Daemon mount(Path data, Path mnt, String rules, String... extra) throws Exception {
    Path rulesFile = tmp.resolve("rules.yaml");
    Files.writeString(rulesFile, rules);
    List<String> args = new ArrayList<>(List.of("--block-size", "64K", "--cache-memory", "1M", "--fuse-preset", "safe",
        "--tier", "fast:replicate-1:" + tmp.resolve("fast"), "--tier", "slow:replicate-1:" + tmp.resolve("slow"),
        "--policy-rules", rulesFile.toString()));
    args.addAll(Arrays.asList(extra));
    return Daemon.start(data, mnt, tmp, args.toArray(String[]::new));
  }

  static String scrape(Path data) throws Exception {
    JsonNode info = JSON.readTree(Files.readString(data.resolve("run/admin.json")));
    var r = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(info.get("url").asText() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode());
    return r.body();
  }

  /** A sample's value in the Prometheus text, e.g. {@code dfs_tier_read_bytes_total{tier="fast",}}; 0 when absent. */
  static double metric(String scrape, String name, String labels) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{?([^}\\s]*)\\}? (\\S+)$").matcher(scrape);
    while (m.find()) {
      if (m.group(1).contains(labels)) {
        return Double.parseDouble(m.group(2));
      }
    }
    return 0;
  }

  /** What a workload phase saw: its reads' p99 in ms, and the fast tier's share of the bytes the tiers served. */
  private record Phase(double p99Millis, double fastShare, long tierBytes) {
    @Override
    public String toString() {
      return String.format(java.util.Locale.ROOT, "p99 %.2f ms, fast-tier byte hit ratio %.3f of %d bytes", p99Millis,
          fastShare, tierBytes);
    }
  }

  /**
   * {@code reads} random 16 KiB reads over {@code files}, each through its own open (the safe preset keeps no
   * pages across opens, so every read reaches the daemon), timed one by one.
   */
  private static Phase workload(Path data, List<Path> files, int reads, long seed) throws Exception {
    String before = scrape(data);
    Random rnd = new Random(seed);
    long[] nanos = new long[reads];
    ByteBuffer buf = ByteBuffer.allocate(16 * KIB);
    for (int i = 0; i < reads; i++) {
      Path f = files.get(rnd.nextInt(files.size()));
      long offset = (long) rnd.nextInt(32) * 16 * KIB;
      long t0 = System.nanoTime();
      try (FileChannel c = FileChannel.open(f, StandardOpenOption.READ)) {
        buf.clear();
        c.read(buf, offset);
      }
      nanos[i] = System.nanoTime() - t0;
    }
    String after = scrape(data);
    Arrays.sort(nanos);
    double fast = metric(after, "dfs_tier_read_bytes_total", "tier=\"fast\"")
        - metric(before, "dfs_tier_read_bytes_total", "tier=\"fast\"");
    double slow = metric(after, "dfs_tier_read_bytes_total", "tier=\"slow\"")
        - metric(before, "dfs_tier_read_bytes_total", "tier=\"slow\"");
    return new Phase(nanos[(int) (reads * 0.99)] / 1e6, fast + slow == 0 ? Double.NaN : fast / (fast + slow),
        (long) (fast + slow));
  }

  private static JsonNode apply(Path mnt) throws Exception {
    CliRun.Result r = CliRun.run("policy", "apply", "--json", mnt.toString());
    assertEquals(0, r.code(), r.toString());
    return JSON.readTree(r.out());
  }

  private static List<JsonNode> audit(Path data) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(data.resolve("policy/audit.jsonl"))) {
      if (!line.isBlank()) {
        out.add(JSON.readTree(line));
      }
    }
    return out;
  }

  @Test
  void shiftingHotSet_applyPromotesEachHotSet_hitRatioAndP99Improve() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (Daemon d = mount(data, mnt, "limits: {min_residency: 0s, cooldown: 0s}\n", "--debug-slow-tier", "slow:20ms")) {
      Files.createDirectories(mnt.resolve("d"));
      List<Path> files = new ArrayList<>();
      for (int i = 0; i < 12; i++) {
        Path f = mnt.resolve("d/f" + i);
        Files.write(f, random(i, 512 * KIB));
        files.add(f);
      }
      CliRun.Result move = CliRun.run("tier", "move", mnt.resolve("d").toString(), "--to", "slow");
      assertEquals(0, move.code(), move.toString());

      List<Path> hotA = files.subList(0, 4);
      List<Path> hotB = files.subList(4, 8);
      Phase beforeA = workload(data, hotA, 600, 1);
      JsonNode runA = apply(mnt);
      assertEquals(4, runA.path("moved").asInt(), runA.toString());
      Phase afterA = workload(data, hotA, 600, 2);

      Phase beforeB = workload(data, hotB, 600, 3); // the hot set moves on
      CliRun.Result sim = CliRun.run("policy", "simulate", "--since", "1h", "--json", mnt.toString());
      assertEquals(0, sim.code(), sim.toString());
      JsonNode s = JSON.readTree(sim.out());
      assertEquals(4, s.path("moves").asInt(), s.toString());
      assertTrue(s.path("replay").path("hit_ratio_after").asDouble() > s.path("replay").path("hit_ratio_now").asDouble()
          + 0.2, s.path("replay").toString());
      JsonNode runB = apply(mnt);
      assertEquals(4, runB.path("moved").asInt(), runB.toString());
      Phase afterB = workload(data, hotB, 600, 4);

      String report = "A before: " + beforeA + "; after: " + afterA + "; B before: " + beforeB + "; after: " + afterB;
      System.out.println("PolicyExecutionTest: " + report);
      for (Phase[] p : List.of(new Phase[] {beforeA, afterA}, new Phase[] {beforeB, afterB})) {
        assertTrue(p[0].fastShare() < 0.1, "the hot set starts on the slow tier: " + report);
        assertTrue(p[1].fastShare() > 0.9, "after the policy ran, the fast tier serves the hot set: " + report);
        assertTrue(p[1].p99Millis() < p[0].p99Millis() / 2, "p99 at least halved: " + report);
      }
      String m = scrape(data);
      assertEquals(8, metric(m, "dfs_policy_moves_total", "action=\"promote\""), 0.0, m);
      assertEquals(8.0 * 512 * KIB, metric(m, "dfs_policy_moved_bytes_total", ""), 0.0);
      assertEquals(2, metric(m, "dfs_policy_runs_total", ""), 0.0);
      List<JsonNode> log = audit(data);
      assertEquals(8, log.stream().filter(e -> e.path("outcome").asText().equals("moved")).count(), log.toString());
      JsonNode moved = log.stream().filter(e -> e.path("outcome").asText().equals("moved")).findFirst().orElseThrow();
      assertEquals("promote", moved.path("action").asText());
      assertTrue(moved.path("expected_bytes").asLong() >= 1.5 * moved.path("bytes").asLong(), moved.toString());
      CliRun.Result explain = CliRun.run("policy", "explain", hotB.get(0).toString());
      assertTrue(explain.out().contains("last: moved promote slow -> fast"), explain.out());
      CliRun.Result um = CliRun.run("umount", mnt.toString());
      assertEquals(0, um.code(), um.toString());
      assertTrue(d.process.waitFor(60, TimeUnit.SECONDS));
    }
  }

  @Test
  void policyExecuteOn_movesOnItsOwn_andStatusShowsTheExecutor() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (Daemon d = mount(data, mnt, "limits: {min_residency: 0s}\n", "--policy-execute", "on",
        "--policy-interval", "10s")) {
      Files.write(mnt.resolve("a.bin"), random(1, MIB));
      CliRun.Result move = CliRun.run("tier", "move", mnt.resolve("a.bin").toString(), "--to", "slow");
      assertEquals(0, move.code(), move.toString());
      workload(data, List.of(mnt.resolve("a.bin")), 200, 5);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      boolean moved = false;
      while (!moved && System.nanoTime() < deadline) {
        Thread.sleep(500);
        moved = Files.exists(data.resolve("policy/audit.jsonl"))
            && audit(data).stream().anyMatch(e -> e.path("outcome").asText().equals("moved"));
      }
      assertTrue(moved, "the executor moved the file on its own: " + d.output());
      JsonNode e = audit(data).stream().filter(x -> x.path("outcome").asText().equals("moved")).findFirst().orElseThrow();
      assertEquals("auto", e.path("trigger").asText());
      assertEquals("/a.bin", e.path("path").asText());
      CliRun.Result st = CliRun.run("policy", "status", mnt.toString());
      assertTrue(st.out().contains("the executor plans and moves every 10s") && st.out().contains("\"moved\":1"),
          st.out());
      CliRun.Result um = CliRun.run("umount", mnt.toString());
      assertEquals(0, um.code(), um.toString());
      assertTrue(d.process.waitFor(60, TimeUnit.SECONDS));
    }
  }

  /** Where the file's first block is, by {@code policy explain}. */
  private static String tierOf(Path f) throws Exception {
    CliRun.Result r = CliRun.run("policy", "explain", "--json", f.toString());
    assertEquals(0, r.code(), r.toString());
    return JSON.readTree(r.out()).path("placement").path("extents").path(0).path("location").asText();
  }

  /**
   * Demotion through a real mount: the rules let the fast tier hold 1 MiB, eight files of 256 KiB land there,
   * and the four that are read are kept while the others are demoted; then the hot set shifts to the other
   * four, and the next run demotes the first ones to make room before it promotes the new ones.
   */
  @Test
  void demote_withAFastTierCapacity_makesRoomForTheHotSet_andFollowsItWhenItShifts() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    String rules = """
        capacity: {fast: 1M}
        limits: {min_residency: 0s, cooldown: 0s}
        """;
    try (Daemon d = mount(data, mnt, rules)) {
      List<Path> a = new ArrayList<>();
      List<Path> b = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        a.add(Files.write(mnt.resolve("a" + i), random(300 + i, 256 * KIB)));
        b.add(Files.write(mnt.resolve("b" + i), random(400 + i, 256 * KIB)));
      }
      for (int round = 0; round < 5; round++) {
        readEach(a);
      }
      CliRun.Result first = CliRun.run("policy", "apply", "--json", mnt.toString());
      assertEquals(0, first.code(), first.toString());
      JsonNode r1 = JSON.readTree(first.out());
      assertEquals(4, r1.path("moved").asInt(), r1.toString());
      for (JsonNode o : r1.path("outcomes")) {
        assertEquals("demote", o.path("action").asText(), o.toString());
        assertTrue(o.path("path").asText().startsWith("/b"), o.toString());
      }
      for (int i = 0; i < 4; i++) {
        assertEquals("fast", tierOf(a.get(i)));
        assertEquals("slow", tierOf(b.get(i)));
      }

      for (int round = 0; round < 12; round++) {
        readEach(b);
      }
      CliRun.Result second = CliRun.run("policy", "apply", "--json", mnt.toString());
      assertEquals(0, second.code(), second.toString());
      JsonNode r2 = JSON.readTree(second.out());
      assertEquals(8, r2.path("moved").asInt(), r2.toString());
      List<String> order = new ArrayList<>();
      r2.path("outcomes").forEach(o -> order.add(o.path("action").asText() + " " + o.path("path").asText()));
      for (int i = 0; i < 4; i++) {
        assertTrue(order.get(i).startsWith("demote /a"), "demotions first, to make room: " + order);
        assertTrue(order.get(4 + i).startsWith("promote /b"), order.toString());
        assertEquals("slow", tierOf(a.get(i)));
        assertEquals("fast", tierOf(b.get(i)));
        assertArrayEquals(random(300 + i, 256 * KIB), Files.readAllBytes(a.get(i)));
        assertArrayEquals(random(400 + i, 256 * KIB), Files.readAllBytes(b.get(i)));
      }
      CliRun.Result um = CliRun.run("umount", mnt.toString());
      assertEquals(0, um.code(), um.toString());
      assertTrue(d.process.waitFor(60, TimeUnit.SECONDS));
    }
  }

  /** Reads each of {@code files} whole, each through its own open (the safe preset keeps no pages). */
  private static void readEach(List<Path> files) throws Exception {
    for (Path f : files) {
      Files.readAllBytes(f);
    }
  }

  private static double tierReads(Path data) throws Exception {
    return metric(scrape(data), "dfs_tier_reads_total", "tier=\"default\"");
  }

  /**
   * The warm action after a remount: the blocks read most (the access count decides before any gate round)
   * are read through the cache by {@code policy apply}, so the next reads of those files reach no tier, while a
   * file read once before still does.
   */
  @Test
  void warm_afterARemount_readsTheHotBlocksIntoTheCache_soTheirNextReadsReachNoTier() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    String[] args = {"--block-size", "64K", "--cache-memory", "4M", "--fuse-preset", "safe"};
    List<Path> hot = new ArrayList<>();
    List<Path> cold = new ArrayList<>();
    try (Daemon d = Daemon.start(data, mnt, tmp, args)) {
      for (int i = 0; i < 6; i++) {
        hot.add(Files.write(mnt.resolve("hot" + i), random(100 + i, 128 * KIB)));
      }
      for (int i = 0; i < 30; i++) {
        cold.add(Files.write(mnt.resolve("cold" + i), random(200 + i, 64 * KIB)));
      }
      for (int round = 0; round < 3; round++) {
        readEach(hot);
      }
      readEach(cold);
      CliRun.Result um = CliRun.run("umount", mnt.toString());
      assertEquals(0, um.code(), um.toString());
      assertTrue(d.process.waitFor(60, TimeUnit.SECONDS));
    }
    try (Daemon d = Daemon.start(data, mnt, tmp, args)) {
      CliRun.Result plan = CliRun.run("policy", "plan", "--json", mnt.toString());
      assertEquals(0, plan.code(), plan.toString());
      JsonNode warm = JSON.readTree(plan.out()).path("warm");
      assertEquals(12, warm.path("blocks").asInt(), "two blocks of each hot file: " + warm);
      assertEquals(6, warm.path("files").asInt(), warm.toString());
      assertEquals(2L * MIB, warm.path("budget_bytes").asLong(), "half of the 4 MiB cache: " + warm);
      CliRun.Result text = CliRun.run("policy", "plan", mnt.toString());
      assertTrue(text.out().contains("warm    12 blocks of 6 files (768.0 KiB) into the caches"), text.out());

      double before = tierReads(data);
      CliRun.Result apply = CliRun.run("policy", "apply", mnt.toString());
      assertEquals(0, apply.code(), apply.toString());
      assertTrue(apply.out().contains("warmed   12 blocks (768.0 KiB) into the caches"), apply.out());
      double warmed = tierReads(data);
      assertEquals(12, warmed - before, 0.0, "the warm action read each block from the tier once");

      readEach(hot);
      assertEquals(warmed, tierReads(data), 0.0, "the hot files came from the cache");
      readEach(cold.subList(0, 1));
      assertTrue(tierReads(data) > warmed, "a cold file still reaches the tier: the counter counts");
      assertTrue(metric(scrape(data), "dfs_policy_warmed_bytes_total", "") >= 768 * KIB);
      String audit = Files.readString(data.resolve("policy/audit.jsonl"));
      assertTrue(audit.contains("\"outcome\":\"warmed\"") && audit.contains("\"action\":\"warm\""), audit);
      CliRun.Result um = CliRun.run("umount", mnt.toString());
      assertEquals(0, um.code(), um.toString());
      assertTrue(d.process.waitFor(60, TimeUnit.SECONDS));
    }
  }

  @Test
  void kill9DuringAnExecutedMove_losesNothing_headroomBreakingMoveRefusedAndAudited() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    String rules = """
        rules:
          - match: "big/**"
            pin: fast
          - match: "db/**"
            pin: slow
        budget: {mb_per_second: 2}
        headroom: {slow: 99%}
        limits: {min_residency: 0s}
        """;
    Map<String, byte[]> sums = new LinkedHashMap<>();
    try (Daemon d = mount(data, mnt, rules)) {
      Files.createDirectories(mnt.resolve("big"));
      Files.createDirectories(mnt.resolve("db"));
      for (int i = 0; i < 2; i++) {
        byte[] b = random(100 + i, 16 * MIB);
        Files.write(mnt.resolve("big/f" + i), b);
        sums.put("big/f" + i, sha(b));
      }
      byte[] db = random(7, MIB);
      Files.write(mnt.resolve("db/x"), db);
      sums.put("db/x", sha(db));
      CliRun.Result move = CliRun.run("tier", "move", mnt.resolve("big").toString(), "--to", "slow");
      assertEquals(0, move.code(), move.toString());

      // apply in the background: 32 MiB at 2 MB/s, about 16 s; killed once the first move is under way
      Process apply = Daemon.command(tmp.resolve("apply.log"), "policy", "apply", mnt.toString());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      boolean started = false;
      while (!started && System.nanoTime() < deadline) {
        Thread.sleep(100);
        started = Files.exists(data.resolve("policy/audit.jsonl"))
            && audit(data).stream().anyMatch(e -> e.path("outcome").asText().equals("started"));
      }
      assertTrue(started, "a move started: " + (Files.exists(tmp.resolve("apply.log"))
          ? Files.readString(tmp.resolve("apply.log")) : ""));
      Thread.sleep(2500); // a batch or two into it
      d.kill9();
      apply.waitFor(30, TimeUnit.SECONDS);
    }
    List<JsonNode> before = audit(data);
    JsonNode refused = before.stream().filter(e -> e.path("path").asText().equals("/db/x")).findFirst().orElseThrow(
        () -> new AssertionError("the db move is audited: " + before));
    assertEquals("refused", refused.path("outcome").asText());
    assertEquals("slow", refused.path("to").asText());
    assertTrue(refused.path("failed_checks").path(0).asText().startsWith("space: would leave ")
        && refused.path("failed_checks").path(0).asText().contains("below the headroom"), refused.toString());
    assertTrue(before.stream().noneMatch(e -> e.path("outcome").asText().equals("moved")), "killed mid-move: " + before);

    try (DataDirectory dir = DataDirectory.open(data, null)) {
      Fsck.Report r = Fsck.checkOffline(dir, true, p -> { });
      assertTrue(r.clean(), r.problems().toString());
    }
    try (Daemon d = mount(data, mnt, rules)) {
      for (Map.Entry<String, byte[]> e : sums.entrySet()) {
        assertArrayEquals(e.getValue(), sha(Files.readAllBytes(mnt.resolve(e.getKey()))), e.getKey() + " changed");
      }
      List<JsonNode> after = audit(data);
      assertTrue(after.stream().anyMatch(e -> e.path("outcome").asText().equals("interrupted")
          && e.path("path").asText().startsWith("/big/")), "the remount recorded the interrupted move: " + after);
      CliRun.Result um = CliRun.run("umount", mnt.toString());
      assertEquals(0, um.code(), um.toString());
      assertTrue(d.process.waitFor(60, TimeUnit.SECONDS));
    }
  }
}
