package io.dynamicfs.policy.model;

import java.util.Locale;

/**
 * Who turns an extent's features into its score: a model that passed the gate, or a heuristic, mapped to a
 * probability by a one-feature logistic fit when labelled samples allowed one (else its raw score, an order
 * and not a probability). Immutable: swapping the decider is swapping the reference. {@link #score}
 * allocates nothing.
 *
 * @param model       the live model, or null while a heuristic decides
 * @param heuristic   the deciding heuristic when {@code model} is null
 * @param calibration the heuristic's raw score to a probability, or null (uncalibrated)
 * @param heldOut     the decider's PR-AUC on the held-out window that made it decide (NaN: none yet)
 */
public record Predictor(LogisticModel model, Heuristic heuristic, LogisticModel calibration, double heldOut) {
  /** What decides before any training: the access count, uncalibrated. */
  public static final Predictor INITIAL = new Predictor(null, Heuristic.COUNT, null, Double.NaN);

  public Predictor {
    if (model == null && heuristic == null) {
      throw new IllegalArgumentException("a predictor needs a model or a heuristic");
    }
  }

  public static Predictor of(LogisticModel m, double heldOut) {
    return new Predictor(m, null, null, heldOut);
  }

  public static Predictor heuristic(Heuristic h, LogisticModel calibration, double heldOut) {
    return new Predictor(null, h, calibration, heldOut);
  }

  /** True when {@link #score} is a probability (a model, or a calibrated heuristic). */
  public boolean probability() {
    return model != null || calibration != null;
  }

  /** P(read within the horizon), or the heuristic's raw score when uncalibrated. */
  public double score(double[] features) {
    if (model != null) {
      return model.predict(features);
    }
    double raw = heuristic.raw(features);
    return calibration == null ? raw : calibration.predictOne(raw);
  }

  /** "model v3", "heuristic count". */
  public String describe() {
    return model != null ? "model v" + model.version() : "heuristic " + heuristic.name().toLowerCase(Locale.ROOT);
  }
}
