package io.dynamicfs.policy.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.policy.model.Features;
import io.dynamicfs.policy.model.Predictor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The model trained on a mount's own accesses (through {@link MountTracker}, on a virtual clock): where the
 * access-count heuristics are misled, a model goes live through the gate, predicts for new accesses, and is
 * kept across a reopen.
 */
class MountTrainingTest {
  private static final int BS = 64 << 10;
  private static final Duration H = Duration.ofSeconds(10);
  private static final MountTracker.Settings SETTINGS = new MountTracker.Settings(10_000, 50_000, 100_000, 1 << 16,
      Duration.ofHours(1), H);

  @TempDir Path tmp;

  /**
   * Twenty files read once a second (re-read within the horizon), twenty logs appended to ten times a second
   * and never read, and a stream of files read once: the logs have the most accesses, the most recent ones
   * and the highest decayed counts, so every tracker heuristic ranks them first, wrongly.
   */
  private static void play(MountTracker t, AtomicLong clock, long fromSecond, long toSecond) {
    long coldIno = 1_000_000 + fromSecond * 100;
    for (long s = fromSecond; s < toSecond; s++) {
      for (int tenth = 0; tenth < 10; tenth++) {
        long ms = s * 1000 + tenth * 100;
        clock.set(ms);
        long nanos = ms * 1_000_000L;
        for (int log = 0; log < 20; log++) {
          t.write(100 + log, s * 4096 + tenth * 400, 400, nanos);
        }
        t.read(coldIno++, 0, 4096, nanos);
        if (tenth == 0) {
          for (int hot = 0; hot < 20; hot++) {
            t.read(1 + hot, 0, 4096, nanos);
          }
        }
      }
      t.flush();
    }
  }

  private static double score(MountTracker t, long ino, long nowMs) {
    Predictor p = t.predictor();
    return t.query(tr -> {
      double[] x = new double[Features.COUNT];
      new Features(tr, H.toMillis()).extract(ino, MountTracker.extentKey(ino, 0), nowMs, x);
      return p.score(x);
    });
  }

  @Test
  void aModelPassesTheGateOnTheMountsOwnAccesses_andIsKeptAcrossAReopen() throws Exception {
    AtomicLong clock = new AtomicLong(0);
    Path dir = tmp.resolve("policy");
    Predictor live;
    try (MountTracker t = MountTracker.open(dir, BS, SETTINGS, clock::get)) {
      assertSame(Predictor.INITIAL, t.predictor());
      play(t, clock, 0, 29);
      MountTraining.Status early = t.training();
      assertEquals(2, early.window());
      assertEquals(0, early.rounds(), "no gate round before the third window");
      play(t, clock, 29, 71);
      MountTraining.Status s = t.training();
      assertEquals(7, s.window());
      assertTrue(s.rounds() >= 4, "a round at the start of each window from the third: " + s);
      MountTraining.Round last = s.lastRound();
      assertNotNull(last);
      assertTrue(last.candidatePrAuc() > last.bestHeuristicPrAuc() + 0.1,
          "the model sees what the heuristics miss: " + last);
      live = t.predictor();
      assertNotNull(live.model(), "a model decides: " + last);
      assertTrue(live.heldOut() > 0.9, "its held-out PR-AUC: " + live.heldOut());
      long now = clock.get();
      double hot = score(t, 5, now);
      double log = score(t, 105, now);
      assertTrue(hot > 0.8 && log < 0.2, "hot file " + hot + ", appended log " + log);
      assertTrue(s.rows() <= (2 + 6 + 1) * 2 * MountTraining.SAMPLES_PER_WINDOW, "rows are bounded: " + s.rows());
    }
    assertTrue(Files.exists(dir.resolve(MountTracker.MODEL_FILE)));
    try (MountTracker again = MountTracker.open(dir, BS, SETTINGS, clock::get)) {
      Predictor kept = again.predictor();
      assertNotNull(kept.model());
      assertEquals(live.model().version(), kept.model().version());
      assertEquals(live.heldOut(), kept.heldOut());
      assertEquals(0, again.training().rounds());
      assertNull(again.status().loadProblem());
    }
    try (MountTracker other = MountTracker.open(dir, BS, SETTINGS.withHorizon(Duration.ofMinutes(5)), clock::get)) {
      assertSame(Predictor.INITIAL, other.predictor(), "a model for another horizon is not used");
      assertTrue(other.status().loadProblem().contains("horizon"), other.status().loadProblem());
    }
  }

  @Test
  void aDamagedModelFile_isSetAside_andTheHeuristicDecides() throws Exception {
    Path dir = tmp.resolve("policy");
    Files.createDirectories(dir);
    Files.write(dir.resolve(MountTracker.MODEL_FILE), "DFSMODEL but not really a model".getBytes());
    try (MountTracker t = MountTracker.open(dir, BS, SETTINGS, () -> 0L)) {
      assertSame(Predictor.INITIAL, t.predictor());
      assertTrue(t.status().loadProblem().contains("checksum"), t.status().loadProblem());
      assertTrue(Files.exists(dir.resolve(MountTracker.MODEL_FILE + ".bad")));
    }
  }
}
