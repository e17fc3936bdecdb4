package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dynamicfs policy evaluate} on small synthetic slices, {@code policy check}, and their refusals. */
class PolicyCommandTest {
  private static final List<String> POLICIES = List.of("model", "LRU", "LFU-aged", "ARC", "S3-FIFO", "W-TinyLFU",
      "Belady");

  @TempDir
  Path tmp;

  @Test
  void evaluate_syntheticJson_everyPolicyWithEveryFigure() throws Exception {
    CliRun.Result r = CliRun.run("policy", "evaluate", "--trace", "synthetic:scan-hot", "--capacity", "10",
        "--limit", "20000", "--json");
    assertEquals(0, r.code(), r.toString());
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertEquals(1, root.size());
    JsonNode t = root.get(0);
    assertEquals("synthetic:scan-hot", t.get("trace").asText());
    assertEquals(20_000, t.get("accesses").asLong());
    JsonNode cap = t.get("capacities").get(0);
    assertEquals(10.0, cap.get("capacity_percent").asDouble());
    JsonNode ps = cap.get("policies");
    assertEquals(POLICIES.size(), ps.size());
    for (int i = 0; i < POLICIES.size(); i++) {
      JsonNode p = ps.get(i);
      assertEquals(POLICIES.get(i), p.get("policy").asText());
      for (String k : List.of("positive_rate", "pr_auc", "roc_auc", "brier", "precision_at_capacity",
          "byte_hit_ratio", "bytes_moved", "ping_pong")) {
        assertTrue(p.has(k), k + " missing for " + p.get("policy"));
      }
      double hit = p.get("byte_hit_ratio").asDouble();
      assertTrue(hit >= 0 && hit <= 1, p.toString());
    }
    assertTrue(ps.get(6).get("byte_hit_ratio").asDouble() >= ps.get(1).get("byte_hit_ratio").asDouble(),
        "Belady bounds LRU");
  }

  @Test
  void evaluate_table_allFourCapacitiesSideBySide() {
    CliRun.Result r = CliRun.run("policy", "evaluate", "--trace", "synthetic:loop", "--limit", "10000");
    assertEquals(0, r.code(), r.toString());
    for (String pct : List.of("capacity 1%", "capacity 5%", "capacity 10%", "capacity 20%")) {
      assertTrue(r.out().contains(pct), pct + " in\n" + r.out());
    }
    for (String p : POLICIES) {
      assertTrue(r.out().contains("\n  " + p + " "), p + " in\n" + r.out());
    }
    assertTrue(r.out().contains("PR-AUC") && r.out().contains("ping-pong"), r.out());
  }

  @Test
  void evaluate_badInput_oneLineAndExit2() throws Exception {
    Path notGzip = tmp.resolve("lirs-x.trace.gz");
    Files.writeString(notGzip, "not gzip");
    Path badLine = tmp.resolve("lirs-y.trace");
    Files.writeString(badLine, "1\n2\nx\n");
    String[][] cases = {
        {"policy", "evaluate", "--trace", tmp.resolve("missing.trace.gz").toString()},
        {"policy", "evaluate", "--trace", "synthetic:nope"},
        {"policy", "evaluate", "--trace", "synthetic:loop", "--capacity", "0"},
        {"policy", "evaluate", "--trace", "synthetic:loop", "--capacity", "101"},
        {"policy", "evaluate", "--trace", "synthetic:loop", "--admission-window", "60"},
        {"policy", "evaluate", "--trace", notGzip.toString()},
        {"policy", "evaluate", "--trace", badLine.toString()},
        {"policy", "evaluate", "--trace", tmp.resolve("mystery.bin").toString()},
    };
    Files.write(tmp.resolve("mystery.bin"), new byte[8]);
    for (String[] args : cases) {
      CliRun.Result r = CliRun.run(args);
      assertEquals(2, r.code(), String.join(" ", args) + " -> " + r);
      String first = r.err().lines().findFirst().orElse("");
      assertTrue(first.startsWith("dynamicfs: "), r.err());
      assertTrue(r.err().lines().filter(l -> !l.startsWith("Try 'dynamicfs")).count() == 1,
          "one error line: " + r.err());
      assertTrue(r.out().isEmpty(), "nothing printed on stdout: " + r.out());
    }
  }

  @Test
  void policy_withoutSubcommand_exit2() {
    CliRun.Result r = CliRun.run("policy");
    assertEquals(2, r.code());
    assertTrue(r.err().contains("a subcommand is required (status, explain, plan, simulate, apply, check, evaluate)"), r.err());
  }

  @Test
  void check_goodFile_summarised() throws Exception {
    Path f = tmp.resolve("rules.yaml");
    Files.writeString(f, """
        rules:
          - name: db
            match: "db/**"
            pin: fast
          - match: "**/*.log"
            prefer: slow
            when: {idle_for: 7d}
        budget: {mb_per_second: 40, moves_per_hour: 100}
        headroom: {fast: 15%}
        """);
    CliRun.Result r = CliRun.run("policy", "check", f.toString(), "--tiers", "fast,slow");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().startsWith(f + ": ok, 2 rules"), r.out());
    assertTrue(r.out().contains("hard     db (line 2): pin to fast for db/**"), r.out());
    assertTrue(r.out().contains("prefer   rule 2 (line 5): prefer slow for **/*.log when idle for 7d"), r.out());
    assertTrue(r.out().contains("budget 40 MB/s, 100 moves per hour"), r.out());
    assertTrue(r.out().contains("headroom fast: keep 15% free"), r.out());
    assertTrue(r.out().contains("tier names checked against fast, slow"), r.out());
    CliRun.Result unchecked = CliRun.run("policy", "check", f.toString());
    assertEquals(0, unchecked.code());
    assertTrue(unchecked.out().contains("tier names not checked"), unchecked.out());
  }

  @Test
  void check_badFile_oneLineWithFileLineAndReason_exit2() throws Exception {
    Path f = tmp.resolve("bad.yaml");
    Files.writeString(f, "rules:\n  - match: \"db/**\"\n    pin: nvme\nbudget:\n  mb_per_second: -1\n");
    CliRun.Result r = CliRun.run("policy", "check", f.toString(), "--tiers", "fast,slow");
    assertEquals(2, r.code(), r.toString());
    assertEquals("dynamicfs: " + f + ", line 3: unknown tier 'nvme' (tiers: fast, slow)", r.err().strip());
    assertTrue(r.out().isEmpty(), r.out());
    Files.writeString(f, "budget:\n  mb_per_second: -1\n");
    r = CliRun.run("policy", "check", f.toString());
    assertEquals("dynamicfs: " + f + ", line 2: mb_per_second must not be negative: -1", r.err().strip());
    r = CliRun.run("policy", "check", tmp.resolve("none.yaml").toString());
    assertEquals(2, r.code());
    assertEquals("dynamicfs: " + tmp.resolve("none.yaml") + ": no such file", r.err().strip());
  }
}
