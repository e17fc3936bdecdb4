package io.dynamicfs.policy.eval;

import io.dynamicfs.policy.model.Features;
import io.dynamicfs.policy.model.HotnessScorer;
import io.dynamicfs.policy.model.LogisticModel;
import io.dynamicfs.policy.model.Metrics;
import io.dynamicfs.policy.model.WindowedTrainer;
import io.dynamicfs.policy.tier.ArcTier;
import io.dynamicfs.policy.tier.BeladyTier;
import io.dynamicfs.policy.tier.FastTier;
import io.dynamicfs.policy.tier.LfuTier;
import io.dynamicfs.policy.tier.LruTier;
import io.dynamicfs.policy.tier.S3FifoTier;
import io.dynamicfs.policy.tier.ScoredTier;
import io.dynamicfs.policy.tier.TierMoves;
import io.dynamicfs.policy.tier.WTinyLfuTier;
import io.dynamicfs.policy.trace.TraceSource;
import io.dynamicfs.policy.track.AccessTable;
import io.dynamicfs.policy.track.AccessTracker;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Replays a trace on a virtual clock (one access = one tick) through the access tracker, the hotness model
 * with its time-split training and go-live gate, the placement decision ({@link ScoredTier}) and, side by
 * side, the baselines, each on its own fast tier of the same byte capacity. Deterministic for a seed.
 *
 * <h2>How the model is judged</h2>
 * The trace is cut into windows. While it plays, samples are drawn (seeded): the key just accessed, and a
 * random key the tracker knows, with their features and every policy's score at that moment. A sample at
 * time t is labelled H ticks later: positive if its key was accessed in (t, t+H]. At the start of window w,
 * window w-2 is the latest fully labelled one: a candidate model is trained on the windows before it
 * (never shuffled, never on the future) and tested on it; it goes live only if its PR-AUC there beats the
 * live model's and the best heuristic's (LRU/LFU/ARC/S3-FIFO/W-TinyLFU scores and the tracker's recency,
 * decayed frequency and access count); a live model that no longer beats the heuristics steps down and the best tracker
 * heuristic decides, calibrated to a probability on the labelled windows.
 *
 * <p>The reported prediction metrics cover the samples from window 2 on: for the model, what the live
 * scorer said at the moment; for a baseline, its score mapped to a probability by a one-feature logistic
 * fit on labelled windows before the sample's (so every column is out of sample). Belady's score knows
 * the future and is there as the bound.
 *
 * <p>The engine's tier ({@link ScoredTier}) puts a missed key in a small admission window first (1 % of the
 * capacity by default, as W-TinyLFU does, if the model gives it at least a 10 % chance of a read within
 * the horizon) and applies the model when it leaves the window; with a window of
 * 0 a key moves up only when it clearly beats what it displaces (tier placement, fewer bytes moved).
 *
 * <p>The horizon H is about twice the tier's characteristic time: the accesses it takes to read twice as
 * many distinct keys as the tier holds (measured on the trace), at least 50 and at most one window: a key
 * not read again within it would have been pushed out of a recency-ordered tier of this size anyway.
 */
public final class Evaluator {
  private static final Logger LOG = LoggerFactory.getLogger(Evaluator.class);
  /** The policy name of the engine's own decision (the model, or the heuristic while no model is live). */
  public static final String MODEL = "model";
  /** A missed key enters the admission window only with at least this P(read within the horizon). */
  static final double WINDOW_MIN_SCORE = 0.1;

