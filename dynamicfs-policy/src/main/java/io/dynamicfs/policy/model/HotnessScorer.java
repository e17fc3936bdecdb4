package io.dynamicfs.policy.model;

/**
 * P(read within the horizon) for an extent, from the live model when one has earned it and otherwise from
 * the deciding heuristic, calibrated into a probability by a one-feature logistic fit (so both speak the
 * same units and the placement margin means the same thing). Reuses one scratch array: not thread-safe.
 */
public final class HotnessScorer {
  private final Features features;
  private final double[] scratch = new double[Features.COUNT];
  private final double[] one = new double[1];
  private LogisticModel model;
  private Heuristic heuristic = Heuristic.COUNT;
  private LogisticModel calibration;

  public HotnessScorer(Features features) {
    this.features = features;
  }

  /** Puts {@code m} live. */
  public void useModel(LogisticModel m) {
    this.model = m;
  }

  /** Lets {@code h} decide, mapped to a probability by {@code calibration} (null: the raw score). */
  public void useHeuristic(Heuristic h, LogisticModel calibration) {
    this.model = null;
    this.heuristic = h;
    this.calibration = calibration;
  }

  /** The live model, or null while the heuristic decides. */
  public LogisticModel model() {
    return model;
  }

  public Heuristic heuristic() {
    return heuristic;
  }

  public double score(long file, long extent, long now) {
    features.extract(file, extent, now, scratch);
    return score(scratch);
  }

  /** Scores an already extracted feature vector. */
  public double score(double[] f) {
    if (model != null) {
      return model.predict(f);
    }
    double raw = heuristic.raw(f);
    if (calibration == null) {
      return LogisticModel.sigmoid(raw);
    }
    one[0] = raw;
    return calibration.predict(one);
  }
}
