package io.dynamicfs.policy.model;

/**
 * P(read within the horizon) for an extent, from the current {@link Predictor}: the live model when one has
 * earned it, otherwise the deciding heuristic, calibrated into a probability by a one-feature logistic fit
 * (so both speak the same units and the placement margin means the same thing); an uncalibrated heuristic's
 * score goes through the sigmoid. Reuses one scratch array: not thread-safe.
 */
public final class HotnessScorer {
  private final Features features;
  private final double[] scratch = new double[Features.COUNT];
  private Predictor predictor = Predictor.INITIAL;

  public HotnessScorer(Features features) {
    this.features = features;
  }

  /** Lets {@code p} decide from now on. */
  public void use(Predictor p) {
    this.predictor = p;
  }

  public Predictor predictor() {
    return predictor;
  }

  /** The live model, or null while a heuristic decides. */
  public LogisticModel model() {
    return predictor.model();
  }

  public double score(long file, long extent, long now) {
    features.extract(file, extent, now, scratch);
    return score(scratch);
  }

  /** Scores an already extracted feature vector. */
  public double score(double[] f) {
    Predictor p = predictor;
    double s = p.score(f);
    return p.probability() ? s : LogisticModel.sigmoid(s);
  }
}
