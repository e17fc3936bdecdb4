package io.dynamicfs.policy.model;

import static io.dynamicfs.policy.model.ModelGate.Outcome.CANDIDATE_LIVE;
import static io.dynamicfs.policy.model.ModelGate.Outcome.HEURISTIC_DECIDES;
import static io.dynamicfs.policy.model.ModelGate.Outcome.LIVE_KEPT;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class ModelGateTest {
  @Test
  void decide_candidateMustBeatBothLiveAndHeuristic() {
    assertEquals(CANDIDATE_LIVE, ModelGate.decide(0.8, Double.NaN, 0.7)); // first model, beats the heuristic
    assertEquals(CANDIDATE_LIVE, ModelGate.decide(0.8, 0.75, 0.7));
    assertEquals(LIVE_KEPT, ModelGate.decide(0.74, 0.75, 0.7)); // worse than live: live stays
    assertEquals(LIVE_KEPT, ModelGate.decide(0.69, 0.75, 0.7)); // worse than the heuristic: live stays, it still beats it
    assertEquals(HEURISTIC_DECIDES, ModelGate.decide(0.69, 0.68, 0.7)); // nobody beats the heuristic
    assertEquals(HEURISTIC_DECIDES, ModelGate.decide(0.7, Double.NaN, 0.7)); // a tie is not a win
    assertEquals(HEURISTIC_DECIDES, ModelGate.decide(Double.NaN, Double.NaN, 0.7)); // undefined (no positives)
    assertEquals(LIVE_KEPT, ModelGate.decide(Double.NaN, 0.8, 0.7));
  }
}
