package io.dynamicfs.policy.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The engine's placement decision: free space first, then only clear winners replace the weakest. */
class ScoredTierTest {
  @Test
  void access_candidateWithinMarginOfVictims_isNotPromoted() {
    Map<Long, Double> score = new HashMap<>();
    ScoredTier t = new ScoredTier("m", 3, (k, now) -> score.getOrDefault(k, 0.0), 8, 0.1, 1, new TierMoves(10));
    score.put(1L, 0.5);
    score.put(2L, 0.6);
    score.put(3L, 0.7);
    score.put(4L, 0.55); // beats 1 by 0.05 < margin
    score.put(5L, 0.65); // beats 1 by 0.15
    for (long k = 1; k <= 3; k++) {
      assertFalse(t.access(k, 1, k)); // free space: admitted
    }
    assertFalse(t.access(4, 1, 4));
    assertFalse(t.resident(4));
    assertFalse(t.access(5, 1, 5));
    assertTrue(t.resident(5));
    assertFalse(t.resident(1), "the lowest-scored resident made room");
    assertTrue(t.access(5, 1, 6));
    assertEquals(4, t.moves().promotions());
    assertEquals(1, t.moves().demotions());
  }

  @Test
  void access_largeCandidate_needsEveryVictimItDisplacesBeaten() {
    Map<Long, Double> score = new HashMap<>(Map.of(1L, 0.1, 2L, 0.9, 3L, 0.5));
    ScoredTier t = new ScoredTier("m", 4, (k, now) -> score.getOrDefault(k, 0.0), 8, 0.0, 1, new TierMoves(10));
    t.access(1, 2, 0);
    t.access(2, 2, 1);
    assertFalse(t.access(3, 3, 2)); // needs 3 bytes: would push out 1 (0.1) and 2 (0.9): 0.5 does not beat 0.9
    assertTrue(t.resident(1) && t.resident(2) && !t.resident(3));
    score.put(3L, 0.95);
    t.access(3, 3, 3);
    assertTrue(t.resident(3) && !t.resident(1) && !t.resident(2));
    assertEquals(3, t.used());
  }

  @Test
  void access_withWindow_secondReadHitsThenTheModelDecidesOnLeaving() {
    Map<Long, Double> score = new HashMap<>(Map.of(1L, 0.9, 2L, 0.8, 3L, 0.1, 4L, 0.95));
    // 10 bytes: a 2-byte window and an 8-byte main part
    ScoredTier t = new ScoredTier("m", 10, 0.2, 0, (k, now) -> score.getOrDefault(k, 0.0), 8, 0.0, 1, new TierMoves(100));
    t.access(1, 4, 0);
    t.access(2, 4, 1); // 1 left the window for main (free room)
    assertTrue(t.access(2, 4, 2), "a key read again while in the window hits");
    t.access(3, 2, 3); // 2 leaves the window into main's last free bytes; 3 stays in the window
    assertTrue(t.resident(1) && t.resident(2) && t.resident(3));
    assertEquals(10, t.used());
    t.access(4, 2, 4); // 3 leaves the window: 0.1 beats nobody, it goes back down
    assertFalse(t.resident(3));
    assertTrue(t.resident(4));
    score.put(5L, 0.99);
    t.access(5, 2, 5); // 4 (0.95) leaves the window and beats 2 (0.8): 2 goes
    assertFalse(t.resident(2));
    assertTrue(t.resident(4) && t.resident(5) && t.resident(1));
    assertEquals(8, t.used());
  }
}
