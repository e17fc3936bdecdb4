package io.dynamicfs.policy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MetricsTest {
  @Test
  void metrics_smallCase_matchHandComputedValues() {
    double[] s = {0.9, 0.8, 0.7, 0.6, 0.5};
    boolean[] y = {true, false, true, false, false};
    // positives rank 1st and 3rd of 5: pairs (pos > neg): 3 + 2 = 5 of 6
    assertEquals(5.0 / 6, Metrics.rocAuc(s, y, 5), 1e-12);
    // average precision: (1/1 + 2/3) / 2
    assertEquals((1 + 2.0 / 3) / 2, Metrics.prAuc(s, y, 5), 1e-12);
    assertEquals((0.01 + 0.64 + 0.09 + 0.36 + 0.25) / 5, Metrics.brier(s, y, 5), 1e-12);
    assertEquals(0.4, Metrics.positiveRate(y, 5), 1e-12);
    int[] bytes = {10, 10, 10, 10, 10};
    assertEquals(1.0, Metrics.precisionAtCapacity(s, y, bytes, 5, 0.2), 1e-12); // top 10 bytes: the positive
    assertEquals(0.5, Metrics.precisionAtCapacity(s, y, bytes, 5, 0.4), 1e-12);
  }

  @Test
  void ranking_allTied_isNoBetterThanChance() {
    double[] s = {0.5, 0.5, 0.5, 0.5};
    boolean[] y = {true, false, true, false};
    assertEquals(0.5, Metrics.rocAuc(s, y, 4), 1e-12);
    assertEquals(0.5, Metrics.prAuc(s, y, 4), 1e-12); // the positive rate, not the best tie order's 1.0
  }

  @Test
  void rocAuc_randomScores_equalsPairCountingDefinition() {
    SplittableRandom r = new SplittableRandom(3);
    for (int round = 0; round < 50; round++) {
      int n = 2 + r.nextInt(60);
      double[] s = new double[n];
      boolean[] y = new boolean[n];
      for (int i = 0; i < n; i++) {
        s[i] = r.nextInt(8) / 8.0; // many ties
        y[i] = r.nextBoolean();
      }
      double pairs = 0;
      double good = 0;
      for (int i = 0; i < n; i++) {
        for (int j = 0; j < n; j++) {
          if (y[i] && !y[j]) {
            pairs++;
            good += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
          }
        }
      }
      double auc = Metrics.rocAuc(s, y, n);
      if (pairs == 0) {
        assertTrue(Double.isNaN(auc));
      } else {
        assertEquals(good / pairs, auc, 1e-12);
      }
    }
  }
}
