package io.dynamicfs.policy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LogisticModelTest {
  @Test
  void train_separableSet_classifiesEveryRowAndWeighsTheDecidingFeature() {
    SplittableRandom r = new SplittableRandom(5);
    int n = 400;
    double[][] x = new double[n][3];
    boolean[] y = new boolean[n];
    for (int i = 0; i < n; i++) {
      x[i][0] = r.nextDouble() * 10; // decides: positive iff x0 + 0.5 x1 > 6
      x[i][1] = r.nextDouble() * 4;
      x[i][2] = r.nextGaussian(); // noise
      y[i] = x[i][0] + 0.5 * x[i][1] > 6;
      if (Math.abs(x[i][0] + 0.5 * x[i][1] - 6) < 0.3) { // a margin keeps the set separable
        x[i][0] += y[i] ? 0.6 : -0.6;
      }
    }
    LogisticModel m = LogisticModel.train(x, y, n, 0.01, 1);
    int wrong = 0;
    for (int i = 0; i < n; i++) {
      if ((m.predict(x[i]) > 0.5) != y[i]) {
        wrong++;
      }
    }
    assertEquals(0, wrong);
    double[] w = m.weights();
    assertTrue(w[0] > 0 && w[1] > 0, "both deciding features push towards positive");
    assertTrue(Math.abs(w[2]) < w[0] / 5, "noise weighs little: " + w[2] + " vs " + w[0]);
    assertEquals(1, m.version());
  }

  @Test
  void contributions_addUpWithTheBiasToTheLogOdds() {
    double[][] x = {{0, 1}, {1, 3}, {2, 2}, {3, 5}, {4, 4}, {5, 1}, {0.5, 2}, {3.5, 0}};
    boolean[] y = {false, false, true, true, true, false, false, true};
    LogisticModel m = LogisticModel.train(x, y, x.length, 1.0, 2);
    for (double[] row : x) {
      double logit = m.bias();
      for (double c : m.contributions(row)) {
        logit += c;
      }
      assertEquals(m.predict(row), 1 / (1 + Math.exp(-logit)), 1e-12);
    }
  }

  @Test
  void train_constantFeature_getsZeroWeight() {
    double[][] x = {{1, 7}, {2, 7}, {3, 7}, {4, 7}};
    boolean[] y = {false, false, true, true};
    LogisticModel m = LogisticModel.train(x, y, 4, 1.0, 1);
    assertEquals(0, m.weights()[1]);
    assertTrue(m.predict(new double[] {4, 7}) > m.predict(new double[] {1, 7}));
  }
}
