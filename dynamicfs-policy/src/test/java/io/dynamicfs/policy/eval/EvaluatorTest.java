package io.dynamicfs.policy.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.policy.trace.SyntheticTrace;
import io.dynamicfs.policy.trace.SyntheticTrace.Kind;
import io.dynamicfs.policy.trace.Traces;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Orderings that must hold on small seeded synthetic traces (CI-sized: tens of thousands of accesses). */
class EvaluatorTest {
  private static final Evaluator EVALUATOR = new Evaluator(Evaluator.Settings.defaults().withSamples(600));

  private static Evaluation.AtCapacity run(SyntheticTrace.Spec spec, double pct) throws IOException {
    Evaluation e = EVALUATOR.evaluate(Traces.synthetic(spec), new double[] {pct});
    assertEquals(spec.accesses(), e.accesses());
    return e.capacities().get(0);
  }

  @Test
  void loopLargerThanTheTier_modelNeverThrashes() throws IOException {
    SyntheticTrace.Spec loop = new SyntheticTrace.Spec(Kind.LOOP, 60_000, 3000, 10_000, 1, 5, false);
    Evaluator placement = new Evaluator(Evaluator.Settings.defaults().withSamples(600).withAdmissionWindow(0));
    for (double pct : new double[] {5, 20}) {
      Evaluation.AtCapacity c = run(loop, pct);
      Evaluation.PolicyFigures model = c.policy(Evaluator.MODEL);
      assertEquals(0, c.policy("LRU").byteHitRatio(), 1e-9, "LRU thrashes on a loop larger than the tier");
      assertTrue(model.pingPong() <= 10, "model ping-pong " + model.pingPong());
      assertTrue(model.byteHitRatio() > 0.5 * c.policy("Belady").byteHitRatio(),
          "keeping a fixed part of the loop is most of what is possible: " + model.byteHitRatio());
      // without the admission window, a key moves up only to beat what it displaces: the tier fills and stays
      Evaluation.AtCapacity p = placement.evaluate(Traces.synthetic(loop), new double[] {pct}).capacities().get(0);
      Evaluation.PolicyFigures placed = p.policy(Evaluator.MODEL);
      assertTrue(placed.bytesMoved() <= 3 * p.capacityBytes(),
          "placement moved " + placed.bytesMoved() + " for a tier of " + p.capacityBytes());
      assertTrue(placed.pingPong() <= 10, "placement ping-pong " + placed.pingPong());
      assertTrue(placed.byteHitRatio() > 0.5 * p.policy("Belady").byteHitRatio(), "placement " + placed.byteHitRatio());
    }
  }

  @Test
  void shiftingZipf_modelAdaptsWithinTwoWindows() throws IOException {
    // 5 hot sets of 24,000 accesses each; 20 windows of 6,000: shifts at windows 4, 8, 12, 16
    SyntheticTrace.Spec zipf = new SyntheticTrace.Spec(Kind.ZIPF_SHIFT, 120_000, 3000, 24_000, 0.9, 9, true);
    Evaluation.AtCapacity c = run(zipf, 10);
    assertEquals(6_000, c.windowLength());
    double[] w = c.policy(Evaluator.MODEL).windowHitRatio();
    for (int shift = 8; shift < 20; shift += 4) { // from the second shift on, a model has had time to be trained
      double before = (w[shift - 2] + w[shift - 1]) / 2;
      double after = w[shift + 2];
      assertTrue(after >= 0.8 * before, "window " + shift + ": " + before + " before, " + after
          + " two windows after the shift: " + java.util.Arrays.toString(w));
    }
  }

  @Test
  void belady_uniformSizes_isAtLeastEveryPolicyOnEveryShape() throws IOException {
    for (Kind k : Kind.values()) {
      SyntheticTrace.Spec spec = new SyntheticTrace.Spec(k, 20_000, 1500, 4000, 0.9, 2, true);
      for (double pct : new double[] {1, 10}) {
        Evaluation.AtCapacity c = run(spec, pct);
        double belady = c.policy("Belady").byteHitRatio();
        for (Evaluation.PolicyFigures p : c.policies()) {
          assertTrue(p.byteHitRatio() <= belady + 1e-12, k + " at " + pct + "%: " + p.policy() + " "
              + p.byteHitRatio() + " > Belady " + belady);
        }
      }
    }
  }

  @Test
  void evaluate_sameSeed_sameFigures() throws IOException {
    SyntheticTrace.Spec spec = new SyntheticTrace.Spec(Kind.PERIODIC, 30_000, 2000, 5000, 0.9, 4, false);
    Evaluation.AtCapacity a = run(spec, 5);
    Evaluation.AtCapacity b = run(spec, 5);
    assertEquals(a.deciderAtEnd(), b.deciderAtEnd());
    List<Evaluation.PolicyFigures> pa = a.policies();
    List<Evaluation.PolicyFigures> pb = b.policies();
    assertEquals(7, pa.size());
    for (int i = 0; i < pa.size(); i++) {
      assertEquals(pa.get(i).policy(), pb.get(i).policy());
      assertEquals(pa.get(i).prAuc(), pb.get(i).prAuc());
      assertEquals(pa.get(i).brier(), pb.get(i).brier());
      assertEquals(pa.get(i).byteHitRatio(), pb.get(i).byteHitRatio());
      assertEquals(pa.get(i).bytesMoved(), pb.get(i).bytesMoved());
      assertArrayEquals(pa.get(i).windowHitRatio(), pb.get(i).windowHitRatio());
    }
  }

  @Test
  void evaluate_scanMixedWithHotSet_modelLearnsAndRanksBetterThanRecency() throws IOException {
    SyntheticTrace.Spec spec = new SyntheticTrace.Spec(Kind.SCAN_HOT, 100_000, 3000, 10_000, 0.9, 6, false);
    Evaluation.AtCapacity c = run(spec, 10);
    assertTrue(c.modelsTrained() > 0, "models trained");
    assertTrue(c.policy(Evaluator.MODEL).prAuc() > c.policy("LRU").prAuc(),
        c.policy(Evaluator.MODEL).prAuc() + " vs LRU " + c.policy("LRU").prAuc());
    assertEquals(11, c.contributions().size());
    assertTrue(c.policy("Belady").prAuc() > 0.95, "the oracle ranks almost perfectly");
  }
}
