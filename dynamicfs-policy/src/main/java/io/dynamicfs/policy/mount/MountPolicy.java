package io.dynamicfs.policy.mount;

import io.dynamicfs.core.api.Attr;
import io.dynamicfs.core.api.ProgressListener;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.PathIndex;
import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.policy.act.AuditEntry;
import io.dynamicfs.policy.act.AuditLog;
import io.dynamicfs.policy.act.Foreground;
import io.dynamicfs.policy.act.Pacer;
import io.dynamicfs.policy.model.Features;
import io.dynamicfs.policy.model.Predictor;
import io.dynamicfs.policy.model.LogisticModel;
import io.dynamicfs.policy.rules.PolicyRules;
import io.dynamicfs.policy.track.AccessTable;
import io.dynamicfs.policy.track.AccessTracker;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The policy engine on one mount: the {@link MountTracker} (null when tracking is off), the rules in force
 * and whoever predicts (a model that passed the gate, else the heuristic); answers {@code policy status},
 * {@code explain}, {@code plan} and {@code simulate}; once {@link #enableExecution} opened the audit log, it
 * executes plans ({@code policy apply}, and every interval when the automatic executor is on).
 *
 * <p>Predictions are for tier placement: P(read within the tracker's horizon, 1 h by default). The tracker's
 * {@link MountTraining} trains the model on this mount's accesses and gates it; until a model passes the gate
 * (or when none does) a heuristic decides, as in the evaluation; {@link #useModel} puts one live by hand
 * (tests).
 *
 * <p>Thread-safe: the tracker serialises its own queries; the decider is swapped atomically.
 */
public final class MountPolicy implements AutoCloseable {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(MountPolicy.class);
  /** What a tier placement predicts for when tracking is off: a read within the next hour. */
  static final Duration DEFAULT_HORIZON = Duration.ofHours(1);
  static final int BLOCKS_SHOWN = 256;
  static final int EXTENTS_SHOWN = 1024;
  static final int HOT_FILES = 10;
  private static final String[] HALF_LIVES = {"1m", "1h", "1d"};
  static final String PRECEDENCE = "hard rules (pin, never_move), then safety limits (headroom, budget, schedule), "
      + "then preferences, then the model";

  private final DynamicFileSystem fs;
  private final MountTracker tracker;
  private final String trackingOff;
  private volatile PolicyRules rules;
  private volatile RulesFile rulesFile = RulesFile.NONE;
  private final LongSupplier clockMillis;
  private volatile Predictor override;
  private volatile PolicyExecutor executor;
  private volatile long cacheBytes;
  private volatile Planner.DiskSpace disks = Planner.DiskSpace.DISKS;
  private volatile String executionOff = "not enabled on this mount";

  /**
   * @param tracker     the mount's tracker, or null when tracking is off ({@code trackingOff} says why)
   * @param rules       the rules in force (null: none)
   * @param clockMillis the time in milliseconds since the epoch (the tracker's clock)
   */
  public MountPolicy(DynamicFileSystem fs, MountTracker tracker, String trackingOff, PolicyRules rules,
      LongSupplier clockMillis) {
    this.fs = fs;
    this.tracker = tracker;
    this.trackingOff = tracker == null ? (trackingOff == null ? "off" : trackingOff) : null;
    this.rules = rules == null ? PolicyRules.none() : rules;
    this.clockMillis = clockMillis;
  }

  /** Puts {@code m} live by hand, whatever the training says; null hands the decision back to the training. */
  public void useModel(LogisticModel m) {
    this.override = m == null ? null : Predictor.of(m, Double.NaN);
  }

  /** Who predicts now: the training's decider (a model that passed the gate, or a heuristic). */
  public Predictor predictor() {
    Predictor o = override;
    return o != null ? o : tracker != null ? tracker.predictor() : Predictor.INITIAL;
  }

  private long horizonMillis() {
    return tracker != null ? tracker.horizon().toMillis() : DEFAULT_HORIZON.toMillis();
  }

  /** Tests: the tiers' disk figures the plans use, instead of the operating system's. */
  void useDiskSpace(Planner.DiskSpace d) {
    this.disks = d;
  }

  /** The live model, or null when a heuristic ranks. */
  public LogisticModel model() {
    return predictor().model();
  }

  public PolicyRules rules() {
    return rules;
  }

  /**
   * Where {@link #reloadRules} reads the rules: {@code file}, which must exist when {@code explicit} (the mount's
   * {@code --policy-rules}), or which may be absent (DATA/policy/rules.yaml: then no rules); {@code tiers} the
   * names rules may name (null: not checked).
   */
  public void rulesFrom(Path file, boolean explicit, java.util.Collection<String> tiers) {
    this.rulesFile = new RulesFile(file, explicit, tiers == null ? null : List.copyOf(tiers));
  }

  /** Where the rules come from, for a reload. */
  private record RulesFile(Path path, boolean explicit, List<String> tiers) {
    static final RulesFile NONE = new RulesFile(null, false, null);
  }

  /** What a reload did: the file read, the rules before and after. */
  public record RulesReload(String source, int rulesBefore, int rulesAfter, String schedule, String budget) {}

  /**
   * Reads the rules file again and puts it in force for the next plan, explain and executor run (a move under
   * way finishes under the rules it started with). A file that does not validate changes nothing: EINVAL with
   * its line and reason. An absent DATA/policy/rules.yaml means no rules.
   */
  public RulesReload reloadRules() throws FsException {
    RulesFile f = rulesFile;
    if (f.path() == null) {
      throw FsException.of(Errno.EINVAL, "this mount reads no rules file");
    }
    PolicyRules next;
    if (!f.explicit() && !java.nio.file.Files.isRegularFile(f.path())) {
      next = PolicyRules.none();
    } else {
      try {
        next = PolicyRules.read(f.path(), f.tiers());
      } catch (io.dynamicfs.policy.rules.RulesException e) {
        LOG.atWarn().setMessage("policy rules not reloaded: the file does not validate; the rules in force stay")
            .addKeyValue("event", "policy.rules.reload_refused").addKeyValue("path", f.path().toString())
            .addKeyValue("reason", e.getMessage()).log();
        throw FsException.of(Errno.EINVAL, "%s; the rules in force stay", e.in(f.path().toString()));
      }
    }
    PolicyRules before = rules;
    rules = next;
    LOG.atInfo().setMessage("policy rules reloaded").addKeyValue("event", "policy.rules.reloaded")
        .addKeyValue("path", f.path().toString()).addKeyValue("rules_before", before.rules().size())
        .addKeyValue("rules", next.rules().size()).log();
    return new RulesReload(next.source(), before.rules().size(), next.rules().size(), next.schedule().describe(),
        next.budget().describe());
  }

  public MountTracker tracker() {
    return tracker;
  }

  /**
   * Opens the audit log in {@code policyDir} (its history feeds the cooldown and the budget) and makes plans
   * executable: by {@link #apply}, and every {@code autoEvery} when that is not null. {@code foreground} is
   * what the executor backs off from. An audit log that cannot be opened leaves execution off (logged,
   * shown by {@code status}); it never fails the mount. On a cluster mount the nodes hold the tiers: its plans
   * have no moves or compactions, so its executor only warms the caches.
   */
  public void enableExecution(Path policyDir, Foreground foreground,
      Duration autoEvery) throws IOException {
    AuditLog audit;
    try {
      audit = AuditLog.open(policyDir, clockMillis.getAsLong());
    } catch (IOException | RuntimeException e) { // like the statistics, never a reason to refuse a mount
      executionOff = "the audit log cannot be opened in " + policyDir + ": " + e.getMessage();
      LOG.atWarn().setMessage("policy moves are off: no audit log")
          .addKeyValue("event", "policy.audit.unavailable").addKeyValue("dir", policyDir.toString())
          .addKeyValue("error", String.valueOf(e.getMessage())).log();
      return;
    }
    PolicyExecutor e = new PolicyExecutor(fs, this::plan, this::rules, audit,
        new Pacer(foreground, System::nanoTime, Pacer.Sleeper.REAL),
        clockMillis);
    executor = e;
    executionOff = null;
    if (autoEvery != null) {
      e.start(autoEvery);
    }
  }

  /** The executor, or null when execution is not enabled. */
  public PolicyExecutor executor() {
    return executor;
  }

  /** Plans now and executes the plan's accepted moves, auditing each move and refusal ({@code policy apply}). */
  public PolicyExecutor.Run apply(ProgressListener progress) throws IOException {
    PolicyExecutor e = executor;
    if (e == null) {
      throw FsException.of(Errno.EINVAL, "this mount does not execute policy moves (%s)", executionOff);
    }
    return e.apply(progress);
  }

  /** Stops the executor (between batches of a move) and closes the audit log; before the engine closes. */
  @Override
  public void close() throws IOException {
    PolicyExecutor e = executor;
    if (e != null) {
      e.close();
    }
  }

  // ---- status -----------------------------------------------------------------------------------

  public PolicyStatus status() throws IOException {
    PolicyRules rules = this.rules;
    List<PolicyStatus.RuleLine> lines = new ArrayList<>();
    for (PolicyRules.Rule r : rules.rules()) {
      lines.add(new PolicyStatus.RuleLine(r.name(), r.line(), r.describe()));
    }
    Map<String, String> headroom = new LinkedHashMap<>();
    rules.headroom().forEach((t, h) -> headroom.put(t, h.describe()));
    Map<String, String> capacity = new LinkedHashMap<>();
    rules.capacity().forEach((t, c) -> capacity.put(t, c.describe()));
    PolicyStatus.RulesInForce inForce = new PolicyStatus.RulesInForce(rules.source(), lines,
        rules.schedule().describe(), rules.budget().describe(), headroom, capacity, PRECEDENCE);
    Predictor p = predictor();
    long horizon = horizonMillis() / 1000;
    Double heldOut = Double.isNaN(p.heldOut()) ? null : round(p.heldOut());
    PolicyStatus.Decider decider = p.model() != null
        ? new PolicyStatus.Decider("model", "v" + p.model().version(), horizon, heldOut, override != null
            ? "put live by hand" : "passed the gate: beat the heuristics on the latest held-out window")
        : new PolicyStatus.Decider("heuristic", p.heuristic().name().toLowerCase(java.util.Locale.ROOT), horizon,
            heldOut, p.calibration() != null ? "no model beat it on the latest held-out window; calibrated into a "
                + "probability on the labelled windows" : "no gate round yet (it needs three windows of "
                + PolicyRules.duration(Duration.ofMillis(horizonMillis())) + " with reads): the access count ranks, "
                + "uncalibrated");
    return new PolicyStatus(tracker != null, trackingOff, tracker == null ? null : tracker.status(), inForce, decider,
        tracker == null ? null : tracker.training(), tracker == null ? List.of() : hottest(), actions(), execution());
  }

  private String actions() {
    PolicyExecutor e = executor;
    if (e == null) {
      return "plans only: moves are not executed (" + executionOff + ")";
    }
    boolean cluster = fs.storage() == null;
    String what = cluster ? "cache warming (a cluster mount: the nodes hold the tiers and move blocks)" : "moves";
    return e.interval() == null ? what + " run on 'dynamicfs policy apply' only (the automatic executor is off: "
        + "mount --policy-execute on)" : "the executor plans and " + (cluster ? "warms the caches" : "moves")
        + " every " + PolicyRules.duration(e.interval()) + ", and on 'dynamicfs policy apply'";
  }

  private PolicyStatus.Execution execution() {
    PolicyExecutor e = executor;
    if (e == null) {
      return null;
    }
    Map<String, Long> decisions = new java.util.TreeMap<>();
    e.decisions().forEach((k, v) -> decisions.put(k, v.sum()));
    Map<String, Long> refusals = new java.util.TreeMap<>();
    e.refusals().forEach((k, v) -> refusals.put(k, v.sum()));
    Pacer p = e.pacer();
    return new PolicyStatus.Execution(e.interval() != null, e.interval() == null ? null : e.interval().toSeconds(),
        e.audit().file().toString(), this.rules.limits().describe(), e.runs(), decisions, refusals, e.bytesMoved(),
        e.audit().history().pingPongs(), p.paused(), p.pauses(), round(p.pausedNanos() / 1e9),
        round(p.lastLatencyMillis()), p.lastInFlight(), e.lastRun() == null ? null : summary(e.lastRun()));
  }

  private static String summary(PolicyExecutor.Run r) {
    return r.trigger() + " at " + r.startedAt() + ": " + r.moved() + " moved (" + Planner.mib(r.bytesMoved()) + "), "
        + r.refused() + " refused, " + r.failed() + " failed, " + r.stopped() + " stopped, in " + r.millis() + " ms";
  }

  private List<PolicyStatus.HotFile> hottest() throws IOException {
    long now = clockMillis.getAsLong();
    List<long[]> top = tracker.query(t -> {
      AccessTable f = t.files();
      List<long[]> all = new ArrayList<>();
      for (int s = 0; s < f.slots(); s++) {
        if (f.occupied(s)) {
          all.add(new long[] {f.key(s), Double.doubleToLongBits(f.counter(s, 1, now)), f.accesses(s), f.lastAccess(s)});
        }
      }
      all.sort(Comparator.comparingDouble((long[] a) -> -Double.longBitsToDouble(a[1])));
      return new ArrayList<>(all.subList(0, Math.min(HOT_FILES, all.size())));
    });
    if (top.isEmpty()) {
      return List.of();
    }
    PathIndex paths = PathIndex.scan(fs.metadata());
    List<PolicyStatus.HotFile> out = new ArrayList<>();
    for (long[] e : top) {
      out.add(new PolicyStatus.HotFile(e[0], paths.pathOf(e[0]), round(Double.longBitsToDouble(e[1])), e[2],
          Instant.ofEpochMilli(e[3]).toString()));
    }
    return out;
  }

  // ---- plan -------------------------------------------------------------------------------------

  /** The moves the engine would make now, each with its safety checks (see {@link Planner}); none is executed. */
  public Plan plan() throws IOException {
    PolicyExecutor e = executor;
    Predictor p = predictor();
    long now = clockMillis.getAsLong();
    PolicyRules inForce = rules; // one set of rules for the whole plan, though a reload may come meanwhile
    Planner planner = new Planner(fs, tracker, inForce, p, horizonMillis(), e == null ? null : e.audit().history(),
        now, java.time.ZoneId.systemDefault(), disks);
    Plan moves = planner.plan();
    List<Plan.Compaction> compactions = fs.storage() == null ? List.of() // the nodes compact their own stores
        : Compacting.plan(fs.storage(), inForce, now, java.time.ZoneId.systemDefault());
    return moves.with(compactions, Warming.plan(fs, tracker, p, horizonMillis(), now, cacheBytes, planner.paths()));
  }

  /**
   * The bytes of block cache the warm action may fill half of: the L2 on disk when the mount has one, else the
   * L1 in memory (0: no cache, nothing warmed).
   */
  public void cacheToWarm(long bytes) {
    this.cacheBytes = Math.max(0, bytes);
  }

  // ---- simulate ---------------------------------------------------------------------------------

  /**
   * The current plan as it would run, executing nothing: bytes, estimated time, the benefit it expects, and
   * the reads of the last {@code since} replayed against the placement now and after it ({@link Simulation}).
   */
  public Simulation simulate(Duration since) throws IOException {
    Plan plan = plan();
    long now = clockMillis.getAsLong();
    int moves = 0;
    int refused = 0;
    long total = 0;
    long up = 0;
    long down = 0;
    long expected = 0;
    String fastName = plan.tiers().isEmpty() ? null : plan.tiers().get(0).name();
    for (Plan.Proposal p : plan.proposals()) {
      if (p.refused()) {
        refused++;
        continue;
      }
      moves++;
      total += p.bytes();
      if (p.to().equals(fastName)) {
        up += p.bytes();
        expected += p.expectedBytes() == null ? 0 : p.expectedBytes();
      } else {
        down += p.bytes();
      }
    }
    List<String> notes = new ArrayList<>();
    Long bps = this.rules.budget().bytesPerSecond();
    PolicyExecutor e = executor;
    double measured = e == null ? 0 : e.audit().history().measuredBytesPerSecond();
    Double seconds;
    String basis;
    if (total == 0) {
      seconds = 0.0;
      basis = "nothing to move";
    } else if (bps != null && bps > 0 && (measured == 0 || measured > bps)) {
      seconds = round(total / (double) bps);
      basis = "the budget's " + Planner.num(bps / 1e6) + " MB/s";
    } else if (measured > 0) {
      seconds = round(total / measured);
      basis = "the rate of the moves in the audit log, " + Planner.num(measured / 1e6) + " MB/s";
    } else {
      seconds = null;
      basis = "unknown: no MB/s budget and no move timed yet";
    }
    Simulation.Replay replay = null;
    if (tracker == null) {
      notes.add("tracking is off: no reads to replay");
    } else {
      replay = tracker.replayLog(log -> {
        try {
          return Simulation.replay(fs, plan, log, now - since.toMillis());
        } catch (IOException x) {
          throw new java.io.UncheckedIOException(x);
        }
      });
    }
    notes.add("nothing is executed: 'dynamicfs policy apply' runs this plan");
    notes.addAll(plan.notes().stream().filter(n -> !n.startsWith("nothing is executed")).toList());
    return new Simulation(Instant.ofEpochMilli(now).toString(), PolicyRules.duration(since), plan.decider(), moves,
        refused, total, up, down, seconds, basis, expected, replay, plan.proposals(), notes);
  }

  // ---- record -----------------------------------------------------------------------------------

  /** What {@link #record} wrote: the trace file, its accesses and writes, and the times of the first and last. */
  public record Recording(String file, long accesses, long writes, String first, String last) {}

  /**
   * Writes the ring log's accesses of the last {@code since} as a trace file ({@code .dfstrace},
   * {@link io.dynamicfs.policy.trace.RecordedTrace}) in the tracker's directory, for {@code policy evaluate} to
   * replay. EINVAL when tracking is off.
   */
  public Recording record(Duration since) throws IOException {
    if (tracker == null) {
      throw FsException.of(Errno.EINVAL, "tracking is off on this mount (%s): no accesses to record", trackingOff);
    }
    long now = clockMillis.getAsLong();
    Path file = tracker.directory().resolve("record-" + now + ".dfstrace");
    long[] r;
    try (java.io.OutputStream out = java.nio.file.Files.newOutputStream(file)) {
      r = tracker.replayLog(log -> {
        try {
          return io.dynamicfs.policy.trace.RecordedTrace.write(log, now - since.toMillis(), out);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
    } catch (java.io.UncheckedIOException e) {
      java.nio.file.Files.deleteIfExists(file);
      throw e.getCause();
    }
    LOG.atInfo().setMessage("access trace recorded").addKeyValue("event", "policy.record")
        .addKeyValue("file", file.toString()).addKeyValue("accesses", r[0]).log();
    return new Recording(file.toString(), r[0], r[1], r[0] == 0 ? null : Instant.ofEpochMilli(r[2]).toString(),
        r[0] == 0 ? null : Instant.ofEpochMilli(r[3]).toString());
  }

  // ---- explain ----------------------------------------------------------------------------------

  /** Explains the file at {@code path} (from the filesystem's root). */
  public Explanation explain(String path) throws IOException {
    long ino = fs.resolve(path);
    Attr attr = fs.getattr(ino);
    if ((attr.mode() & 0170000) != 0100000) {
      throw FsException.of(Errno.EINVAL, "%s is not a regular file (explain looks at one file's blocks)", path);
    }
    String rel = path.startsWith("/") ? path.substring(1) : path;
    int bs = fs.format().blockSize();
    long now = clockMillis.getAsLong();
    Explanation.Placement placement = placement(ino, attr.size(), bs);

    Explanation.Access access = Explanation.Access.UNTRACKED;
    List<Explanation.BlockAccess> blocks = new ArrayList<>();
    Explanation.Prediction prediction;
    PolicyRules.Figures figures = PolicyRules.Figures.NONE;
    int blocksTracked = 0;
    if (tracker == null) {
      prediction = new Explanation.Prediction(DEFAULT_HORIZON.toSeconds(), "none", null, 0, null, null, List.of(),
          "tracking is off (" + trackingOff + "): nothing to predict from");
    } else {
      Predictor m = predictor();
      long horizon = horizonMillis();
      Snapshot snap = tracker.query(t -> snapshot(t, ino, now, m, horizon));
      access = snap.file;
      figures = snap.figures;
      blocksTracked = snap.blocks.size();
      for (Snapshot.Block b : snap.blocks) { // metadata read outside the tracker's lock
        if (blocks.size() >= BLOCKS_SHOWN) {
          break;
        }
        blocks.add(new Explanation.BlockAccess(b.index, location(ino, b.index), b.access, b.probability, round(b.score)));
      }
      prediction = snap.prediction;
    }
    PolicyRules rules = this.rules;
    PolicyRules.Decision d = rules.decide(rel, figures, now);
    List<Explanation.RuleMatch> matches = new ArrayList<>();
    for (PolicyRules.Match x : d.matches()) {
      matches.add(new Explanation.RuleMatch(x.rule().name(), x.rule().line(), x.rule().describe(), x.applies(),
          x.decides()));
    }
    return new Explanation("/" + rel, ino, attr.size(), bs, placement, access, blocks, blocksTracked, prediction,
        new Explanation.Rules(rules.source(), matches, d.summary()), decisions(ino));
  }

  /** The file's last audited decision and when the next one comes. */
  private String decisions(long ino) {
    PolicyExecutor e = executor;
    if (e == null) {
      return "none: this mount does not execute moves (" + executionOff + "); 'policy plan' shows what it would do";
    }
    AuditEntry last = e.audit().history().lastEntry(ino);
    String next = e.interval() == null ? "next: at the next 'dynamicfs policy apply' (see 'policy plan')"
        : "next: at the executor's next run (every " + PolicyRules.duration(e.interval()) + "; see 'policy plan')";
    if (last == null) {
      return "last: none in the audit log; " + next;
    }
    String what = last.outcome() + " " + last.action() + " " + last.from() + " -> " + last.to() + " at " + last.time();
    if (last.failedChecks() != null && !last.failedChecks().isEmpty()) {
      what += " (" + String.join("; ", last.failedChecks()) + ")";
    } else if (last.error() != null) {
      what += " (" + last.error() + ")";
    }
    return "last: " + what + "; " + next;
  }

  /** What explain reads from the tracker, taken under its lock. */
  private static final class Snapshot {
    record Block(long index, Explanation.Access access, Double probability, double score) {}

    Explanation.Access file;
    PolicyRules.Figures figures = PolicyRules.Figures.NONE;
    final List<Block> blocks = new ArrayList<>();
    Explanation.Prediction prediction;
  }

  private Snapshot snapshot(AccessTracker t, long ino, long now, Predictor m, long horizon) {
    Snapshot s = new Snapshot();
    AccessTable files = t.files();
    int fslot = files.find(ino);
    s.file = fslot < 0 ? Explanation.Access.UNTRACKED : access(files, fslot, now);
    if (fslot >= 0) {
      double[] c = new double[files.counters()];
      for (int i = 0; i < c.length; i++) {
        c[i] = files.counter(fslot, i, now);
      }
      s.figures = new PolicyRules.Figures(files.lastAccess(fslot), c);
    }
    Features features = new Features(t, horizon);
    double[] x = new double[Features.COUNT];
    AccessTable ex = t.extents();
    double bestScore = Double.NEGATIVE_INFINITY;
    long bestIndex = -1;
    double[] bestX = null;
    List<long[]> found = new ArrayList<>();
    for (int slot = 0; slot < ex.slots(); slot++) {
      if (ex.occupied(slot) && MountTracker.inodeOf(ex.key(slot)) == ino) {
        found.add(new long[] {ex.key(slot) & ((1L << MountTracker.BLOCK_BITS) - 1), slot});
      }
    }
    found.sort(Comparator.comparingLong(a -> a[0]));
    for (long[] f : found) {
      int slot = (int) f[1];
      features.extract(ino, ex.key(slot), now, x);
      double score = m.score(x);
      Double p = m.probability() ? score : null;
      s.blocks.add(new Snapshot.Block(f[0], access(ex, slot, now), p, score));
      if (score > bestScore) {
        bestScore = score;
        bestIndex = f[0];
        bestX = x.clone();
      }
    }
    if (bestX == null) { // no block tracked: predict for block 0 as the model would see it
      bestIndex = 0;
      features.extract(ino, MountTracker.extentKey(ino, 0), now, x);
      bestX = x.clone();
      bestScore = m.score(x);
    }
    List<Explanation.Contribution> contributions = new ArrayList<>();
    String note;
    Double heldOut = Double.isNaN(m.heldOut()) ? null : round(m.heldOut());
    String scored = heldOut == null ? "" : "; PR-AUC " + heldOut + " on the latest held-out window";
    LogisticModel model = m.model();
    if (model != null) {
      double[] c = model.contributions(bestX);
      for (int i = 0; i < c.length; i++) {
        contributions.add(new Explanation.Contribution(Features.NAMES.get(i), round(bestX[i]), round(c[i])));
      }
      contributions.sort(Comparator.comparingDouble((Explanation.Contribution k) -> -Math.abs(k.contribution())));
      contributions = new ArrayList<>(contributions.subList(0, Math.min(5, contributions.size())));
      note = "log-odds = bias " + round(model.bias()) + " + the contributions of all " + Features.COUNT + " features"
          + scored;
    } else {
      int feature = switch (m.heuristic()) {
        case RECENCY -> 0;
        case FREQUENCY -> 2;
        case COUNT -> 4;
      };
      contributions.add(new Explanation.Contribution(Features.NAMES.get(feature), round(bestX[feature]), null));
      note = m.calibration() != null
          ? "no model beat the " + m.describe() + " on the latest held-out window, so it decides, its score "
              + "mapped to a probability by a fit on the labelled windows" + scored
          : "no model has passed the gate on this mount yet (a gate round needs three windows of "
              + PolicyRules.duration(java.time.Duration.ofMillis(horizon)) + " with reads): the block's access count "
              + "decides, score log(1 + accesses), an order and not a probability";
    }
    s.prediction = new Explanation.Prediction(horizon / 1000, m.describe(), m.probability() ? round(bestScore) : null,
        round(bestScore), bestIndex, heldOut, contributions, note);
    return s;
  }

  private static Explanation.Access access(AccessTable t, int slot, long now) {
    List<Explanation.Counter> counters = new ArrayList<>();
    for (int i = 0; i < t.counters(); i++) {
      counters.add(new Explanation.Counter(i < HALF_LIVES.length ? HALF_LIVES[i] : "#" + i, round(t.counter(slot, i, now))));
    }
    return new Explanation.Access(true, Instant.ofEpochMilli(t.firstAccess(slot)).toString(),
        Instant.ofEpochMilli(t.lastAccess(slot)).toString(), Math.max(0, now - t.lastAccess(slot)) / 1000.0,
        t.accesses(slot), t.writes(slot), t.bytes(slot), round(t.sequentialRatio(slot)), counters);
  }

  /** Where block {@code index} of {@code ino} is now. */
  private String location(long ino, long index) {
    try {
      Chunk c = fs.metadata().chunk(ino, index);
      return c == null ? "hole" : c.isInline() ? "inline" : tierOf(fs.metadata(), c);
    } catch (FsException e) {
      return "unknown (" + e.getMessage() + ")";
    }
  }

  private String tierOf(MetadataStore meta, Chunk c) throws FsException {
    BlockRecord r = meta.block(c.id());
    if (r == null) {
      return "unknown";
    }
    List<Tier> tiers = fs.storage() == null ? List.of() : fs.storage().tiers();
    return r.tier() < tiers.size() ? tiers.get(r.tier()).name() : "tier #" + r.tier();
  }

  private Explanation.Placement placement(long ino, long size, int bs) throws IOException {
    MetadataStore meta = fs.metadata();
    long nblocks = (size + bs - 1) / bs;
    List<Explanation.Extent> extents = new ArrayList<>();
    long stored = 0;
    long inline = 0;
    long next = 0; // the first block not yet described
    String runAt = null;
    long runFirst = 0;
    long runBytes = 0;
    boolean truncated = false;
    final int page = 4096;
    for (long from = 0; from < nblocks; from += page) {
      for (Chunk c : meta.chunks(ino, from, Math.min(nblocks, from + page))) {
        String where = c.isInline() ? "inline" : tierOf(meta, c);
        if (c.isInline()) {
          inline++;
        } else {
          stored++;
        }
        if (c.index() > next) { // a hole before it
          truncated |= flush(extents, runAt, runFirst, next - 1, runBytes);
          runAt = "hole";
          runFirst = next;
          runBytes = 0;
        }
        if (!where.equals(runAt)) {
          truncated |= flush(extents, runAt, runFirst, c.index() - 1, runBytes);
          runAt = where;
          runFirst = c.index();
          runBytes = 0;
        }
        runBytes += c.length();
        next = c.index() + 1;
      }
    }
    if (next < nblocks) {
      if (!"hole".equals(runAt)) {
        truncated |= flush(extents, runAt, runFirst, next - 1, runBytes);
        runAt = "hole";
        runFirst = next;
        runBytes = 0;
      }
      next = nblocks;
    }
    truncated |= flush(extents, runAt, runFirst, next - 1, runBytes);
    return new Explanation.Placement(nblocks, stored, inline, nblocks - stored - inline, extents, truncated);
  }

  /** Adds a run unless there is none or the list is full; true when a run was left out. */
  private static boolean flush(List<Explanation.Extent> out, String at, long first, long last, long bytes) {
    if (at == null || last < first) {
      return false;
    }
    if (out.size() >= EXTENTS_SHOWN) {
      return true;
    }
    out.add(new Explanation.Extent(first, last, at, bytes));
    return false;
  }

  static double round(double v) {
    return Double.isFinite(v) ? Math.round(v * 1000) / 1000.0 : v;
  }
}
