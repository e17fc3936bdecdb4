package io.dynamicfs.policy.eval;

import java.util.List;

/** What {@link Evaluator} measured on one trace. */
public record Evaluation(String trace, long accesses, long distinctKeys, long footprintBytes,
    List<AtCapacity> capacities) {

  /** One fast-tier size: the horizon used, the model's history and every policy's figures. */
  public record AtCapacity(double capacityPercent, long capacityBytes, long horizon, long windowLength,
      int windows, int modelsTrained, int windowsModelLive, String deciderAtEnd, List<Contribution> contributions,
      List<PolicyFigures> policies) {
    public PolicyFigures policy(String name) {
      return policies.stream().filter(p -> p.policy().equals(name)).findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no policy " + name));
    }
  }

  /** A feature's weight in the last trained model and its mean absolute share of the log-odds. */
  public record Contribution(String feature, double weight, double meanAbsContribution) {}

  /**
   * One policy's figures: prediction metrics over the held-out samples (NaN when undefined, e.g. no
   * positives), then what its fast tier did over the whole trace, and its byte hit ratio per window.
   */
  public record PolicyFigures(String policy, double positiveRate, double prAuc, double rocAuc, double brier,
      double precisionAtCapacity, double byteHitRatio, long bytesMoved, long pingPong, long promotions,
      double[] windowHitRatio) {}
}
