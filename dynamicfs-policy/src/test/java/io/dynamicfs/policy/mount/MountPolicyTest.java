package io.dynamicfs.policy.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.policy.model.Features;
import io.dynamicfs.policy.model.LogisticModel;
import io.dynamicfs.policy.rules.PolicyRules;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code policy status} and {@code explain} on a real engine with a tracker, on an injected clock. */
class MountPolicyTest {
  private static final int BS = 64 << 10;
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final long T0 = 1_800_000_000_000L; // ms since the epoch

  @TempDir Path tmp;
  private DataDirectory dir;
  private MountTracker tracker;
  private DynamicFileSystem fs;
  private MountPolicy policy;
  private long nowMillis = T0;

  @BeforeEach
  void open() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    dir = DataDirectory.open(data, new FormatOptions(BS, Codec.LZ4, 4096));
    tracker = MountTracker.open(data.resolve("policy"), BS, new MountTracker.Settings(1000, 1000, 1000, 1024,
        Duration.ofHours(1), Duration.ofHours(1)));
    fs = DynamicFileSystem.open(dir, EngineOptions.defaults().withClock(() -> nowMillis * 1_000_000L)
        .withAccessObserver(tracker));
    policy = new MountPolicy(fs, tracker, null, null, () -> nowMillis);
  }

  @AfterEach
  void close() throws Exception {
    fs.close();
    tracker.close();
    dir.close();
  }

  private long write(String name, long offset, int length) throws Exception {
    OpenResult f = fs.create(ME, FileSystem.ROOT_INO, name, 0644, 2);
    fs.write(f.handle(), offset, bytes(length), 0, length);
    fs.release(f.handle());
    return f.attr().ino();
  }

  /** Random bytes: an all-zero block would be stored as a hole. */
  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  private void read(long ino, long offset, int length, int times) throws Exception {
    long h = fs.open(ME, ino, 0);
    byte[] buf = new byte[length];
    for (int i = 0; i < times; i++) {
      fs.read(h, offset, buf, 0, length);
    }
    fs.release(h);
  }

  @Test
  void explain_readFile_showsPlacementFiguresBlocksAndTheHeuristicsPrediction() throws Exception {
    long ino = write("f", 0, 3 * BS);
    nowMillis += 1000;
    read(ino, BS, BS, 5); // block 1, five times
    nowMillis += 2000;
    Explanation e = policy.explain("/f");
    assertEquals("/f", e.path());
    assertEquals(ino, e.ino());
    assertEquals(3L * BS, e.size());
    assertEquals(new Explanation.Placement(3, 3, 0, 0,
        List.of(new Explanation.Extent(0, 2, "default", 3L * BS)), false), e.placement());

    Explanation.Access a = e.access();
    assertTrue(a.tracked());
    assertEquals(6, a.accesses(), "one write, five reads");
    assertEquals(1, a.writes());
    assertEquals(8L * BS, a.bytes());
    assertEquals(java.time.Instant.ofEpochMilli(T0 + 1000).toString(), a.lastAccess());
    assertEquals(2.0, a.secondsSinceLastAccess());
    assertEquals(List.of("1m", "1h", "1d"), a.counters().stream().map(Explanation.Counter::halfLife).toList());
    assertTrue(a.counters().get(0).value() < a.counters().get(1).value(), "the 1 m counter decayed more: "
        + a.counters());
    assertEquals(6.0, a.counters().get(2).value(), 0.01);

    assertEquals(3, e.blocksTracked());
    assertEquals(List.of(0L, 1L, 2L), e.blocks().stream().map(Explanation.BlockAccess::index).toList());
    assertEquals(List.of(1L, 6L, 1L), e.blocks().stream().map(b -> b.access().accesses()).toList());
    assertEquals("default", e.blocks().get(1).location());

    Explanation.Prediction p = e.prediction();
    assertEquals(3600, p.horizonSeconds());
    assertEquals("heuristic count", p.decider());
    assertNull(p.probability(), "an uncalibrated heuristic gives an order, not a probability");
    assertEquals(1L, p.block(), "the file's hottest block");
    assertEquals(Math.log1p(6), p.score(), 0.001);
    assertEquals("extent_accesses", p.contributions().get(0).feature());

    assertEquals(List.of(), e.rules().matches());
    assertTrue(e.decisions().startsWith("none: this mount does not execute moves"), e.decisions());
  }

  /**
   * A model that learned "accessed often = read soon" on a separable set: read soon when the standardised
   * {@code extent_accesses} is above {@code threshold}.
   */
  private static LogisticModel accessCountModel(double threshold, int version) {
    Random r = new Random(1);
    double[][] x = new double[400][Features.COUNT];
    boolean[] y = new boolean[400];
    for (int i = 0; i < 400; i++) {
      for (int j = 0; j < Features.COUNT; j++) {
        x[i][j] = r.nextGaussian();
      }
      y[i] = x[i][4] > threshold;
      x[i][4] += y[i] ? 1 : -1;
    }
    return LogisticModel.train(x, y, 400, 1, version);
  }

  @Test
  void explain_withALiveModel_showsProbabilityAndTopContributions() throws Exception {
    long ino = write("f", 0, 2 * BS);
    read(ino, 0, BS, 9);
    LogisticModel m = accessCountModel(0, 7);
    policy.useModel(m);
    Explanation.Prediction p = policy.explain("f").prediction();
    assertEquals("model v7", p.decider());
    assertNotNull(p.probability());
    assertTrue(p.probability() > 0.5 && p.probability() < 1, "hot block: " + p.probability());
    assertEquals(0L, p.block());
    assertEquals(5, p.contributions().size());
    assertEquals("extent_accesses", p.contributions().get(0).feature(), "the feature the model leans on: " + p);
    for (int i = 1; i < p.contributions().size(); i++) {
      assertTrue(Math.abs(p.contributions().get(i - 1).contribution()) >= Math.abs(p.contributions().get(i).contribution()),
          "ordered by size: " + p.contributions());
    }
    assertEquals("model", policy.status().decider().kind());
  }

  @Test
  void warm_withALiveModel_takesTheBlocksItGivesAnEvenChance_bestFirst_withinHalfTheCache() throws Exception {
    long hot = write("hot", 0, 3 * BS);
    long cold = write("cold", 0, 2 * BS);
    write("tiny", 0, 100); // inline: nothing a store could serve
    read(hot, 0, 3 * BS, 9);
    read(cold, 0, BS, 1);
    policy.useModel(accessCountModel(1.5, 3)); // read soon: read more than about three times
    assertEquals("this mount has no block cache to warm (--cache-memory 0 and no --cache-dir)",
        policy.plan().warm().note(), "no cache given");

    policy.cacheToWarm(4L * BS);
    Plan.Warm w = policy.plan().warm();
    assertEquals(3, w.eligible(), "the three blocks read nine times, not the cold ones: " + w);
    assertEquals(2, w.blocks(), "half of a four-block cache: " + w);
    assertEquals(2L * BS, w.bytes());
    assertEquals(List.of("/hot"), w.paths());
    assertTrue(w.toRead().get(0).score() >= w.toRead().get(1).score() && w.toRead().get(1).score() >= 0.5,
        w.toRead().toString());
    assertTrue(w.rule().startsWith("blocks model v3 gives at least 0.5"), w.rule());
  }

  @Test
  void explain_placement_inlineHolesAndUntracked() throws Exception {
    write("small", 0, 100);
    OpenResult f = fs.create(ME, FileSystem.ROOT_INO, "sparse", 0644, 2);
    fs.write(f.handle(), 0, bytes(BS), 0, BS);
    fs.write(f.handle(), 3L * BS, bytes(10), 0, 10);
    fs.release(f.handle());
    Explanation small = policy.explain("small");
    assertEquals(List.of(new Explanation.Extent(0, 0, "inline", 100)), small.placement().extents());
    assertEquals(1, small.placement().inlineBlocks());
    Explanation sparse = policy.explain("/sparse");
    assertEquals(List.of(new Explanation.Extent(0, 0, "default", BS), new Explanation.Extent(1, 2, "hole", 0),
        new Explanation.Extent(3, 3, "default", 10)), sparse.placement().extents());
    assertEquals(2, sparse.placement().holeBlocks());

    fs.mkdir(ME, FileSystem.ROOT_INO, "d", 0755);
    assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> policy.explain("d")).errno());
    assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> policy.explain("nope")).errno());

    MountPolicy off = new MountPolicy(fs, null, "--policy-tracking off", null, () -> nowMillis);
    Explanation e = off.explain("small");
    assertFalse(e.access().tracked());
    assertEquals("none", e.prediction().decider());
    assertFalse(off.status().tracking());
    assertEquals("--policy-tracking off", off.status().trackingOff());
  }

  @Test
  void explain_rulesThatMatch_andTheOneThatDecides() throws Exception {
    PolicyRules rules = PolicyRules.parse("""
        rules:
          - name: busy
            match: "**"
            prefer: default
            when: {window: 1m, accesses_at_least: 3}
          - name: logs
            match: "logs/**"
            never_move: true
          - name: tmp
            match: "tmp/**"
            prefer: default
        headroom: {default: 10%}
        """, "rules.yaml", List.of("default"));
    MountPolicy p = new MountPolicy(fs, tracker, null, rules, () -> nowMillis);
    fs.mkdir(ME, FileSystem.ROOT_INO, "logs", 0755);
    long logs = fs.lookup(FileSystem.ROOT_INO, "logs");
    OpenResult f = fs.create(ME, logs, "a.log", 0644, 2);
    fs.write(f.handle(), 0, bytes(100), 0, 100);
    fs.release(f.handle());
    read(f.attr().ino(), 0, 100, 5);
    Explanation.Rules r = p.explain("/logs/a.log").rules();
    assertEquals("rules.yaml", r.source());
    assertEquals(List.of(new Explanation.RuleMatch("busy", 2, "prefer default for ** when accesses over 1m >= 3", true,
        false), new Explanation.RuleMatch("logs", 6, "never move for logs/**", true, true)), r.matches());
    assertEquals("hard rule 'logs' (line 6): never move for logs/**", r.decision());

    long cold = write("cold", 0, 100); // one write: the 1 m count is 1, busy does not hold
    Explanation.Rules c = p.explain("cold").rules();
    assertEquals(1, c.matches().size());
    assertFalse(c.matches().get(0).applies());
    assertEquals("no matching rule applies now: the model decides", c.decision());
    read(cold, 0, 100, 3);
    assertEquals("preference 'busy' (line 2): prefer default for ** when accesses over 1m >= 3",
        p.explain("cold").rules().decision(), "the condition holds once it is read more");

    PolicyStatus.RulesInForce inForce = p.status().rules();
    assertEquals(3, inForce.rules().size());
    assertEquals("10%", inForce.headroom().get("default"));
  }

  @Test
  void status_trackerFiguresAndHottestFiles() throws Exception {
    long hot = write("hot", 0, BS);
    long cold = write("cold", 0, BS);
    read(hot, 0, 4096, 20);
    read(cold, 0, 4096, 1);
    PolicyStatus s = policy.status();
    assertTrue(s.tracking());
    assertEquals(2, s.tracker().files());
    assertEquals(23, s.tracker().recordedSinceMount(), "two writes and 21 reads");
    assertEquals(0, s.tracker().dropped());
    assertEquals(List.of("/hot", "/cold"), s.hottestFiles().stream().map(PolicyStatus.HotFile::path).toList());
    assertEquals(hot, s.hottestFiles().get(0).ino());
    assertEquals(21, s.hottestFiles().get(0).accesses());
    assertEquals("heuristic", s.decider().kind());
    assertTrue(s.actions().startsWith("plans only"), s.actions());
  }
}