  /** Knobs; {@link #defaults()} is what the command runs. */
  public record Settings(int windows, int samplesPerWindow, long seed, int victimSample, double margin,
      long limit, double horizonKeys, double admissionWindow) {
    public Settings {
      if (windows < 4 || samplesPerWindow < 50 || victimSample < 1 || margin < 0 || limit < 1 || !(horizonKeys > 0)
          || !(admissionWindow >= 0 && admissionWindow < 1)) {
        throw new IllegalArgumentException("need windows >= 4, samples >= 50, victims >= 1, margin >= 0, limit >= 1, "
            + "horizon keys > 0, admission window in [0, 1)");
      }
    }

    public static Settings defaults() {
      return new Settings(20, 1500, 1, 16, 0.02, Long.MAX_VALUE, 2, 0.01);
    }

    public Settings withWindows(int w) {
      return new Settings(w, samplesPerWindow, seed, victimSample, margin, limit, horizonKeys, admissionWindow);
    }

    public Settings withSeed(long s) {
      return new Settings(windows, samplesPerWindow, s, victimSample, margin, limit, horizonKeys, admissionWindow);
    }

    public Settings withLimit(long l) {
      return new Settings(windows, samplesPerWindow, seed, victimSample, margin, l, horizonKeys, admissionWindow);
    }

    /** The share of the fast tier that admits every missed key for a first stay (0: none). */
    public Settings withAdmissionWindow(double w) {
      return new Settings(windows, samplesPerWindow, seed, victimSample, margin, limit, horizonKeys, w);
    }

    public Settings withSamples(int s) {
      return new Settings(windows, s, seed, victimSample, margin, limit, horizonKeys, admissionWindow);
    }
  }

  private final Settings settings;

  public Evaluator(Settings settings) {
    this.settings = settings;
  }

  /** Evaluates {@code source} at each capacity (percent of the trace's footprint in bytes). */
  public Evaluation evaluate(TraceSource source, double[] capacityPercents) throws IOException {
    MaterializedTrace t = MaterializedTrace.read(source, settings.limit());
    List<Evaluation.AtCapacity> out = new ArrayList<>();
    for (double pct : capacityPercents) {
      if (!(pct > 0 && pct <= 100)) {
        throw new IllegalArgumentException("capacity must be in (0, 100] percent: " + pct);
      }
      out.add(new Run(t, pct, settings).run());
    }
    return new Evaluation(t.name, t.length, t.distinct, t.footprint, out);
  }

  /** One trace at one capacity. */
  private static final class Run {
    private static final String[] BASELINES = {"LRU", "LFU-aged", "ARC", "S3-FIFO", "W-TinyLFU", "Belady"};
    private final MaterializedTrace t;
    private final double pct;
    private final Settings s;
    private final long capacity;
    private final long windowLength;
    private final int windows;
    private final long horizon;
    private final AccessTracker tracker;
    private final Features features;
    private final HotnessScorer scorer;
    private final FastTier[] tiers; // [0] = the model's, then BASELINES
    private final long[][] hitBytes;
    private final long[][] reqBytes;
    /** The samples (scores per tier, index as tiers: the model's is the live scorer's probability) and the gate. */
    private final WindowedTrainer trainer;
    private int windowsLive;
    private LogisticModel lastTrained;

    Run(MaterializedTrace t, double pct, Settings s) {
      this.t = t;
      this.pct = pct;
      this.s = s;
      this.capacity = Math.max(1, (long) (t.footprint * pct / 100));
      this.windowLength = Math.max(1000, (t.length + s.windows() - 1) / s.windows());
      this.windows = (int) ((t.length + windowLength - 1) / windowLength);
      double meanSize = (double) t.footprint / t.distinct;
      double keysHeld = capacity / meanSize;
      this.horizon = Math.max(50, t.spanForDistinct(s.horizonKeys() * keysHeld, windowLength));
      int tableCap = (int) Math.max(64, Math.min(t.distinct, 1 << 22));
      this.tracker = new AccessTracker(new AccessTracker.Config(tableCap, tableCap,
          new double[] {Math.max(1, horizon / 4.0), horizon, horizon * 8.0}));
      this.features = new Features(tracker, horizon);
      this.scorer = new HotnessScorer(features);
      int expectedKeys = (int) Math.max(64, Math.min(1 << 24, keysHeld));
      this.tiers = new FastTier[] {
          new ScoredTier(MODEL, capacity, s.admissionWindow(), WINDOW_MIN_SCORE, (key, now) -> scorer.score(fileOf(key), key, now), s.victimSample(),
              s.margin(), s.seed(), new TierMoves(windowLength)).withWindowCooldown(windowLength),
          new LruTier(capacity, new TierMoves(windowLength)),
          new LfuTier(capacity, new TierMoves(windowLength)),
          new ArcTier(capacity, new TierMoves(windowLength)),
          new S3FifoTier(capacity, new TierMoves(windowLength)),
          new WTinyLfuTier(capacity, expectedKeys, new TierMoves(windowLength)),
          new BeladyTier(capacity, t.nextUse, new TierMoves(windowLength))};
      this.hitBytes = new long[tiers.length][windows];
      this.reqBytes = new long[tiers.length][windows];
      int maxSamples = windows * (2 * s.samplesPerWindow() + 64) + 64;
      int[] competing = new int[BASELINES.length - 1]; // the baselines, not Belady
      String[] names = new String[competing.length];
      for (int c = 0; c < competing.length; c++) {
        competing[c] = c + 1;
        names[c] = BASELINES[c];
      }
      this.trainer = new WindowedTrainer(horizon, competing, names, maxSamples);
    }

