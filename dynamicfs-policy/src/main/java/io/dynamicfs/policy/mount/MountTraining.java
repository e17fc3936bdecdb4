package io.dynamicfs.policy.mount;

import io.dynamicfs.policy.model.Features;
import io.dynamicfs.policy.model.LogisticModel;
import io.dynamicfs.policy.model.Predictor;
import io.dynamicfs.policy.model.WindowedTrainer;
import io.dynamicfs.policy.track.AccessTable;
import io.dynamicfs.policy.track.AccessTracker;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hotness model trained on a mount's own accesses, by the loop the evaluation runs
 * ({@link WindowedTrainer}), on the wall clock: windows one horizon long from the mount's start. While accesses
 * arrive, samples are drawn (about {@value #SAMPLES_PER_WINDOW} per window: the block just accessed, and a
 * random block the tracker knows, with their features at that moment); a sample is labelled one horizon
 * later, positive if its block was read (not written) since. At each window's start the gate runs: a
 * candidate trained on earlier windows goes live only if it beats the live model and the tracker heuristics
 * on the latest labelled window; otherwise the best heuristic decides, calibrated on the labelled windows.
 * The decider is published as an immutable {@link Predictor}, so planning and {@code explain} read it without
 * a lock.
 *
 * <p>The sampling rate follows the previous window's accesses (every access while that is under the target),
 * and a window takes at most {@value #SAMPLES_PER_WINDOW} samples. Rows older than the training windows are
 * dropped: a few thousand rows per window, a few MiB at most.
 *
 * <p>Runs on the tracker's thread under its lock ({@link MountTracker}); {@link #predictor} and
 * {@link #status} may be read from any thread.
 */
public final class MountTraining {
  private static final Logger LOG = LoggerFactory.getLogger(MountTraining.class);
  static final int SAMPLES_PER_WINDOW = 1500;

  /**
   * What {@code policy status} shows: the horizon (and window length), the current window, rows held and
   * labelled, gate rounds, and the last round's scores.
   */
  public record Status(long horizonSeconds, int window, int rows, int labelled, int rounds, Round lastRound) {}

  /** One gate round as shown: when, the held-out window's size and the scores on it, and what it decided. */
  public record Round(String at, int window, int trainRows, int testRows, int candidateVersion, double candidatePrAuc,
      Double livePrAuc, double bestHeuristicPrAuc, String bestHeuristic, String outcome, String decider) {}

  private final AccessTracker tracker;
  private final Features features;
  private final long horizon;
  private final long start;
  private final WindowedTrainer trainer;
  private final SplittableRandom random;
  /** Keys with samples waiting for their label: {last read, samples waiting}. */
  private final Map<Long, long[]> waiting = new HashMap<>();
  private volatile Predictor predictor;
  private volatile Round lastRound;
  private int window;
  private long accesses;
  private double rate = 1;
  private int sampled;

  /**
   * @param horizonMillis the horizon H (and window length) in milliseconds
   * @param startMillis   when window 0 starts (the mount's start)
   * @param initial       who decides until a round says otherwise (a model kept from an earlier mount, or
   *                      {@link Predictor#INITIAL})
   */
  MountTraining(AccessTracker tracker, long horizonMillis, long startMillis, long seed, Predictor initial) {
    this.tracker = tracker;
    this.horizon = horizonMillis;
    this.start = startMillis;
    this.features = new Features(tracker, horizonMillis);
    int maxRows = (WindowedTrainer.TRAIN_WINDOWS + 3) * (2 * SAMPLES_PER_WINDOW + 64);
    this.trainer = new WindowedTrainer(horizonMillis, new int[0], new String[0], maxRows);
    this.random = new SplittableRandom(seed);
    this.predictor = initial;
    if (initial.model() != null) {
      trainer.versionsAfter(initial.model().version());
    }
  }

  /** Who predicts now. */
  Predictor predictor() {
    return predictor;
  }

  long horizonMillis() {
    return horizon;
  }

  /** After the tracker recorded an access of block {@code key} of file {@code ino} at {@code time}. */
  void accessed(long time, long ino, long key, int bytes, boolean write) {
    tick(time);
    if (!write) {
      long[] w = waiting.get(key);
      if (w != null && time > w[0]) {
        w[0] = time;
      }
    }
    accesses++;
    if (sampled < SAMPLES_PER_WINDOW && (rate >= 1 || random.nextDouble() < rate)) {
      sampled++;
      sample(ino, key, bytes, time);
      AccessTable ex = tracker.extents();
      int slot = random.nextInt(ex.slots());
      for (int probe = 0; probe < ex.slots() && !ex.occupied(slot); probe++) {
        slot = (slot + 1) % ex.slots();
      }
      if (ex.occupied(slot)) {
        long other = ex.key(slot);
        sample(MountTracker.inodeOf(other), other, ex.lastSize(slot), time);
      }
    }
  }

  private void sample(long ino, long key, int bytes, long time) {
    double[] f = new double[Features.COUNT];
    features.extract(ino, key, time, f);
    if (trainer.add(key, time, window, bytes, f, new double[0])) {
      waiting.computeIfAbsent(key, k -> new long[] {Long.MIN_VALUE, 0})[1]++;
    }
  }

  /** Labels what its horizon passed and, at a new window, runs the gate. Called at least every drain. */
  void tick(long now) {
    trainer.resolve(now, this::lastRead, this::labelled);
    int w = (int) Math.min(Integer.MAX_VALUE, Math.max(0, (now - start) / horizon));
    if (w <= window) {
      return;
    }
    rate = w == window + 1 && accesses > SAMPLES_PER_WINDOW ? (double) SAMPLES_PER_WINDOW / accesses : 1;
    window = w;
    accesses = 0;
    sampled = 0;
    retrain(now, w);
    trainer.forgetBefore(w - 2 - WindowedTrainer.TRAIN_WINDOWS);
  }

  private long lastRead(long key) {
    long[] w = waiting.get(key);
    return w == null ? Long.MIN_VALUE : w[0];
  }

  private void labelled(long key) {
    long[] w = waiting.get(key);
    if (w != null && --w[1] <= 0) {
      waiting.remove(key);
    }
  }

  private void retrain(long now, int w) {
    Predictor live = predictor;
    WindowedTrainer.Round r = trainer.retrain(w, live.model());
    if (r == null) {
      return;
    }
    if (r.next() != null) {
      predictor = r.next();
    } else if (live.model() != null && !Double.isNaN(r.livePrAuc())) { // kept: its score on the newest window
      predictor = Predictor.of(live.model(), r.livePrAuc());
    }
    Predictor now2 = predictor;
    lastRound = new Round(Instant.ofEpochMilli(now).toString(), r.heldOut(), r.trainRows(), r.testRows(),
        r.candidate().version(), MountPolicy.round(r.candidatePrAuc()),
        Double.isNaN(r.livePrAuc()) ? null : MountPolicy.round(r.livePrAuc()), MountPolicy.round(r.bestHeuristicPrAuc()),
        r.bestHeuristic(), r.outcome().name().toLowerCase(java.util.Locale.ROOT), now2.describe());
    LOG.atInfo().setMessage("policy model gate").addKeyValue("event", "policy.model.gate")
        .addKeyValue("window", w).addKeyValue("held_out_window", r.heldOut()).addKeyValue("train_rows", r.trainRows())
        .addKeyValue("test_rows", r.testRows()).addKeyValue("candidate_version", r.candidate().version())
        .addKeyValue("candidate_pr_auc", r.candidatePrAuc()).addKeyValue("live_pr_auc", r.livePrAuc())
        .addKeyValue("best_heuristic", r.bestHeuristic()).addKeyValue("best_heuristic_pr_auc", r.bestHeuristicPrAuc())
        .addKeyValue("outcome", r.outcome()).addKeyValue("decider", now2.describe()).log();
  }

  Status status() {
    return new Status(horizon / 1000, window, trainer.size(), trainer.resolvedRows(), trainer.rounds(), lastRound);
  }

  /** The live model, if any (for saving). */
  LogisticModel model() {
    return predictor.model();
  }
}
