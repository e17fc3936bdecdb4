package io.dynamicfs.policy.model;

import java.util.Arrays;
import java.util.function.IntToDoubleFunction;
import java.util.function.LongUnaryOperator;

/**
 * The training loop the evaluation and a mount share: samples by time window, each labelled once its horizon
 * has passed, and at the start of a window a candidate model trained on earlier windows and tested on the
 * latest fully labelled one, then the gate ({@link ModelGate}) decides who predicts next.
 *
 * <p>A sample is an extent at a moment: its {@link Features}, the bytes it stands for, and optionally the
 * scores other policies gave it then (the evaluation's baselines; {@code competing} names the columns that
 * compete with the model as heuristics). It is labelled positive when its key was read in (t, t + H]: the
 * caller says when the key was last read ({@link #resolve}). Rows are never shuffled and a candidate never
 * sees its test window or anything after it.
 *
 * <p>At the start of window w, window w − 2 is the latest one whose samples are all labelled (windows are at
 * least a horizon long); the candidate is trained on the {@value #TRAIN_WINDOWS} windows before it. It goes
 * live only if its PR-AUC there beats the live model's and the best heuristic's (the competing columns and
 * the tracker heuristics of {@link Heuristic}); a live model that no longer beats the heuristics steps down,
 * and the best tracker heuristic decides, calibrated by a one-feature fit on the labelled windows.
 *
 * <p>Not thread-safe: one thread adds, resolves and retrains.
 */
public final class WindowedTrainer {
  /** Windows a candidate is trained on. */
  public static final int TRAIN_WINDOWS = 6;
  /** Rows a training or test set needs at least (of both labels). */
  static final int MIN_ROWS = 20;

  /**
   * One round of the gate at the start of window {@code window}: the candidate's, the live model's (NaN: none)
   * and the best heuristic's PR-AUC on window {@code heldOut}, the outcome, and who decides after it ({@code
   * next}, null when the live model was kept).
   */
  public record Round(int window, int heldOut, LogisticModel candidate, double candidatePrAuc, double livePrAuc,
      double bestHeuristicPrAuc, String bestHeuristic, ModelGate.Outcome outcome, int trainRows, int testRows,
      Predictor next) {}

  private final long horizon;
  private final int[] competing;
  private final String[] competingNames;
  private final int maxRows;
  private int n;
  private double[][] feats = new double[64][];
  private double[][] scores = new double[64][];
  private boolean[] labels = new boolean[64];
  private long[] time = new long[64];
  private long[] key = new long[64];
  private int[] bytes = new int[64];
  private int[] window = new int[64];
  private int resolved;
  private int version;
  private int rounds;

  /**
   * @param horizon        H, in the caller's time unit
   * @param competing      score columns that compete as heuristics (indices into the rows' scores)
   * @param competingNames their names, in the same order
   * @param maxRows        rows kept at most ({@link #add} refuses more)
   */
  public WindowedTrainer(long horizon, int[] competing, String[] competingNames, int maxRows) {
    if (horizon <= 0 || competing.length != competingNames.length || maxRows < 1) {
      throw new IllegalArgumentException("need a positive horizon, a name per competing column, room for a row");
    }
    this.horizon = horizon;
    this.competing = competing.clone();
    this.competingNames = competingNames.clone();
    this.maxRows = maxRows;
  }

  /** Continues the candidates' version numbers after {@code v} (a model kept from an earlier mount). */
  public void versionsAfter(int v) {
    version = Math.max(version, v);
  }

  /**
   * Adds a sample (taking {@code features} and {@code rowScores}, which may be an empty array, as they are);
   * false when the rows are full. Samples come in time order.
   */
  public boolean add(long key, long time, int window, int bytes, double[] features, double[] rowScores) {
    if (n == maxRows) {
      return false;
    }
    if (n == feats.length) {
      int cap = (int) Math.min(maxRows, (long) n * 2);
      feats = Arrays.copyOf(feats, cap);
      scores = Arrays.copyOf(scores, cap);
      labels = Arrays.copyOf(labels, cap);
      this.time = Arrays.copyOf(this.time, cap);
      this.key = Arrays.copyOf(this.key, cap);
      this.bytes = Arrays.copyOf(this.bytes, cap);
      this.window = Arrays.copyOf(this.window, cap);
    }
    feats[n] = features;
    scores[n] = rowScores;
    this.time[n] = time;
    this.key[n] = key;
    this.bytes[n] = bytes;
    this.window[n] = window;
    n++;
    return true;
  }

  /**
   * Labels every sample whose horizon has passed by {@code now} ({@code Long.MAX_VALUE}: all of them, the rest
   * counting as not read): positive when {@code lastRead} of its key is after its time, which at this point
   * can only be within the horizon ({@code lastRead} answers {@code Long.MIN_VALUE} for a key it does not
   * know). {@code onResolved} hears each key labelled (null: nobody).
   */
  public void resolve(long now, LongUnaryOperator lastRead, java.util.function.LongConsumer onResolved) {
    while (resolved < n && (now == Long.MAX_VALUE || time[resolved] + horizon < now)) {
      long last = lastRead.applyAsLong(key[resolved]);
      labels[resolved] = last > time[resolved] && last <= time[resolved] + horizon;
      if (onResolved != null) {
        onResolved.accept(key[resolved]);
      }
      resolved++;
    }
  }

