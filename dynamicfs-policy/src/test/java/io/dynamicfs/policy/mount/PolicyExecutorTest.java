package io.dynamicfs.policy.mount;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.ProgressListener;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.storage.StorageLayout;
import io.dynamicfs.policy.act.AuditEntry;
import io.dynamicfs.policy.act.AuditLog;
import io.dynamicfs.policy.act.Foreground;
import io.dynamicfs.policy.rules.PolicyRules;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The executor on a real two-tier engine (both tiers in the temp dir): plans executed through the crash-safe
 * tier move, every move and refusal in the audit log, the cooldown fed by that log, a refusal repeated
 * unchanged written once, a move stopped between batches by closing, and {@code simulate}.
 */
class PolicyExecutorTest {
  private static final int BS = 64 << 10;
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final long T0 = 1_800_000_000_000L;
  private static final long MINUTE = 60_000;
  private static final String NO_RESIDENCY = "limits: {min_residency: 0s}\n";

  @TempDir Path tmp;
  private DataDirectory dir;
  private MountTracker tracker;
  private DynamicFileSystem fs;
  private Path policyDir;
  private long nowMillis = T0;
  private MountPolicy policy;

  @BeforeEach
  void open() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    policyDir = data.resolve("policy");
    StorageLayout layout = StorageLayout.fromOptions(List.of("fast:replicate-1:" + tmp.resolve("fast"),
        "slow:replicate-1:" + tmp.resolve("slow")));
    dir = DataDirectory.open(data, new FormatOptions(BS, Codec.NONE, 4096), layout);
    tracker = MountTracker.open(policyDir, BS, new MountTracker.Settings(1000, 1000, 10_000, 1024,
        Duration.ofHours(1), Duration.ofHours(1)));
    fs = DynamicFileSystem.open(dir, EngineOptions.defaults().withClock(() -> nowMillis * 1_000_000L)
        .withAccessObserver(tracker));
  }

  @AfterEach
  void close() throws Exception {
    if (policy != null) {
      policy.close();
    }
    fs.close();
    tracker.close();
    dir.close();
  }

  private MountPolicy executing(String rulesYaml) throws Exception {
    if (policy != null) {
      policy.close();
    }
    PolicyRules rules = PolicyRules.parse(rulesYaml, "rules.yaml", List.of("fast", "slow"));
    policy = new MountPolicy(fs, tracker, null, rules, () -> nowMillis);
    policy.enableExecution(policyDir, Foreground.NONE, null);
    return policy;
  }

  private static byte[] bytes(String name, int blocks) {
    byte[] b = new byte[blocks * BS];
    new Random(name.hashCode()).nextBytes(b);
    return b;
  }

  private long file(String name, int blocks, String tier, int reads) throws Exception {
    OpenResult f = fs.create(ME, FileSystem.ROOT_INO, name, 0644, 2);
    byte[] b = bytes(name, blocks);
    fs.write(f.handle(), 0, b, 0, b.length);
    fs.release(f.handle());
    if (tier.equals("slow")) {
      fs.moveToTier(f.attr().ino(), "slow", p -> { });
    }
    read(f.attr().ino(), reads);
    return f.attr().ino();
  }

  private void read(long ino, int times) throws Exception {
    byte[] b = new byte[(int) fs.getattr(ino).size()];
    long h = fs.open(ME, ino, 0);
    for (int i = 0; i < times; i++) {
      fs.read(h, 0, b, 0, b.length);
    }
    fs.release(h);
  }

  /** Blocks of {@code ino} on tier 0 (fast) and tier 1 (slow). */
  private long[] tiers(long ino) throws Exception {
    long[] n = new long[2];
    for (Chunk c : fs.metadata().chunks(ino, 0, Long.MAX_VALUE)) {
      n[fs.metadata().block(c.id()).tier()]++;
    }
    return n;
  }

  private List<AuditEntry> audit() throws Exception {
    return AuditLog.readAll(policyDir);
  }

  /** The fast tier's sealed segments under the compact action's live share. */
  private long sparseSegments() {
    return fs.storage().tier("fast").segmentUsage().stream().filter(u -> !u.active() && u.fileBytes() > 0
        && (double) u.liveBytes() / u.fileBytes() < Compacting.LIVE_BELOW).count();
  }

  /** Live share of the fast tier's sealed segments: {min, max}. */
  private double[] sealedLiveShares() {
    double min = 1;
    double max = 0;
    for (var u : fs.storage().tier("fast").segmentUsage()) {
      if (!u.active() && u.fileBytes() > 0) {
        double share = (double) u.liveBytes() / u.fileBytes();
        min = Math.min(min, share);
        max = Math.max(max, share);
      }
    }
    return new double[] {min, max};
  }

  /**
   * The compact action: segments 60 % live (which the engine's own compaction, at 50 %, leaves alone) are
   * rewritten by a policy run, giving back the deleted files' space; the files left read back the same, and
   * the run is audited.
   */
  @Test
  void compact_rewritesSegmentsTheBackgroundLeavesAlone_givesTheSpaceBack_filesIntact() throws Exception {
    fs.close();
    fs = DynamicFileSystem.open(dir, new EngineOptions(java.util.function.UnaryOperator.identity(),
        () -> nowMillis * 1_000_000L, 2, Duration.ofSeconds(5), 4L << 20).withAccessObserver(tracker));
    for (int i = 0; i < 200; i++) {
      file("f" + i, 4, "fast", 0);
    }

    for (int i = 0; i < 200; i++) {
      if (i % 5 < 2) {
        fs.unlink(FileSystem.ROOT_INO, "f" + i);
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (sealedLiveShares()[1] > 0.7 && System.nanoTime() < deadline) {
      Thread.sleep(100); // the engine reclaims freed blocks every second
    }
    double[] before = sealedLiveShares();
    assertTrue(before[0] > 0.5 && before[1] < 0.7, "segments about 60 % live: " + before[0] + ".." + before[1]);
    assertTrue(sparseSegments() >= 8, "sealed segments under 75 % live: " + sparseSegments());

    MountPolicy p = executing("rules: []\n");
    Plan plan = p.plan();
    assertEquals(1, plan.compactions().size(), plan.compactions().toString());
    Plan.Compaction c = plan.compactions().get(0);
    assertEquals("fast", c.tier());
    assertFalse(c.refused(), c.toString());
    assertTrue(c.reclaimBytes() >= 16L << 20, c.toString());

    PolicyExecutor.Run run = p.apply(ProgressListener.NONE);
    assertEquals(1, run.compacted().size());
    PolicyExecutor.Compacted done = run.compacted().get(0);
    assertEquals("compacted", done.outcome(), done.toString());
    assertTrue(done.freedBytes() >= 16L << 20, done.toString());
    assertTrue(sparseSegments() <= 1, "none under 75 % live is left but the one that was being appended to when "
        + "the compaction began: " + sparseSegments());
    for (int i = 0; i < 200; i++) {
      if (i % 5 >= 2) {
        long ino = fs.resolve("f" + i);
        byte[] b = new byte[4 * BS];
        long h = fs.open(ME, ino, 0);
        fs.read(h, 0, b, 0, b.length);
        fs.release(h);
        assertArrayEquals(bytes("f" + i, 4), b, "f" + i);
      }
    }
    assertTrue(p.plan().compactions().isEmpty(), "nothing left to reclaim");
    List<AuditEntry> audit = AuditLog.readAll(policyDir);
    assertTrue(audit.stream().anyMatch(e -> e.action().equals("compact") && e.outcome().equals("compacted")
        && e.movedBytes() == done.freedBytes()), audit.toString());
  }

  @Test
  void apply_readFileOnSlow_promotedAndAudited_unreadOneRefusedForItsBenefit() throws Exception {
    long hot = file("hot", 3, "slow", 10);
    long cold = file("cold", 2, "slow", 0);
    MountPolicy p = executing(NO_RESIDENCY);
    PolicyExecutor.Run run = p.apply(ProgressListener.NONE);
    assertEquals(1, run.moved(), run.toString());
    assertEquals(1, run.refused(), run.toString());
    assertEquals(3L * BS, run.bytesMoved());
    assertArrayEquals(new long[] {3, 0}, tiers(hot), "promoted whole");
    assertArrayEquals(new long[] {0, 2}, tiers(cold));

    List<AuditEntry> log = audit();
    assertEquals(List.of("refused", "started", "moved"), log.stream().map(AuditEntry::outcome).toList(),
        "the plan's refusals first, then its moves");
    AuditEntry refused = log.get(0);
    assertEquals("/cold", refused.path());
    assertEquals("heuristic count", refused.decider(), "the model version is in every entry");
    assertTrue(refused.failedChecks().get(0).startsWith("benefit: expected ")
        && refused.failedChecks().get(0).endsWith("1.00x, needs 1.5x"), refused.failedChecks().toString());
    AuditEntry moved = log.get(2);
    assertEquals("promote", moved.action());
    assertEquals("slow", moved.from());
    assertEquals("fast", moved.to());
    assertEquals(3L * BS, moved.bytes(), "cost");
    assertTrue(moved.expectedBytes() >= 10L * 3 * BS, "benefit: " + moved.expectedBytes());
    assertEquals("heuristic count", moved.decider());
    assertNotNull(log.get(1).features(), "the start carries the features");
    assertTrue(log.get(1).features().get("extent_accesses") > 2, log.get(1).features().toString());
    assertEquals(3L * BS, moved.movedBytes());
    assertEquals(1, p.executor().moves().get("promote").sum());
    assertEquals(1, p.executor().refusals().get("benefit").sum());

    PolicyExecutor.Run again = p.apply(ProgressListener.NONE);
    assertEquals(0, again.moved());
    assertEquals(1, again.refused(), "the cold file is refused again...");
    assertEquals(3, audit().size(), "... but not written again: the same refusal as its last entry");
    assertEquals(1, p.executor().refusals().get("benefit").sum());
    assertTrue(p.explain("/hot").decisions().startsWith("last: moved promote slow -> fast"),
        p.explain("/hot").decisions());
  }

  @Test
  void apply_movedBackTooSoon_refusedForCooldown_acceptedAfterIt() throws Exception {
    long hot = file("hot", 2, "slow", 10);
    executing(NO_RESIDENCY).apply(ProgressListener.NONE);
    assertArrayEquals(new long[] {2, 0}, tiers(hot));

    nowMillis += 10 * MINUTE; // a new mount policy (as after a remount) reads the cooldown from the log
    MountPolicy p = executing(NO_RESIDENCY + "rules:\n  - match: hot\n    prefer: slow\n");
    PolicyExecutor.Run run = p.apply(ProgressListener.NONE);
    assertEquals(0, run.moved());
    List<String> failed = run.outcomes().get(0).failedChecks();
    assertTrue(failed.size() == 1 && failed.get(0).startsWith("cooldown: moved 10m ago (promote to fast), cooldown 1h"),
        failed.toString());
    assertArrayEquals(new long[] {2, 0}, tiers(hot));

    nowMillis += 60 * MINUTE;
    run = p.apply(ProgressListener.NONE);
    assertEquals(1, run.moved(), run.toString());
    assertArrayEquals(new long[] {0, 2}, tiers(hot));
    assertEquals(1, p.executor().audit().history().pingPongs(), "back on the tier it left within a day");
    assertArrayEquals(bytes("hot", 2), readAll(hot), "the bytes survive two moves");
  }

  @Test
  void apply_pinThatWouldBreakTheHeadroom_refusedAndAudited() throws Exception {
    long pinned = file("db", 2, "slow", 1);
    long free = executing(NO_RESIDENCY).plan().tiers().get(0).freeBytes();
    MountPolicy p = executing(NO_RESIDENCY + "rules:\n  - match: db\n    pin: fast\nheadroom: {fast: "
        + (free + (1L << 30)) + "}\n");
    PolicyExecutor.Run run = p.apply(ProgressListener.NONE);
    assertEquals(0, run.moved());
    assertEquals(1, run.refused());
    assertArrayEquals(new long[] {0, 2}, tiers(pinned), "not moved");
    AuditEntry e = audit().get(audit().size() - 1);
    assertEquals("refused", e.outcome());
    assertEquals("move", e.action());
    assertEquals("fast", e.to());
    assertTrue(e.failedChecks().get(0).startsWith("space: would leave ") && e.failedChecks().get(0).contains(
        "below the headroom"), e.failedChecks().toString());
    assertTrue(e.rule().contains("db"), e.rule());
    assertEquals(1, p.executor().refusals().get("space").sum());
  }

  @Test
  void close_duringAPacedMove_stopsBetweenBatches_bytesIntact() throws Exception {
    long big = file("big", 96, "slow", 0); // three batches of 32 blocks (2 MiB each)
    read(big, 3);
    // 0.5 MB/s: after the first batch (and the second of burst) the pacer waits about 3 s
    MountPolicy p = executing(NO_RESIDENCY + "budget: {mb_per_second: 0.5}\nrules:\n  - match: big\n    pin: fast\n");
    CompletableFuture<PolicyExecutor.Run> run = CompletableFuture.supplyAsync(() -> {
      try {
        return p.apply(ProgressListener.NONE);
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (tiers(big)[0] < 32 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertEquals(32, tiers(big)[0], "the first batch moved, the pacer holds the second");
    p.close();
    policy = null;
    PolicyExecutor.Run r = run.get(30, TimeUnit.SECONDS);
    assertEquals(1, r.stopped(), r.toString());
    assertArrayEquals(new long[] {32, 64}, tiers(big), "the rest stays where it was");
    List<AuditEntry> log = audit();
    AuditEntry last = log.get(log.size() - 1);
    assertEquals("stopped", last.outcome());
    assertEquals(32L * BS, last.movedBytes());
    assertArrayEquals(bytes("big", 96), readAll(big));
  }

  /** A foreground the test makes busy (requests in flight) or calm. */
  private static final class Busy implements Foreground {
    volatile long inFlight;

    @Override
    public long inFlight() {
      return inFlight;
    }

    @Override
    public long completed() {
      return 0;
    }

    @Override
    public long totalNanos() {
      return 0;
    }
  }

  @Test
  void apply_busyForeground_waitsWithoutMoving_movesOnceCalm() throws Exception {
    long hot = file("hot", 2, "slow", 10);
    Busy fg = new Busy();
    fg.inFlight = 17; // over the default 16
    PolicyRules rules = PolicyRules.parse(NO_RESIDENCY, "rules.yaml", List.of("fast", "slow"));
    policy = new MountPolicy(fs, tracker, null, rules, () -> nowMillis);
    policy.enableExecution(policyDir, fg, null);
    CompletableFuture<PolicyExecutor.Run> run = CompletableFuture.supplyAsync(() -> {
      try {
        return policy.apply(ProgressListener.NONE);
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!policy.executor().pacer().paused() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(policy.executor().pacer().paused(), "backing off");
    Thread.sleep(300);
    assertArrayEquals(new long[] {0, 2}, tiers(hot), "nothing moved while the foreground is busy");
    assertEquals(17, policy.status().execution().foregroundInFlight());
    fg.inFlight = 3;
    PolicyExecutor.Run r = run.get(30, TimeUnit.SECONDS);
    assertEquals(1, r.moved(), r.toString());
    assertArrayEquals(new long[] {2, 0}, tiers(hot));
    assertEquals(1, policy.executor().pacer().pauses());
    assertTrue(policy.executor().pacer().pausedNanos() >= TimeUnit.MILLISECONDS.toNanos(300));
  }

  @Test
  void automaticExecutor_promotesOnItsOwn_everyInterval() throws Exception {
    long hot = file("hot", 2, "slow", 10);
    PolicyRules rules = PolicyRules.parse(NO_RESIDENCY, "rules.yaml", List.of("fast", "slow"));
    policy = new MountPolicy(fs, tracker, null, rules, () -> nowMillis);
    policy.enableExecution(policyDir, Foreground.NONE, Duration.ofMillis(100));
    assertTrue(policy.status().actions().startsWith("the executor plans and moves every"), policy.status().actions());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (tiers(hot)[0] < 2 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertArrayEquals(new long[] {2, 0}, tiers(hot), "moved by the executor's own run");
    deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (audit().stream().noneMatch(e -> e.outcome().equals("moved")) && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals("auto", audit().stream().filter(e -> e.outcome().equals("moved")).findFirst().orElseThrow().trigger());
    policy.close(); // stops the executor's thread
    policy = null;
    assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().equals("dfs-policy-executor")
        && t.isAlive()), "the executor's thread stopped");
  }

  @Test
  void enableExecution_auditLogUnusable_executionOff_noFailure() throws Exception {
    Path blocked = Files.createDirectories(tmp.resolve("blocked").resolve(AuditLogName.FILE)); // a directory there
    policy = new MountPolicy(fs, tracker, null, null, () -> nowMillis);
    policy.enableExecution(blocked.getParent(), Foreground.NONE, Duration.ofSeconds(10));
    assertNull(policy.executor());
    assertTrue(policy.status().actions().startsWith("plans only: moves are not executed (the audit log cannot be opened"),
        policy.status().actions());
    io.dynamicfs.core.api.FsException e = org.junit.jupiter.api.Assertions.assertThrows(
        io.dynamicfs.core.api.FsException.class, () -> policy.apply(ProgressListener.NONE));
    assertEquals(io.dynamicfs.core.api.Errno.EINVAL, e.errno());
  }

  /** The audit log's file name (package-private in {@code act}). */
  private static final class AuditLogName {
    static final String FILE = "audit.jsonl";
  }

  @Test
  void simulate_replaysTheReadsAgainstThePlacementBeforeAndAfter() throws Exception {
    long hot = file("hot", 2, "slow", 4);
    file("warm", 1, "fast", 1);
    MountPolicy p = executing(NO_RESIDENCY + "budget: {mb_per_second: 1}\n");
    Simulation s = p.simulate(Duration.ofHours(24));
    assertEquals(1, s.moves(), s.toString());
    assertEquals(2L * BS, s.bytesToPromote());
    assertEquals(2L * BS / 1e6, s.estimatedSeconds(), 0.001);
    assertTrue(s.estimateBasis().contains("budget"), s.estimateBasis());
    Simulation.Replay r = s.replay();
    assertEquals(2 * 4 + 1, r.reads(), "each block read is one access of the log");
    assertEquals(9L * BS, r.bytes());
    assertEquals(1.0 / 9, r.hitRatioNow(), 0.001, "only the warm file is on fast now");
    assertEquals(1.0, r.hitRatioAfter(), 0.001, "after the plan both are");
    assertArrayEquals(new long[] {0, 2}, tiers(hot), "nothing executed");
    assertTrue(audit().isEmpty());
    assertNull(p.executor().lastRun());
    assertFalse(s.notes().isEmpty());
  }

  private byte[] readAll(long ino) throws Exception {
    byte[] b = new byte[(int) fs.getattr(ino).size()];
    long h = fs.open(ME, ino, 0);
    int n = fs.read(h, 0, b, 0, b.length);
    fs.release(h);
    assertEquals(b.length, n);
    return b;
  }
}
