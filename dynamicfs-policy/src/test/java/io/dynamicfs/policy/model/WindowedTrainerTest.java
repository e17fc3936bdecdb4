package io.dynamicfs.policy.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WindowedTrainerTest {
  private static final long H = 100;

  /**
   * Rows of a window: a key is read again within the horizon exactly when its write share is low. The
   * tracker heuristics (recency, frequency, count) get features unrelated to that, so only a model can tell.
   */
  private static void fill(WindowedTrainer t, Map<Long, Long> lastRead, int window, SplittableRandom r, int rows) {
    for (int i = 0; i < rows; i++) {
      long time = window * H + i * H / rows;
      long key = window * 1_000_000L + i;
      double[] f = new double[Features.COUNT];
      for (int j = 0; j < f.length; j++) {
        f[j] = r.nextDouble();
      }
      boolean reRead = f[8] < 0.4; // extent_write_share
      if (reRead) {
        lastRead.put(key, time + H / 2);
      }
      assertTrue(t.add(key, time, window, 4096, f, new double[0]));
    }
  }

  @Test
  void aModelThatBeatsTheHeuristics_goesLive_andIsKeptWhileItStillWins() {
    WindowedTrainer t = new WindowedTrainer(H, new int[0], new String[0], 100_000);
    Map<Long, Long> lastRead = new HashMap<>();
    SplittableRandom r = new SplittableRandom(7);
    Predictor live = Predictor.INITIAL;
    int[] resolvedKeys = {0};
    for (int w = 0; w < 6; w++) {
      if (w >= 1) {
        t.resolve(w * H, k -> lastRead.getOrDefault(k, Long.MIN_VALUE), k -> resolvedKeys[0]++);
        WindowedTrainer.Round round = t.retrain(w, live.model());
        if (w < 3) {
          assertNull(round, "window " + w + ": no labelled window before the held-out one yet");
        } else {
          assertNotNull(round);
          assertEquals(w - 2, round.heldOut());
          assertTrue(round.candidatePrAuc() > 0.9, "the candidate separates the classes: " + round);
          assertTrue(round.bestHeuristicPrAuc() < 0.7, "the heuristics cannot: " + round);
          if (w == 3) {
            assertEquals(ModelGate.Outcome.CANDIDATE_LIVE, round.outcome());
          }
          if (round.next() != null) {
            live = round.next();
          }
        }
      }
      fill(t, lastRead, w, r, 300);
    }
    assertNotNull(live.model(), "a model decides");
    assertTrue(live.heldOut() > 0.9);
    assertTrue(live.probability());
    assertEquals(t.size(), 1800);
    assertTrue(resolvedKeys[0] > 0 && resolvedKeys[0] == t.resolvedRows());
  }

  @Test
  void whenAHeuristicIsAsGood_itDecides_calibratedIntoAProbability() {
    WindowedTrainer t = new WindowedTrainer(H, new int[0], new String[0], 100_000);
    Map<Long, Long> lastRead = new HashMap<>();
    SplittableRandom r = new SplittableRandom(3);
    WindowedTrainer.Round round = null;
    for (int w = 0; w < 4; w++) {
      t.resolve(w * H, k -> lastRead.getOrDefault(k, Long.MIN_VALUE), null);
      if (w == 3) {
        round = t.retrain(w, null);
      }
      for (int i = 0; i < 300; i++) {
        long time = w * H + i * H / 300;
        long key = w * 1_000_000L + i;
        double[] f = new double[Features.COUNT];
        f[4] = r.nextDouble() * 5; // extent_accesses: re-read exactly when high, which COUNT ranks perfectly
        if (f[4] > 3) {
          lastRead.put(key, time + 1);
        }
        t.add(key, time, w, 4096, f, new double[0]);
      }
    }
    assertNotNull(round);
    assertEquals(1.0, round.bestHeuristicPrAuc(), 1e-9);
    assertEquals(ModelGate.Outcome.HEURISTIC_DECIDES, round.outcome(), "a tie is not a win: " + round);
    Predictor p = round.next();
    assertEquals(Heuristic.COUNT, p.heuristic());
    assertNotNull(p.calibration());
    double[] hot = new double[Features.COUNT];
    hot[4] = 4.5;
    double[] cold = new double[Features.COUNT];
    cold[4] = 0.5;
    assertTrue(p.score(hot) > 0.8 && p.score(cold) < 0.2, p.score(hot) + " " + p.score(cold));
  }

  @Test
  void labels_countOnlyReadsWithinTheHorizon_andWaitForIt() {
    WindowedTrainer t = new WindowedTrainer(H, new int[0], new String[0], 10);
    t.add(1, 0, 0, 1, new double[Features.COUNT], new double[0]);
    t.add(2, 0, 0, 1, new double[Features.COUNT], new double[0]);
    t.add(3, 50, 0, 1, new double[Features.COUNT], new double[0]);
    Map<Long, Long> lastRead = Map.of(1L, 40L, 2L, 0L, 3L, 150L);
    t.resolve(H, k -> lastRead.getOrDefault(k, Long.MIN_VALUE), null);
    assertEquals(0, t.resolvedRows(), "a horizon not yet past labels nothing");
    t.resolve(H + 1, k -> lastRead.getOrDefault(k, Long.MIN_VALUE), null);
    assertEquals(2, t.resolvedRows());
    assertTrue(t.label(0), "read 40 after");
    assertFalse(t.label(1), "the access sampled is not a read after it");
    t.resolve(Long.MAX_VALUE, k -> lastRead.getOrDefault(k, Long.MIN_VALUE), null);
    assertTrue(t.label(2), "read at 150, within 50 + 100");
  }

  @Test
  void forgetBefore_dropsOnlyLabelledRowsOfOlderWindows_andTheRowsAreBounded() {
    WindowedTrainer t = new WindowedTrainer(H, new int[0], new String[0], 5);
    for (int i = 0; i < 5; i++) {
      assertTrue(t.add(i, i * 60L, i / 2, 1, new double[Features.COUNT], new double[0]));
    }
    assertFalse(t.add(9, 400, 3, 1, new double[Features.COUNT], new double[0]), "full");
    t.forgetBefore(2);
    assertEquals(5, t.size(), "nothing labelled yet: nothing dropped");
    t.resolve(230, k -> Long.MIN_VALUE, null); // rows at 0, 60, 120
    t.forgetBefore(2);
    assertEquals(2, t.size(), "the labelled rows of windows 0 and 1 dropped");
    assertEquals(0, t.resolvedRows());
    assertEquals(1, t.window(0), "a row of window 1 not labelled yet stays");
    assertEquals(2, t.window(1));
    assertTrue(t.add(9, 400, 3, 1, new double[Features.COUNT], new double[0]));
  }
}