    /** Keys are extents; sixteen consecutive ones make a "file" (traces carry no files). */
    static long fileOf(long key) {
      return key >>> 4;
    }

    Evaluation.AtCapacity run() {
      SplittableRandom random = new SplittableRandom(s.seed() * 31 + 7);
      double sampleP = Math.min(1.0, (double) s.samplesPerWindow() / windowLength);
      AccessTable extents = tracker.extents();
      for (int i = 0; i < t.length; i++) {
        long now = i;
        resolveLabels(now);
        if (now > 0 && now % windowLength == 0) {
          retrain((int) (now / windowLength));
        }
        int w = (int) (now / windowLength);
        if (w >= 2 && scorer.model() != null && now % windowLength == 0) {
          windowsLive++;
        }
        long key = t.keys[i];
        int bytes = t.bytes[i];
        tracker.record(now, fileOf(key), key, bytes, false);
        for (int p = 0; p < tiers.length; p++) {
          reqBytes[p][w] += bytes;
          if (tiers[p].access(key, bytes, now)) {
            hitBytes[p][w] += bytes;
          }
        }
        if (random.nextDouble() < sampleP) {
          addSample(key, bytes, now, w);
          int slot = random.nextInt(extents.slots());
          for (int probe = 0; probe < extents.slots() && !extents.occupied(slot); probe++) {
            slot = (slot + 1) % extents.slots();
          }
          addSample(extents.key(slot), extents.lastSize(slot), now, w);
        }
      }
      resolveLabels(Long.MAX_VALUE); // the tail: whatever was not read again before the end counts negative
      return report();
    }

    private void addSample(long key, int bytes, long now, int window) {
      if (trainer.size() == trainer.capacity()) {
        return;
      }
      double[] f = new double[Features.COUNT];
      features.extract(fileOf(key), key, now, f);
      double[] sc = new double[tiers.length];
      sc[0] = scorer.score(f);
      for (int p = 1; p < tiers.length; p++) {
        sc[p] = tiers[p].score(key, now);
      }
      trainer.add(key, now, window, bytes, f, sc);
    }

    /**
     * Labels every sample whose horizon has passed: accessed again after its time (the tracker's last
     * access of the key is later), which at this point can only have happened within the horizon. A key
     * the tracker evicted in between counts as not read.
     */
    private void resolveLabels(long now) {
      AccessTable ex = tracker.extents();
      trainer.resolve(now, key -> {
        int slot = ex.find(key);
        return slot < 0 ? Long.MIN_VALUE : ex.lastAccess(slot);
      }, null);
    }

