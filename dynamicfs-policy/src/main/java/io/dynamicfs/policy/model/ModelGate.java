package io.dynamicfs.policy.model;

/**
 * Who decides after a training round, from scores on the latest held-out window (higher is better, NaN
 * when undefined): a candidate goes live only if it beats both the live model and the best heuristic; a
 * live model stays only while it still beats the best heuristic; otherwise the heuristic decides.
 */
public final class ModelGate {
  /** The outcome of one round. */
  public enum Outcome {
    CANDIDATE_LIVE, LIVE_KEPT, HEURISTIC_DECIDES
  }

  private ModelGate() {}

  /**
   * @param candidate     the candidate's score
   * @param live          the live model's score, NaN if none is live
   * @param bestHeuristic the best heuristic's score
   */
  public static Outcome decide(double candidate, double live, double bestHeuristic) {
    boolean beatsHeuristic = candidate > bestHeuristic || (Double.isNaN(bestHeuristic) && !Double.isNaN(candidate));
    if (beatsHeuristic && (Double.isNaN(live) || candidate > live)) {
      return Outcome.CANDIDATE_LIVE;
    }
    if (!Double.isNaN(live) && live > bestHeuristic) {
      return Outcome.LIVE_KEPT;
    }
    return Outcome.HEURISTIC_DECIDES;
  }
}