  /**
   * The gate at the start of window {@code w}: trains a candidate on the windows before w − 2 and tests it,
   * the live model and the heuristics on w − 2. Null when there is not enough labelled data of both kinds.
   */
  public Round retrain(int w, LogisticModel live) {
    int heldOut = w - 2;
    if (heldOut < 1) {
      return null;
    }
    int[] train = rows(Math.max(0, heldOut - TRAIN_WINDOWS), heldOut - 1);
    int[] test = rows(heldOut, heldOut);
    if (train.length < MIN_ROWS || test.length < MIN_ROWS || !bothClasses(train) || !bothClasses(test)) {
      return null;
    }
    LogisticModel candidate = LogisticModel.train(matrix(train), labelsOf(train), train.length, 1.0, ++version);
    rounds++;
    boolean[] y = labelsOf(test);
    double candidateAuc = Metrics.prAuc(column(test, r -> candidate.predict(feats[r])), y, test.length);
    double liveAuc = live == null ? Double.NaN : Metrics.prAuc(column(test, r -> live.predict(feats[r])), y, test.length);
    double bestHeuristic = Double.NEGATIVE_INFINITY;
    String bestName = null;
    for (int c = 0; c < competing.length; c++) {
      int col = competing[c];
      double a = Metrics.prAuc(column(test, r -> scores[r][col]), y, test.length);
      if (a > bestHeuristic) {
        bestHeuristic = a;
        bestName = competingNames[c];
      }
    }
    Heuristic bestOwn = Heuristic.COUNT;
    double bestOwnAuc = Double.NEGATIVE_INFINITY;
    for (Heuristic h : Heuristic.values()) {
      double a = Metrics.prAuc(column(test, r -> h.raw(feats[r])), y, test.length);
      if (a > bestOwnAuc) {
        bestOwnAuc = a;
        bestOwn = h;
      }
    }
    if (bestOwnAuc >= bestHeuristic || bestName == null) {
      bestName = bestOwn.name().toLowerCase(java.util.Locale.ROOT);
    }
    bestHeuristic = Math.max(bestHeuristic, bestOwnAuc);
    ModelGate.Outcome outcome = ModelGate.decide(candidateAuc, liveAuc, bestHeuristic);
    Predictor next = null;
    if (outcome == ModelGate.Outcome.CANDIDATE_LIVE) {
      next = Predictor.of(candidate, candidateAuc);
    } else if (outcome == ModelGate.Outcome.HEURISTIC_DECIDES) {
      int[] calib = rows(Math.max(0, heldOut - TRAIN_WINDOWS), heldOut);
      Heuristic h = bestOwn;
      LogisticModel c = LogisticModel.train(oneFeature(calib, r -> h.raw(feats[r])), labelsOf(calib), calib.length,
          1e-6, 0);
      next = Predictor.heuristic(h, c, bestOwnAuc);
    }
    return new Round(w, heldOut, candidate, candidateAuc, liveAuc, bestHeuristic, bestName, outcome, train.length,
        test.length, next);
  }

  /** Drops the rows of windows before {@code w} (they must be labelled): bounds a long-running trainer. */
  public void forgetBefore(int w) {
    int k = 0;
    while (k < resolved && window[k] < w) {
      k++;
    }
    if (k == 0) {
      return;
    }
    int rest = n - k;
    System.arraycopy(feats, k, feats, 0, rest);
    System.arraycopy(scores, k, scores, 0, rest);
    System.arraycopy(labels, k, labels, 0, rest);
    System.arraycopy(time, k, time, 0, rest);
    System.arraycopy(key, k, key, 0, rest);
    System.arraycopy(bytes, k, bytes, 0, rest);
    System.arraycopy(window, k, window, 0, rest);
    Arrays.fill(feats, rest, n, null);
    Arrays.fill(scores, rest, n, null);
    n = rest;
    resolved -= k;
  }

  /** Rows kept at most. */
  public int capacity() {
    return maxRows;
  }

  /** Rows held. */
  public int size() {
    return n;
  }

  /** Rows labelled so far (a prefix). */
  public int resolvedRows() {
    return resolved;
  }

  /** Candidates trained so far. */
  public int rounds() {
    return rounds;
  }

  public double[] features(int row) {
    return feats[row];
  }

  public double[] scores(int row) {
    return scores[row];
  }

  public boolean label(int row) {
    return labels[row];
  }

  public int bytes(int row) {
    return bytes[row];
  }

  public int window(int row) {
    return window[row];
  }

  /** Labelled rows of windows {@code from..to} (inclusive). */
  public int[] rows(int from, int to) {
    int[] out = new int[n];
    int k = 0;
    for (int r = 0; r < resolved; r++) {
      if (window[r] >= from && window[r] <= to) {
        out[k++] = r;
      }
    }
    return Arrays.copyOf(out, k);
  }

  public boolean[] labelsOf(int[] rows) {
    boolean[] y = new boolean[rows.length];
    for (int i = 0; i < rows.length; i++) {
      y[i] = labels[rows[i]];
    }
    return y;
  }

  public double[][] oneFeature(int[] rows, IntToDoubleFunction f) {
    double[][] x = new double[rows.length][1];
    for (int i = 0; i < rows.length; i++) {
      x[i][0] = f.applyAsDouble(rows[i]);
    }
    return x;
  }

  public static double[] column(int[] rows, IntToDoubleFunction f) {
    double[] c = new double[rows.length];
    for (int i = 0; i < rows.length; i++) {
      c[i] = f.applyAsDouble(rows[i]);
    }
    return c;
  }

  private boolean bothClasses(int[] rows) {
    boolean pos = false;
    boolean neg = false;
    for (int r : rows) {
      pos |= labels[r];
      neg |= !labels[r];
    }
    return pos && neg;
  }

  private double[][] matrix(int[] rows) {
    double[][] x = new double[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      x[i] = feats[rows[i]];
    }
    return x;
  }
}
