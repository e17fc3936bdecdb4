package io.dynamicfs.policy.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.storage.StorageLayout;
import io.dynamicfs.policy.rules.PolicyRules;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code policy plan} on a real two-tier engine (both tiers in the temp dir, so on one filesystem): the
 * moves proposed and each safety check refusing for its reason. The plans see fixed disk figures (the real disk
 * is shared with other processes, whose writes used to change the room between two plans of a test), and
 * headroom is given in bytes relative to them.
 */
class PlannerTest {
  private static final int BS = 64 << 10;
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final long T0 = 1_800_000_000_000L;
  private static final long MINUTE = 60_000;
  private static final long DISK_TOTAL = 200L << 30;
  private static final long DISK_FREE = 80L << 30;

  @TempDir Path tmp;
  private DataDirectory dir;
  private MountTracker tracker;
  private DynamicFileSystem fs;
  private long nowMillis = T0;

  @BeforeEach
  void open() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    StorageLayout layout = StorageLayout.fromOptions(List.of("fast:replicate-1:" + tmp.resolve("fast"),
        "slow:replicate-1:" + tmp.resolve("slow")));
    dir = DataDirectory.open(data, new FormatOptions(BS, Codec.LZ4, 4096), layout);
    tracker = MountTracker.open(data.resolve("policy"), BS, new MountTracker.Settings(1000, 1000, 1000, 1024,
        Duration.ofHours(1), Duration.ofHours(1)));
    fs = DynamicFileSystem.open(dir, EngineOptions.defaults().withClock(() -> nowMillis * 1_000_000L)
        .withAccessObserver(tracker));
  }

  @AfterEach
  void close() throws Exception {
    fs.close();
    tracker.close();
    dir.close();
  }

  private MountPolicy policy(String rulesYaml) throws Exception {
    PolicyRules rules = rulesYaml == null ? null : PolicyRules.parse(rulesYaml, "rules.yaml", List.of("fast", "slow"));
    MountPolicy p = new MountPolicy(fs, tracker, null, rules, () -> nowMillis);
    p.useDiskSpace(t -> new long[] {DISK_TOTAL, DISK_FREE}); // not the real disk, which others write to meanwhile
    return p;
  }

  private long file(String name, int blocks, String tier, int reads) throws Exception {
    long parent = FileSystem.ROOT_INO;
    String leaf = name;
    if (name.contains("/")) {
      fs.mkdir(ME, parent, name.substring(0, name.indexOf('/')), 0755);
      parent = fs.lookup(parent, name.substring(0, name.indexOf('/')));
      leaf = name.substring(name.indexOf('/') + 1);
    }
    OpenResult f = fs.create(ME, parent, leaf, 0644, 2);
    byte[] b = new byte[blocks * BS];
    new Random(name.hashCode()).nextBytes(b);
    fs.write(f.handle(), 0, b, 0, b.length);
    fs.release(f.handle());
    if (tier.equals("slow")) {
      fs.moveToTier(f.attr().ino(), "slow", p -> { });
    }
    long h = fs.open(ME, f.attr().ino(), 0);
    for (int i = 0; i < reads; i++) {
      fs.read(h, 0, b, 0, b.length);
    }
    fs.release(h);
    return f.attr().ino();
  }

  private static Map<String, Plan.Check> checks(Plan.Proposal p) {
    return p.checks().stream().collect(Collectors.toMap(Plan.Check::name, c -> c));
  }

  private static Plan.Proposal proposal(Plan plan, String path) {
    return plan.proposals().stream().filter(p -> p.path().equals(path)).findFirst()
        .orElseThrow(() -> new AssertionError("no proposal for " + path + " in " + plan));
  }

  @Test
  void plan_roomOnFast_promotesTheReadFile_refusesTheUnreadOneForItsBenefit() throws Exception {
    file("hot", 1, "slow", 10);
    file("cold", 1, "slow", 0);
    nowMillis += 20 * MINUTE;
    Plan plan = policy(null).plan();
    assertEquals("heuristic count", plan.decider());
    assertEquals(List.of("fast", "slow"), plan.tiers().stream().map(Plan.TierSpace::name).toList());
    assertEquals(2, plan.filesConsidered());
    Plan.Proposal hot = proposal(plan, "/hot");
    assertEquals("promote", hot.action());
    assertEquals("slow", hot.from());
    assertEquals("fast", hot.to());
    assertEquals(BS, hot.bytes());
    assertFalse(hot.refused(), hot.toString());
    assertEquals(List.of("schedule", "budget", "space", "open", "residency", "cooldown", "hysteresis", "benefit"),
        hot.checks().stream().map(Plan.Check::name).toList());
    Plan.Proposal cold = proposal(plan, "/cold");
    assertTrue(cold.refused());
    Plan.Check benefit = checks(cold).get("benefit");
    assertFalse(benefit.ok(), benefit.toString());
    assertTrue(benefit.detail().contains("needs 1.5x"), benefit.detail());
    assertTrue(plan.proposals().indexOf(hot) < plan.proposals().indexOf(cold), "promotions by score");
  }

  @Test
  void plan_justWrittenOrOpen_refusedForResidencyAndOpen() throws Exception {
    long hot = file("hot", 1, "slow", 10);
    nowMillis += 2 * MINUTE;
    Plan.Check residency = checks(proposal(policy(null).plan(), "/hot")).get("residency");
    assertFalse(residency.ok());
    assertEquals("changed 2m ago, minimum residency 10m", residency.detail());
    nowMillis += 20 * MINUTE;
    long h = fs.open(ME, hot, 0);
    try {
      Plan.Proposal p = proposal(policy(null).plan(), "/hot");
      assertTrue(p.refused());
      assertEquals("open: a move waits until it is closed", checks(p).get("open").detail());
      assertTrue(checks(p).get("residency").ok());
    } finally {
      fs.release(h);
    }
  }

  @Test
  void plan_noRoomOnFast_demotesTheColdest_andAPromotionBreakingHeadroomIsRefused() throws Exception {
    file("warm", 1, "fast", 3);
    file("cold", 1, "fast", 0);
    file("hot", 1, "slow", 20);
    nowMillis += 20 * MINUTE;
    long free = policy(null).plan().tiers().get(0).freeBytes();
    // room for one block on fast: free space + the two blocks there - headroom = 1 block
    Plan plan = policy("headroom: {fast: " + (free + BS) + "}\n").plan();
    Plan.Proposal cold = proposal(plan, "/cold");
    Plan.Proposal warm = proposal(plan, "/warm");
    Plan.Proposal hot = proposal(plan, "/hot");
    assertEquals("demote", cold.action());
    assertEquals("demote", warm.action());
    assertEquals("promote", hot.action());
    assertTrue(plan.proposals().indexOf(cold) < plan.proposals().indexOf(warm), "the coldest first");
    assertTrue(plan.proposals().indexOf(warm) < plan.proposals().indexOf(hot), "demotions make room first");
    assertFalse(cold.refused(), cold.toString());
    assertFalse(warm.refused(), warm.toString());
    assertFalse(hot.refused(), "the demotions made its room: " + hot);

    // now with the demotions held back by the budget, the promotion would break the headroom
    Plan tight = policy("headroom: {fast: " + (free + BS) + "}\nbudget: {moves_per_hour: 1}\n").plan();
    Plan.Proposal warm2 = proposal(tight, "/warm");
    assertTrue(warm2.refused());
    assertEquals("the 1 moves per hour are taken", checks(warm2).get("budget").detail());
    Plan.Proposal hot2 = proposal(tight, "/hot");
    assertTrue(hot2.refused());
    Plan.Check space = checks(hot2).get("space");
    assertFalse(space.ok());
    assertTrue(space.detail().startsWith("would leave ") && space.detail().contains("below the headroom"), space.detail());
  }

  @Test
  void plan_hysteresis_aCloseScoreDoesNotDisplace() throws Exception {
    file("a", 1, "slow", 10); // score log(1 + 11) = 2.485
    file("b", 1, "fast", 9); // log(1 + 10) = 2.398: within the margin of 0.1
    nowMillis += 20 * MINUTE;
    long free = policy(null).plan().tiers().get(0).freeBytes();
    Plan plan = policy("headroom: {fast: " + free + "}\n").plan(); // room for exactly one block
    List<Plan.Proposal> ps = plan.proposals();
    assertEquals(List.of("demote /b", "promote /a"), ps.stream().map(p -> p.action() + " " + p.path()).toList());
    assertTrue(ps.stream().allMatch(Plan.Proposal::refused), ps.toString());
    for (Plan.Proposal p : ps) {
      assertFalse(checks(p).get("hysteresis").ok(), p.toString());
    }
  }

  @Test
  void plan_rules_pinMovesWithoutRanking_neverMoveHolds_scheduleRefuses() throws Exception {
    file("db/x", 1, "fast", 0);
    file("archive/y", 1, "slow", 50);
    nowMillis += 20 * MINUTE;
    Plan plan = policy("""
        rules:
          - name: db-slow
            match: "db/**"
            pin: slow
          - match: "archive/**"
            never_move: true
        """).plan();
    assertEquals(1, plan.proposals().size(), plan.toString());
    Plan.Proposal db = proposal(plan, "/db/x");
    assertEquals("move", db.action());
    assertEquals("slow", db.to());
    assertTrue(db.reason().startsWith("hard rule 'db-slow' (line 2)"), db.reason());
    assertFalse(db.checks().stream().anyMatch(c -> c.name().equals("benefit") || c.name().equals("hysteresis")));
    assertFalse(db.refused(), db.toString());
    assertEquals(1, plan.filesHeld(), "the archive file is held");

    int hour = java.time.LocalDateTime.ofInstant(java.time.Instant.ofEpochMilli(nowMillis),
        java.time.ZoneId.systemDefault()).getHour();
    String closed = String.format("%02d:00-%02d:00", (hour + 2) % 24, (hour + 3) % 24);
    Plan.Proposal later = proposal(policy("rules:\n  - match: \"db/**\"\n    pin: slow\nschedule: {windows: [\""
        + closed + "\"]}\n").plan(), "/db/x");
    assertTrue(later.refused());
    assertTrue(checks(later).get("schedule").detail().startsWith("outside the schedule (" + closed), later.toString());
  }

  @Test
  void plan_trackingOff_everyFileRanksAsNeverRead() throws Exception {
    file("a", 1, "slow", 5);
    nowMillis += 20 * MINUTE;
    Plan plan = new MountPolicy(fs, null, "off", null, () -> nowMillis).plan();
    assertTrue(plan.notes().contains("tracking is off: every file ranks as never read"), plan.notes().toString());
    assertFalse(checks(proposal(plan, "/a")).get("benefit").ok());
  }
}