    /** At the start of window {@code w}: train on windows before w-2, test on w-2, gate. */
    private void retrain(int w) {
      WindowedTrainer.Round r = trainer.retrain(w, scorer.model());
      if (r == null) {
        return;
      }
      lastTrained = r.candidate();
      if (r.next() != null) {
        scorer.use(r.next());
      }
      LOG.atDebug().setMessage("policy model gate").addKeyValue("event", "policy.model.gate")
          .addKeyValue("window", w).addKeyValue("candidate_version", r.candidate().version())
          .addKeyValue("candidate_pr_auc", r.candidatePrAuc()).addKeyValue("live_pr_auc", r.livePrAuc())
          .addKeyValue("best_heuristic_pr_auc", r.bestHeuristicPrAuc()).addKeyValue("outcome", r.outcome()).log();
    }

    private Evaluation.AtCapacity report() {
      WindowedTrainer t = trainer;
      int[] eval = t.rows(2, windows);
      boolean[] y = t.labelsOf(eval);
      int[] bytes = new int[eval.length];
      for (int i = 0; i < eval.length; i++) {
        bytes[i] = t.bytes(eval[i]);
      }
      List<Evaluation.PolicyFigures> figures = new ArrayList<>();
      for (int p = 0; p < tiers.length; p++) {
        double[] prob = p == 0 ? WindowedTrainer.column(eval, r -> t.scores(r)[0]) : calibrated(p, eval);
        long hit = 0;
        long req = 0;
        double[] perWindow = new double[windows];
        for (int w = 0; w < windows; w++) {
          hit += hitBytes[p][w];
          req += reqBytes[p][w];
          perWindow[w] = reqBytes[p][w] == 0 ? Double.NaN : (double) hitBytes[p][w] / reqBytes[p][w];
        }
        TierMoves m = tiers[p].moves();
        figures.add(new Evaluation.PolicyFigures(tiers[p].name(), Metrics.positiveRate(y, eval.length),
            Metrics.prAuc(prob, y, eval.length), Metrics.rocAuc(prob, y, eval.length),
            Metrics.brier(prob, y, eval.length), Metrics.precisionAtCapacity(prob, y, bytes, eval.length, pct / 100),
            (double) hit / req, m.bytesMoved(), m.pingPong(), m.promotions(), perWindow));
      }
      List<Evaluation.Contribution> contributions = new ArrayList<>();
      LogisticModel shown = scorer.model() != null ? scorer.model() : lastTrained;
      if (shown != null && eval.length > 0) {
        double[] w = shown.weights();
        double[] meanAbs = new double[Features.COUNT];
        for (int r : eval) {
          double[] c = shown.contributions(t.features(r));
          for (int j = 0; j < c.length; j++) {
            meanAbs[j] += Math.abs(c[j]) / eval.length;
          }
        }
        for (int j = 0; j < Features.COUNT; j++) {
          contributions.add(new Evaluation.Contribution(Features.NAMES.get(j), w[j], meanAbs[j]));
        }
      }
      String decider = scorer.predictor().describe();
      return new Evaluation.AtCapacity(pct, capacity, horizon, windowLength, windows, t.rounds(), windowsLive,
          decider, contributions, figures);
    }

    /** Baseline {@code p}'s scores on {@code eval}, each window's mapped to probabilities by a fit on earlier labelled windows. */
    private double[] calibrated(int p, int[] eval) {
      double[] out = new double[eval.length];
      LogisticModel[] perWindow = new LogisticModel[windows + 1];
      for (int i = 0; i < eval.length; i++) {
        int r = eval[i];
        int w = trainer.window(r);
        if (perWindow[w] == null) {
          int[] fit = trainer.rows(Math.max(0, w - 1 - WindowedTrainer.TRAIN_WINDOWS), w - 2); // labelled by the time window w began
          perWindow[w] = fit.length == 0 ? null
              : LogisticModel.train(trainer.oneFeature(fit, q -> trainer.scores(q)[p]), trainer.labelsOf(fit), fit.length, 1e-6, 0);
        }
        out[i] = perWindow[w] == null ? 0.5 : perWindow[w].predictOne(trainer.scores(r)[p]);
      }
      return out;
    }
  }
}
