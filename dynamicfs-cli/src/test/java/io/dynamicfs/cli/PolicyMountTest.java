package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamicfs.policy.mount.MountTracker;
import io.dynamicfs.policy.track.AccessTable;
import io.dynamicfs.policy.track.AccessTracker;
import io.dynamicfs.policy.track.TrackerFile;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy engine on a real mount (the CLI's daemon in its own JVM, unmounted at the end of every test):
 * reads through FUSE reach the tracker, whose tables are saved in DATA/policy at unmount and loaded again at
 * the next mount; {@code policy explain} and {@code policy status} show them.
 */
class PolicyMountTest {
  private static final int MIB = 1 << 20;

  @TempDir
  Path tmp;

  private static byte[] random(int seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Reads the whole file {@code times} times, each through a fresh open (the safe preset keeps no pages). */
  private static void readTimes(Path f, int times) throws Exception {
    byte[] buf = new byte[1 << 16];
    for (int i = 0; i < times; i++) {
      try (InputStream in = Files.newInputStream(f)) {
        while (in.read(buf) >= 0) {
          // read it all
        }
      }
    }
  }

  /** {@code dynamicfs umount MNT}, then waits for the daemon to have saved everything and exited. */
  private static void unmount(Daemon d, Path mnt) throws Exception {
    CliRun.Result r = CliRun.run("umount", mnt.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(d.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the daemon did not exit");
    assertEquals(0, d.process.exitValue(), d.output());
  }

  @Test
  void tracking_readsThroughTheMount_savedAtUnmount() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    long ino;
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--fuse-preset", "safe")) {
      Files.write(mnt.resolve("hot.bin"), random(1, 2 * MIB + 100));
      ino = (Long) Files.getAttribute(mnt.resolve("hot.bin"), "unix:ino");
      readTimes(mnt.resolve("hot.bin"), 3);
      unmount(d, mnt);
    }
    TrackerFile.Loaded saved = TrackerFile.load(data.resolve("policy").resolve("tracker"),
        AccessTracker.Config.defaults(1000, 1000));
    assertTrue(saved.ok(), saved.problem());
    AccessTable files = saved.tracker().files();
    int s = files.find(ino);
    assertTrue(s >= 0, "the file's accesses were saved");
    assertTrue(files.bytes(s) >= 4L * (2 * MIB + 100), "a write and three whole reads at least: "
        + files.bytes(s));
    assertTrue(files.writes(s) >= 1);
    AccessTable extents = saved.tracker().extents();
    for (int b = 0; b < 3; b++) {
      int e = extents.find(MountTracker.extentKey(ino, b));
      assertTrue(e >= 0, "block " + b + " tracked");
      assertTrue(extents.accesses(e) - extents.writes(e) >= 3, "block " + b + " read three times");
    }
    assertTrue(Files.size(data.resolve("policy").resolve("access.log")) > 0);
  }

  private static JsonNode explainJson(Path file) throws Exception {
    CliRun.Result r = CliRun.run("policy", "explain", "--json", file.toString());
    assertEquals(0, r.code(), r.toString());
    return new ObjectMapper().readTree(r.out());
  }

  @Test
  void explain_showsTheReadsThroughTheMount_andTheyAreThereAfterARemount() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    Path hot = mnt.resolve("dir/hot.bin");
    long accesses;
    long bytes;
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--fuse-preset", "safe")) {
      Files.createDirectories(hot.getParent());
      Files.write(hot, random(3, 2 * MIB + 100));
      Files.write(mnt.resolve("cold.bin"), random(4, 1000));
      readTimes(hot, 3);
      JsonNode e = explainJson(hot);
      assertEquals("/dir/hot.bin", e.path("path").asText());
      assertEquals(3, e.path("placement").path("blocks").asLong());
      assertEquals("default", e.path("placement").path("extents").path(0).path("location").asText(), e.toString());
      JsonNode a = e.path("access");
      assertTrue(a.path("tracked").asBoolean(), e.toString());
      accesses = a.path("accesses").asLong();
      bytes = a.path("bytes").asLong();
      assertTrue(bytes >= 4L * (2 * MIB + 100), "the write and three whole reads: " + a);
      assertTrue(a.path("writes").asLong() >= 1);
      assertEquals(3, e.path("blocks_tracked").asInt(), e.toString());
      for (JsonNode b : e.path("blocks")) {
        assertTrue(b.path("access").path("accesses").asLong() - b.path("access").path("writes").asLong() >= 3,
            "each block read three times: " + b);
      }
      assertEquals("heuristic count", e.path("prediction").path("decider").asText());
      assertEquals(3, e.path("access").path("counters").size());

      CliRun.Result text = CliRun.run("policy", "explain", hot.toString());
      assertEquals(0, text.code(), text.toString());
      for (String part : List.of("/dir/hot.bin (inode", "placement", "blocks 0-2", "access     last",
          "decayed counts: 1m", "prediction P(read within 1h) by heuristic count", "rules", "decisions")) {
        assertTrue(text.out().contains(part), "'" + part + "' in\n" + text.out());
      }

      CliRun.Result st = CliRun.run("policy", "status", "--json", mnt.toString());
      assertEquals(0, st.code(), st.toString());
      JsonNode s = new ObjectMapper().readTree(st.out());
      assertTrue(s.path("tracking").asBoolean());
      assertEquals("/dir/hot.bin", s.path("hottest_files").path(0).path("path").asText(), s.toString());
      CliRun.Result stText = CliRun.run("policy", "status", mnt.toString());
      assertTrue(stText.out().contains("tracking   on:") && stText.out().contains("/dir/hot.bin"), stText.out());

      CliRun.Result missing = CliRun.run("policy", "explain", mnt.resolve("nope").toString());
      assertEquals(Main.EXIT_USAGE, missing.code(), missing.toString());
      unmount(d, mnt);
    }
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--fuse-preset", "safe")) {
      JsonNode a = explainJson(hot).path("access"); // explain itself reads no file data
      assertEquals(accesses, a.path("accesses").asLong(), "the figures survived the remount: " + a);
      assertEquals(bytes, a.path("bytes").asLong());
      unmount(d, mnt);
    }
    CliRun.Result gone = CliRun.run("policy", "explain", hot.toString());
    assertEquals(Main.EXIT_USAGE, gone.code(), "not mounted: " + gone);
  }

  @Test
  void rules_badFileRefusesTheMount_goodOneShowsInExplainAndStatus() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    Path bad = tmp.resolve("bad.yaml");
    Files.writeString(bad, "rules:\n  - match: \"logs/[x\"\n    never_move: true\n");
    CliRun.Result refused = CliRun.run("mount", data.toString(), mnt.toString(), "--policy-rules", bad.toString());
    assertEquals(Main.EXIT_USAGE, refused.code(), refused.toString());
    assertEquals("dynamicfs: --policy-rules " + bad + ", line 2: bad glob 'logs/[x': '[' at position 1 is not "
        + "closed by ']'", refused.err().strip());
    assertFalse(io.dynamicfs.fuse.FuseMount.isMounted(mnt));
    // an unknown tier is found once DATA is open (its tiers are known then), by the background child
    Files.writeString(bad, "rules:\n  - match: \"**\"\n    pin: nvme\n");
    refused = CliRun.run("mount", data.toString(), mnt.toString(), "--policy-rules", bad.toString());
    assertEquals(Main.EXIT_USAGE, refused.code(), refused.toString());
    assertEquals("dynamicfs: --policy-rules " + bad + ", line 3: unknown tier 'nvme' (tiers: default)",
        refused.err().strip());
    assertFalse(io.dynamicfs.fuse.FuseMount.isMounted(mnt));
    // DATA/policy/rules.yaml is read when no --policy-rules is given
    Files.createDirectories(data.resolve("policy"));
    Files.writeString(data.resolve("policy/rules.yaml"), """
        rules:
          - name: keep-logs
            match: "logs/**"
            never_move: true
          - name: hot
            match: "**"
            prefer: default
            when: {window: 1m, accesses_at_least: 2}
        """);
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--fuse-preset", "safe")) {
      Files.createDirectories(mnt.resolve("logs"));
      Files.write(mnt.resolve("logs/a.log"), random(5, 1000));
      JsonNode r = explainJson(mnt.resolve("logs/a.log")).path("rules");
      assertEquals(data.resolve("policy/rules.yaml").toString(), r.path("source").asText());
      assertEquals("keep-logs", r.path("matches").path(0).path("name").asText(), r.toString());
      assertTrue(r.path("matches").path(0).path("decides").asBoolean(), r.toString());
      assertEquals("hot", r.path("matches").path(1).path("name").asText(), r.toString());
      assertFalse(r.path("matches").path(1).path("decides").asBoolean(), r.toString());
      assertTrue(r.path("decision").asText().startsWith("hard rule 'keep-logs' (line 2)"), r.toString());
      CliRun.Result st = CliRun.run("policy", "status", mnt.toString());
      assertTrue(st.out().contains("keep-logs (line 2): never move for logs/**"), st.out());
      CliRun.Result check = CliRun.run("policy", "check", data.resolve("policy/rules.yaml").toString(), "--mount",
          mnt.toString());
      assertEquals(0, check.code(), check.toString());
      assertTrue(check.out().contains("tier names checked against default"), check.out());
      unmount(d, mnt);
    }
  }

  @Test
  void rules_reloadOnARunningMount_takesAGoodFile_refusesABadOneAndKeepsTheRulesInForce() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    Path rules = tmp.resolve("rules.yaml");
    Files.writeString(rules, "rules:\n  - name: keep-logs\n    match: \"logs/**\"\n    never_move: true\n");
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--policy-rules", rules.toString())) {
      Files.createDirectories(mnt.resolve("db"));
      Files.write(mnt.resolve("db/a.db"), random(8, 1000));
      assertEquals("no rule matches: the model decides", decision(mnt.resolve("db/a.db")));

      Files.writeString(rules, "rules:\n  - name: keep-logs\n    match: \"logs/**\"\n    never_move: true\n"
          + "  - name: db-stays\n    match: \"db/*.db\"\n    pin: default\n");
      CliRun.Result ok = CliRun.run("policy", "reload", mnt.toString());
      assertEquals(0, ok.code(), ok.toString());
      assertTrue(ok.out().startsWith("policy rules reloaded from " + rules + ": 2 rules (were 1)"), ok.out());
      assertTrue(decision(mnt.resolve("db/a.db")).startsWith("hard rule 'db-stays' (line 5)"),
          decision(mnt.resolve("db/a.db")));

      Files.writeString(rules, "rules:\n  - name: broken\n    match: \"db/*.db\"\n    pin: nvme\n");
      CliRun.Result bad = CliRun.run("policy", "reload", mnt.toString());
      assertEquals(Main.EXIT_USAGE, bad.code(), bad.toString());
      assertTrue(bad.err().contains(rules + ", line 4: unknown tier 'nvme' (tiers: default); the rules in force stay"),
          bad.err());
      CliRun.Result st = CliRun.run("policy", "status", mnt.toString());
      assertTrue(st.out().contains("db-stays (line 5)") && !st.out().contains("broken"), st.out());

      Files.delete(rules);
      CliRun.Result gone = CliRun.run("policy", "reload", mnt.toString());
      assertEquals(Main.EXIT_USAGE, gone.code(), "--policy-rules names a file that must be there: " + gone);
      assertTrue(gone.err().contains(rules + ": no such file"), gone.err());
      Files.writeString(rules, "rules: []\n");
      CliRun.Result none = CliRun.run("policy", "reload", "--json", mnt.toString());
      assertEquals(0, none.code(), none.toString());
      assertEquals(0, new ObjectMapper().readTree(none.out()).path("rules_after").asInt(), none.out());
      assertEquals("no rule matches: the model decides", decision(mnt.resolve("db/a.db")));
      unmount(d, mnt);
    }
  }

  private static String decision(Path file) throws Exception {
    return explainJson(file).path("rules").path("decision").asText();
  }

  @Test
  void plan_twoTiers_proposesThePromotionOfAReadFile_withItsChecks() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--fuse-preset", "safe",
        "--tier", "fast:replicate-1:" + tmp.resolve("fast"), "--tier", "slow:replicate-1:" + tmp.resolve("slow"))) {
      Files.write(mnt.resolve("a.bin"), random(6, 2 * MIB));
      Files.write(mnt.resolve("b.bin"), random(7, MIB));
      CliRun.Result move = CliRun.run("tier", "move", mnt.resolve("a.bin").toString(), "--to", "slow");
      assertEquals(0, move.code(), move.toString());
      readTimes(mnt.resolve("a.bin"), 3);
      CliRun.Result r = CliRun.run("policy", "plan", "--json", mnt.toString());
      assertEquals(0, r.code(), r.toString());
      JsonNode plan = new ObjectMapper().readTree(r.out());
      assertEquals(2, plan.path("files_considered").asInt(), plan.toString());
      assertEquals(1, plan.path("proposals").size(), plan.toString());
      JsonNode a = plan.path("proposals").path(0);
      assertEquals("/a.bin", a.path("path").asText());
      assertEquals("promote", a.path("action").asText());
      assertEquals("slow", a.path("from").asText());
      assertEquals("fast", a.path("to").asText());
      assertEquals(2L * MIB, a.path("bytes").asLong());
      assertTrue(a.path("refused").asBoolean(), "just written: " + a);
      for (JsonNode c : a.path("checks")) {
        assertEquals(!c.path("name").asText().equals("residency"), c.path("ok").asBoolean(), c.toString());
      }
      CliRun.Result text = CliRun.run("policy", "plan", mnt.toString());
      assertTrue(text.out().contains("REFUSED promote /a.bin: slow -> fast, 2.0 MiB")
          && text.out().contains("FAIL residency  changed"), text.out());
      unmount(d, mnt);
    }
  }

  /**
   * The model trained on the mount's own accesses (windows of 2 s): ten files read every 200 ms, ten logs
   * appended to every 100 ms and never read, and a new file read once every 100 ms. Every tracker heuristic
   * ranks the logs first (most accesses, most recent); the model learns that written blocks are not read
   * and passes the gate, and status, explain and the metrics say so.
   */
  @Test
  void training_onTheMountsAccesses_putsAModelLiveThroughTheGate() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--fuse-preset", "safe",
        "--policy-horizon", "2s")) {
      List<Path> hot = new java.util.ArrayList<>();
      List<java.nio.channels.FileChannel> logs = new java.util.ArrayList<>();
      try {
        for (int i = 0; i < 10; i++) {
          hot.add(Files.write(mnt.resolve("hot" + i), random(10 + i, 4096)));
          logs.add(java.nio.channels.FileChannel.open(mnt.resolve("log" + i), java.nio.file.StandardOpenOption.CREATE,
              java.nio.file.StandardOpenOption.WRITE, java.nio.file.StandardOpenOption.APPEND));
        }
        byte[] line = new byte[400];
        long end = System.nanoTime() + 11_000_000_000L;
        for (int round = 0; System.nanoTime() < end; round++) {
          for (java.nio.channels.FileChannel log : logs) {
            log.write(java.nio.ByteBuffer.wrap(line));
          }
          Path cold = Files.write(mnt.resolve("cold" + round), random(round, 4096));
          readTimes(cold, 1);
          if (round % 2 == 0) {
            for (Path h : hot) {
              readTimes(h, 1);
            }
          }
          Thread.sleep(100);
        }
      } finally {
        for (java.nio.channels.FileChannel log : logs) {
          log.close();
        }
      }
      CliRun.Result st = CliRun.run("policy", "status", "--json", mnt.toString());
      assertEquals(0, st.code(), st.toString());
      JsonNode s = new ObjectMapper().readTree(st.out());
      JsonNode training = s.path("training");
      assertEquals(2, training.path("horizon_seconds").asLong(), s.toString());
      assertTrue(training.path("rounds").asInt() >= 1, "a gate round from the third window: " + training);
      JsonNode round = training.path("last_round");
      assertTrue(round.path("candidate_pr_auc").asDouble() > round.path("best_heuristic_pr_auc").asDouble(),
          round.toString());
      JsonNode decider = s.path("decider");
      assertEquals("model", decider.path("kind").asText(), s.toString());
      assertTrue(decider.path("held_out_pr_auc").asDouble() > 0.8, decider.toString());
      CliRun.Result stText = CliRun.run("policy", "status", mnt.toString());
      assertTrue(stText.out().contains("training   windows of 2s") && stText.out().contains("last round"),
          stText.out());

      JsonNode hotPrediction = explainJson(hot.get(3)).path("prediction");
      JsonNode logPrediction = explainJson(mnt.resolve("log3")).path("prediction");
      assertTrue(hotPrediction.path("decider").asText().startsWith("model v"), hotPrediction.toString());
      assertEquals(5, hotPrediction.path("contributions").size(), hotPrediction.toString());
      assertTrue(hotPrediction.path("held_out_pr_auc").asDouble() > 0.8, hotPrediction.toString());
      assertTrue(hotPrediction.path("probability").asDouble() > logPrediction.path("probability").asDouble(),
          "a file read every 200 ms is likelier read again than a log only written: " + hotPrediction + " "
              + logPrediction);
      String m = PolicyExecutionTest.scrape(data);
      assertEquals(1, PolicyExecutionTest.metric(m, "dfs_policy_model_live", ""), 0.0, m);
      assertTrue(PolicyExecutionTest.metric(m, "dfs_policy_model_held_out_pr_auc", "") > 0.8, m);
      assertTrue(PolicyExecutionTest.metric(m, "dfs_policy_model_rounds_total", "") >= 1, m);
      unmount(d, mnt);
    }
    assertTrue(Files.size(data.resolve("policy/model")) > 0, "the live model is kept for the next mount");
  }

  @Test
  void record_writesTheMountsAccessesAsATrace_thatEvaluateReplays() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    Path trace = tmp.resolve("mine.dfstrace.gz");
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--fuse-preset", "safe")) {
      for (int i = 0; i < 40; i++) {
        Files.write(mnt.resolve("f" + i), random(20 + i, 8192));
      }
      for (int round = 0; round < 30; round++) {
        readTimes(mnt.resolve("f" + (round % 4)), 1); // four hot files
        readTimes(mnt.resolve("f" + (4 + round)), 1); // and the rest read once
      }
      CliRun.Result r = CliRun.run("policy", "record", mnt.toString(), "--out", trace.toString(), "--since", "1h");
      assertEquals(0, r.code(), r.toString());
      assertTrue(r.out().startsWith("recorded "), r.out());
      CliRun.Result again = CliRun.run("policy", "record", mnt.toString(), "--out", trace.toString());
      assertEquals(Main.EXIT_USAGE, again.code(), "an existing file is not overwritten: " + again);
      CliRun.Result wrongName = CliRun.run("policy", "record", mnt.toString(), "--out", tmp.resolve("x.txt").toString());
      assertEquals(Main.EXIT_USAGE, wrongName.code(), wrongName.toString());
      unmount(d, mnt);
    }
    long accesses = 0;
    long writes = 0;
    try (io.dynamicfs.policy.trace.TraceReader t = io.dynamicfs.policy.trace.Traces.file(trace).open()) {
      while (t.next()) {
        accesses++;
        writes += t.write() ? 1 : 0;
      }
    }
    assertTrue(writes >= 40 && accesses - writes >= 60, accesses + " accesses, " + writes + " writes");
    assertTrue(Files.list(data.resolve("policy")).noneMatch(p -> p.toString().endsWith(".dfstrace")),
        "the daemon's copy is removed");
    CliRun.Result ev = CliRun.run("policy", "evaluate", "--json", "--capacity", "10", "--trace", trace.toString());
    assertEquals(0, ev.code(), ev.toString());
    JsonNode e = new ObjectMapper().readTree(ev.out());
    assertEquals(accesses, e.path(0).path("accesses").asLong(), ev.out());
  }

  @Test
  void tracking_off_recordsNothing() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--policy-tracking", "off")) {
      Files.write(mnt.resolve("f"), random(2, 1000));
      readTimes(mnt.resolve("f"), 1);
      unmount(d, mnt);
    }
    assertFalse(Files.exists(data.resolve("policy").resolve("tracker")));
  }
}
