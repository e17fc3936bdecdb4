package io.dynamicfs.policy.mount;

import io.dynamicfs.core.api.ProgressListener;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.TierMove;
import io.dynamicfs.policy.act.AuditEntry;
import io.dynamicfs.policy.act.AuditLog;
import io.dynamicfs.policy.act.Pacer;
import io.dynamicfs.policy.rules.PolicyRules;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Executes plans: first audits the plan's refusals, then runs each accepted move of the {@link Plan}, in order, through the engine's crash-safe tier move
 * ({@link DynamicFileSystem#moveToTier}), paced by the {@link Pacer} (the budget's MB/s, counted after each
 * batch of the move, and the back-off while the foreground is busy, looked at before each move and after each
 * batch); each refused proposal and each move's start and end written to the {@link AuditLog}. A refusal
 * that repeats the file's previous entry unchanged (same action, target and failed checks) is not written
 * again, so a periodic executor does not fill the log with the same refusal every run.
 *
 * <p>Runs are serialised ({@code policy apply} and the automatic runs share one lock). The automatic
 * executor ({@link #start}) plans and executes every {@code interval} on its own thread
 * ({@code dfs-policy-executor}); {@link #close} stops it between batches and waits for it, before the engine
 * closes.
 */
public final class PolicyExecutor implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PolicyExecutor.class);

  /** What one run did. */
  public record Run(String trigger, String startedAt, int proposals, int moved, int refused, int failed, int stopped,
      long bytesMoved, long millis, List<Outcome> outcomes, List<Compacted> compacted, Warmed warmed) {}

  /** What the compact action did on a tier: segment files' bytes given back, or why it did not run. */
  public record Compacted(String tier, String outcome, long freedBytes, List<String> failedChecks, String error) {}

  /**
   * What the warm action did after the moves: blocks and bytes read through the caches, blocks that could not be
   * read (gone since the plan), and whether the run was cut short (unmount).
   */
  public record Warmed(int blocks, long bytes, int failed, boolean stopped) {
    static final Warmed NOTHING = new Warmed(0, 0, 0, false);
  }

  /** One proposal's outcome in a run. */
  public record Outcome(String path, String action, String from, String to, String outcome, long bytes,
      Long movedBytes, List<String> failedChecks, String error) {}

  /** Plans now; the executor's source of work. */
  @FunctionalInterface
  interface PlanSource {
    Plan plan() throws IOException;
  }

  private final DynamicFileSystem fs;
  private final PlanSource plans;
  private final Supplier<PolicyRules> rules;
  private final AuditLog audit;
  private final Pacer pacer;
  private final LongSupplier clockMillis;
  private final Object runLock = new Object();
  private final Map<String, LongAdder> decisions = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> moves = new ConcurrentHashMap<>();
  private final Map<String, LongAdder> refusals = new ConcurrentHashMap<>();
  private final LongAdder bytesMoved = new LongAdder();
  private final LongAdder warmedBytes = new LongAdder();
  private final LongAdder compactedBytes = new LongAdder();
  private final AtomicLong runs = new AtomicLong();
  private volatile Run lastRun;
  private volatile boolean stop;
  private volatile Thread thread;
  private volatile Duration interval;

  /** {@code rules}: the rules in force at each run (a reload takes effect at the next one). */
  PolicyExecutor(DynamicFileSystem fs, PlanSource plans, Supplier<PolicyRules> rules, AuditLog audit, Pacer pacer,
      LongSupplier clockMillis) {
    this.fs = fs;
    this.plans = plans;
    this.rules = rules;
    this.audit = audit;
    this.pacer = pacer;
    this.clockMillis = clockMillis;
  }

  /** Starts the automatic executor: a plan executed every {@code every}, the first one {@code every} from now. */
  void start(Duration every) {
    interval = every;
    Thread t = new Thread(() -> loop(every), "dfs-policy-executor");
    t.setDaemon(true);
    thread = t;
    t.start();
    log.atInfo().setMessage("policy executor started").addKeyValue("event", "policy.executor.started")
        .addKeyValue("interval_s", every.toSeconds()).log();
  }

  private void loop(Duration every) {
    while (!stop) {
      long until = System.nanoTime() + every.toNanos();
      for (long left = every.toNanos(); left > 0 && !stop; left = until - System.nanoTime()) {
        LockSupport.parkNanos(left);
      }
      if (stop) {
        break;
      }
      try {
        execute(plans.plan(), "auto", ProgressListener.NONE);
      } catch (IOException | RuntimeException e) {
        log.atWarn().setMessage("policy run failed; the next run tries again").addKeyValue("event", "policy.run.failed")
            .addKeyValue("error", String.valueOf(e.getMessage())).log();
      }
    }
  }

  /** Plans now and executes the plan (what {@code policy apply} does). */
  Run apply(ProgressListener progress) throws IOException {
    synchronized (runLock) {
      return execute(plans.plan(), "apply", progress);
    }
  }

  /** Executes the accepted moves of {@code plan} and audits its refusals; see the class comment. */
  Run execute(Plan plan, String trigger, ProgressListener progress) throws IOException {
    synchronized (runLock) {
      long startMillis = clockMillis.getAsLong();
      long t0 = System.nanoTime();
      PolicyRules inForce = rules.get();
      PolicyRules.Limits limits = inForce.limits();
      pacer.configure(inForce.budget().bytesPerSecond(), limits.pauseLatency().toNanos(), limits.pauseInFlight());
      List<Outcome> outcomes = new ArrayList<>();
      int moved = 0;
      int refused = 0;
      int failed = 0;
      int stopped = 0;
      long bytes = 0;
      int done = 0;
      for (Plan.Proposal p : plan.proposals()) { // the plan's refusals first: they are decided already
        if (p.refused()) {
          refused++;
          outcomes.add(refuse(p, p.failed(), trigger, plan.decider()));
          progress.progress("policy", ++done, plan.proposals().size());
        }
      }
      for (Plan.Proposal p : plan.proposals()) {
        if (p.refused()) {
          continue;
        }
        progress.progress("policy", done++, plan.proposals().size());
        if (stop) {
          break;
        }
        if (fs.isOpen(p.ino())) { // opened since the plan
          refused++;
          outcomes.add(refuse(p, List.of("open: opened since the plan was made; a move waits until it is closed"),
              trigger, plan.decider()));
          continue;
        }
        if (!pacer.awaitCalm(() -> stop)) {
          break;
        }
        Outcome o = move(p, trigger, plan.decider());
        outcomes.add(o);
        switch (o.outcome()) {
          case "moved" -> moved++;
          case "stopped" -> stopped++;
          default -> failed++;
        }
        bytes += o.movedBytes() == null ? 0 : o.movedBytes();
      }
      progress.progress("policy", plan.proposals().size(), plan.proposals().size());
      List<Compacted> compacted = compact(plan, trigger);
      Warmed warmed = warm(plan, trigger);
      Run r = new Run(trigger, Instant.ofEpochMilli(startMillis).toString(), plan.proposals().size(), moved, refused,
          failed, stopped, bytes, (System.nanoTime() - t0) / 1_000_000, outcomes, compacted, warmed);
      runs.incrementAndGet();
      lastRun = r;
      log.atInfo().setMessage("policy run finished").addKeyValue("event", "policy.run").addKeyValue("trigger", trigger)
          .addKeyValue("proposals", r.proposals()).addKeyValue("moved", moved).addKeyValue("refused", refused)
          .addKeyValue("failed", failed).addKeyValue("stopped", stopped).addKeyValue("bytes_moved", bytes)
          .addKeyValue("warmed_blocks", warmed.blocks()).addKeyValue("warmed_bytes", warmed.bytes())
          .addKeyValue("duration_ms", r.millis()).log();
      return r;
    }
  }

  /**
   * Compacts each tier the plan proposes, once the foreground is calm, rewriting its segments under the
   * plan's live share; audits each ({@code compact}: {@code compacted}, {@code refused} or {@code failed}). A
   * tier's compaction runs to its end once started (segment by segment, each crash-safe).
   */
  private List<Compacted> compact(Plan plan, String trigger) throws IOException {
    List<Compacted> out = new ArrayList<>();
    for (Plan.Compaction c : plan.compactions()) {
      List<String> failedChecks = c.checks().stream().filter(k -> !k.ok()).map(k -> k.name() + ": " + k.detail())
          .toList();
      if (c.refused()) {
        if (!audit.history().sameRefusal(tierKey(c), "compact", c.tier(), failedChecks)) { // once until it changes
          audit.append(compactEntry(c, "refused", trigger, plan.decider(), failedChecks, null, null, null));
        }
        out.add(new Compacted(c.tier(), "refused", 0, failedChecks, null));
        continue;
      }
      if (stop || !pacer.awaitCalm(() -> stop)) {
        break;
      }
      long t0 = System.nanoTime();
      try {
        long freed = fs.storage().tier(c.tier()).compact(c.liveBelow());
        pacer.moved(c.copyBytes(), () -> stop);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        audit.append(compactEntry(c, "compacted", trigger, plan.decider(), null, freed, ms, null));
        compactedBytes.add(freed);
        out.add(new Compacted(c.tier(), "compacted", freed, List.of(), null));
      } catch (IOException | RuntimeException e) {
        long ms = (System.nanoTime() - t0) / 1_000_000;
        audit.append(compactEntry(c, "failed", trigger, plan.decider(), null, null, ms, String.valueOf(e.getMessage())));
        out.add(new Compacted(c.tier(), "failed", 0, List.of(), String.valueOf(e.getMessage())));
      }
    }
    return out;
  }

  private AuditEntry compactEntry(Plan.Compaction c, String outcome, String trigger, String decider,
      List<String> failedChecks, Long freed, Long millis, String error) {
    long now = clockMillis.getAsLong();
    return new AuditEntry(Instant.ofEpochMilli(now).toString(), now, outcome, trigger, "tier " + c.tier(), tierKey(c),
        "compact", c.tier(), c.tier(), c.copyBytes(), c.reclaimBytes(), null, null, decider,
        c.segments() + " segments under " + c.liveBelow() + " live", null, failedChecks, freed, millis, error);
  }

  /** The audit log's key for a tier's compactions: below zero, where no file's inode number is. */
  private long tierKey(Plan.Compaction c) {
    return -1L - fs.storage().tier(c.tier()).number();
  }

  /**
   * Reads the plan's warm blocks through the mount's caches, the lowest score first so that the hottest are the
   * last in (and the last out of) the cache, paced by the budget and pausing while the foreground is busy like a
   * move; one audit line ({@code warm}, outcome {@code warmed}) for the lot.
   */
  private Warmed warm(Plan plan, String trigger) throws IOException {
    Plan.Warm w = plan.warm();
    if (w == null || w.toRead().isEmpty()) {
      return Warmed.NOTHING;
    }
    long t0 = System.nanoTime();
    List<Plan.WarmBlock> order = new ArrayList<>(w.toRead());
    java.util.Collections.reverse(order);
    int blocks = 0;
    int failedBlocks = 0;
    long read = 0;
    boolean cut = false;
    for (Plan.WarmBlock b : order) {
      if (stop || !pacer.awaitCalm(() -> stop)) {
        cut = true;
        break;
      }
      try {
        byte[] data = fs.blockStore().get(b.id());
        blocks++;
        read += data.length;
      } catch (IOException | RuntimeException e) { // deleted since the plan: nothing to warm
        failedBlocks++;
      }
      if (!pacer.moved(b.bytes(), () -> stop)) {
        cut = true;
        break;
      }
    }
    long now = clockMillis.getAsLong();
    long ms = (System.nanoTime() - t0) / 1_000_000;
    audit.append(new AuditEntry(Instant.ofEpochMilli(now).toString(), now, "warmed", trigger,
        w.files() + " files", 0, "warm", "tiers", "cache", w.bytes(), null, null, null, plan.decider(), w.rule(), null,
        null, read, ms, cut ? "cut short: the mount is stopping" : null));
    warmedBytes.add(read);
    return new Warmed(blocks, read, failedBlocks, cut);
  }

  private Outcome refuse(Plan.Proposal p, List<String> failedChecks, String trigger, String decider)
      throws IOException {
    for (String c : failedChecks) {
      String name = c.contains(":") ? c.substring(0, c.indexOf(':')) : c;
      if (!audit.history().sameRefusal(p.ino(), p.action(), p.to(), failedChecks)) {
        refusals.computeIfAbsent(name, k -> new LongAdder()).increment();
      }
    }
    if (!audit.history().sameRefusal(p.ino(), p.action(), p.to(), failedChecks)) {
      audit.append(entry(p, "refused", trigger, failedChecks, null, null, null, decider));
      decisions.computeIfAbsent("refused", k -> new LongAdder()).increment();
    }
    return new Outcome(p.path(), p.action(), p.from(), p.to(), "refused", p.bytes(), null, failedChecks, null);
  }

  private Outcome move(Plan.Proposal p, String trigger, String decider) throws IOException {
    audit.append(entry(p, "started", trigger, null, null, null, null, decider));
    long t0 = System.nanoTime();
    long[] paced = {0, 0, 0}; // bytes paced, blocks done, blocks total
    boolean[] cut = {false};
    try {
      TierMove.Result r = fs.moveToTier(p.ino(), p.to(), pr -> {
        long delta = pr.bytesMoved() - paced[0];
        paced[0] = pr.bytesMoved();
        paced[1] = pr.blocksDone();
        paced[2] = pr.blocksTotal();
        if (!pacer.moved(delta, () -> stop) || !pacer.awaitCalm(() -> stop)) {
          cut[0] = true;
        }
      }, () -> stop || cut[0]);
      long ms = (System.nanoTime() - t0) / 1_000_000;
      boolean complete = !(stop || cut[0]) || paced[1] >= paced[2];
      String outcome = complete ? "moved" : "stopped";
      audit.append(entry(p, outcome, trigger, null, r.bytesMoved(), ms, null, decider));
      decisions.computeIfAbsent(outcome, k -> new LongAdder()).increment();
      moves.computeIfAbsent(p.action(), k -> new LongAdder()).increment();
      bytesMoved.add(r.bytesMoved());
      return new Outcome(p.path(), p.action(), p.from(), p.to(), outcome, p.bytes(), r.bytesMoved(), null, null);
    } catch (IOException | RuntimeException e) {
      long ms = (System.nanoTime() - t0) / 1_000_000;
      String error = String.valueOf(e.getMessage());
      audit.append(entry(p, "failed", trigger, null, null, ms, error, decider));
      decisions.computeIfAbsent("failed", k -> new LongAdder()).increment();
      return new Outcome(p.path(), p.action(), p.from(), p.to(), "failed", p.bytes(), null, null, error);
    }
  }

  private AuditEntry entry(Plan.Proposal p, String outcome, String trigger, List<String> failedChecks,
      Long movedBytes, Long millis, String error, String decider) {
    long now = clockMillis.getAsLong();
    return new AuditEntry(Instant.ofEpochMilli(now).toString(), now, outcome, trigger, p.path(), p.ino(), p.action(),
        p.from(), p.to(), p.bytes(), p.expectedBytes(), p.score(), p.prediction(), decider, p.reason(),
        "started".equals(outcome) || "refused".equals(outcome) ? p.features() : null, failedChecks, movedBytes, millis,
        error);
  }

  // ---- figures ----------------------------------------------------------------------------------

  /** Audited decisions by outcome (moved, stopped, failed, refused); repeated refusals counted once. */
  public Map<String, LongAdder> decisions() {
    return decisions;
  }

  /** Completed or stopped moves by action. */
  public Map<String, LongAdder> moves() {
    return moves;
  }

  /** Audited refusals by the failed check's name. */
  public Map<String, LongAdder> refusals() {
    return refusals;
  }

  public long bytesMoved() {
    return bytesMoved.sum();
  }

  /** Bytes of segment files the compact action gave back. */
  public long compactedBytes() {
    return compactedBytes.sum();
  }

  /** Bytes the warm action read into the caches. */
  public long warmedBytes() {
    return warmedBytes.sum();
  }

  public long runs() {
    return runs.get();
  }

  public Run lastRun() {
    return lastRun;
  }

  public Pacer pacer() {
    return pacer;
  }

  /** The automatic executor's interval, or null when it is off. */
  public Duration interval() {
    return interval;
  }

  public AuditLog audit() {
    return audit;
  }

  /** Stops the automatic executor and any move in progress between batches; waits up to 30 s. */
  @Override
  public void close() throws IOException {
    stop = true;
    Thread t = thread;
    if (t != null) {
      LockSupport.unpark(t); // not interrupted: an interrupt during file I/O closes the channel
      try {
        t.join(30_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    synchronized (runLock) { // a running apply ends at its next batch
      audit.close();
    }
  }
}
