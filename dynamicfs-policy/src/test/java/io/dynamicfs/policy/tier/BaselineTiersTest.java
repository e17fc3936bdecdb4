package io.dynamicfs.policy.tier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.LongFunction;
import org.junit.jupiter.api.Test;

/** Each baseline against a short sequence worked out by hand, then all of them against shared invariants. */
class BaselineTiersTest {
  private static boolean[] play(FastTier tier, long... keys) {
    boolean[] hits = new boolean[keys.length];
    for (int i = 0; i < keys.length; i++) {
      hits[i] = tier.access(keys[i], 1, i);
    }
    return hits;
  }

  private static boolean[] hitsAt(int n, int... at) {
    boolean[] h = new boolean[n];
    for (int i : at) {
      h[i] = true;
    }
    return h;
  }

  @Test
  void lru_handSequence_evictsLeastRecentlyUsed() {
    LruTier lru = new LruTier(3, new TierMoves(100));
    // 1 2 3 | 1 hit | 4 evicts 2 | 2 evicts 3 | 5 evicts 1 | 1 evicts 4
    assertArrayEquals(hitsAt(8, 3), play(lru, 1, 2, 3, 1, 4, 2, 5, 1));
    assertEquals(7, lru.moves().promotions());
    assertEquals(4, lru.moves().demotions());
    assertTrue(lru.score(2, 8) >= 1 && lru.score(5, 8) >= 1 && lru.score(1, 8) >= 1);
    assertEquals(0, lru.score(4, 8));
    assertEquals(3, lru.used());
  }

  @Test
  void lfuAged_handSequence_oldFrequencyAgesOut() {
    LfuTier lfu = new LfuTier(3, new TierMoves(100));
    // 1 (pri 1) 1 hit (pri 2) 2 (1) 3 (1) | 4 evicts 2, age 1, pri 2 | 2 evicts 3, pri 2
    // | 5: all at priority 2, key 1's was set first: 1 goes although it was read twice; age 2
    assertArrayEquals(hitsAt(7, 1), play(lfu, 1, 1, 2, 3, 4, 2, 5));
    assertEquals(0, lfu.score(1, 7));
    assertTrue(lfu.score(4, 7) >= 1 && lfu.score(2, 7) >= 1 && lfu.score(5, 7) >= 1);
  }

  @Test
  void arc_handSequence_ghostHitsMoveTheTarget() {
    ArcTier arc = new ArcTier(2, new TierMoves(100));
    assertArrayEquals(hitsAt(8, 2, 6), play(arc, 1, 2, 1, 3, 2, 1, 2, 3));
    // traced by hand: T2 = {2, 3}, B2 = {1}, p = 1 after the last ghost hit in B1
    assertEquals(1.0, arc.target());
    assertEquals(1.5, arc.score(2, 8));
    assertEquals(1.5, arc.score(3, 8));
    assertEquals(0.5, arc.score(1, 8));
    assertEquals(2, arc.used());
  }

  @Test
  void s3fifo_handSequence_oneHitWondersLeaveGhostsReturnToMain() {
    S3FifoTier s3 = new S3FifoTier(10, new TierMoves(100));
    long[] keys = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 11, 2, 3};
    // 1..10 fill the small queue; 1 is read again (freq 1); 11 pushes 1 on to main and 2 out (ghost);
    // 2 and 3 come back from the ghost straight into main, pushing 3 then 4 out of small
    assertArrayEquals(hitsAt(14, 10), play(s3, keys));
    assertEquals(1.5, s3.score(1, 14));
    assertEquals(1.5, s3.score(2, 14));
    assertEquals(1.5, s3.score(3, 14));
    assertEquals(1.0, s3.score(5, 14));
    assertEquals(0.5, s3.score(4, 14));
    assertEquals(0, s3.score(99, 14));
    assertEquals(13, s3.moves().promotions());
    assertEquals(3, s3.moves().demotions());
  }

  @Test
  void wTinyLfu_handSequence_admitsOnlyWhatIsMoreFrequentThanTheVictim() {
    WTinyLfuTier w = new WTinyLfuTier(100, 4096, new TierMoves(1000));
    long t = 0;
    for (long k = 1; k <= 100; k++) {
      w.access(k, 1, t++); // 1..99 fill main's probation through the one-key window; 100 sits in the window
    }
    assertFalse(w.access(101, 1, t++)); // 100 leaves the window: as frequent as victim 1, so it is dropped
    assertTrue(w.access(5, 1, t++)); // probation hit: 5 becomes protected
    assertFalse(w.access(200, 1, t++)); // 101 leaves the window, loses to 1 as well
    assertTrue(w.access(200, 1, t++));
    assertTrue(w.access(200, 1, t++));
    assertFalse(w.access(300, 1, t++)); // 200 (read 3 times) beats victim 1 (once): 1 goes, 200 joins
    assertTrue(w.score(100, t) < 1, "100 was not admitted");
    assertTrue(w.score(101, t) < 1, "101 was not admitted");
    assertTrue(w.score(1, t) < 1, "1 was the victim");
    assertTrue(w.score(200, t) >= 1, "200 was admitted");
    assertTrue(w.score(5, t) >= 1.5, "5 is protected");
    assertEquals(100, w.used());
  }

  @Test
  void belady_handSequence_keepsWhatIsReadSoonest() {
    long[] keys = {1, 2, 3, 1, 2, 3};
    BeladyTier b = new BeladyTier(2, nextUse(keys), new TierMoves(100));
    // 3 is read again later than both residents: bypassed; 1 and 2 then hit; LRU would hit nothing
    assertArrayEquals(hitsAt(6, 3, 4), play(b, keys));
    assertArrayEquals(new boolean[6], play(new LruTier(2, new TierMoves(100)), keys));
  }

  static long[] nextUse(long[] keys) {
    long[] next = new long[keys.length];
    Map<Long, Integer> later = new HashMap<>();
    for (int i = keys.length - 1; i >= 0; i--) {
      Integer n = later.put(keys[i], i);
      next[i] = n == null ? Long.MAX_VALUE : n;
    }
    return next;
  }

  private static List<FastTier> all(long capacity, long[] keys) {
    return List.of(new LruTier(capacity, new TierMoves(100)), new LfuTier(capacity, new TierMoves(100)),
        new ArcTier(capacity, new TierMoves(100)), new S3FifoTier(capacity, new TierMoves(100)),
        new WTinyLfuTier(capacity, 256, new TierMoves(100)),
        new ScoredTier("scored", capacity, (k, now) -> 1.0 / (1 + k), 4, 0.0, 3, new TierMoves(100)),
        new BeladyTier(capacity, nextUse(keys), new TierMoves(100)));
  }

  private static long[] zipf(SplittableRandom r, int n, int universe) {
    long[] keys = new long[n];
    for (int i = 0; i < n; i++) {
      keys[i] = (long) Math.floor(Math.pow(universe, r.nextDouble())); // heavy-headed over 1..universe
    }
    return keys;
  }

  @Test
  void everyTier_randomSequences_staysWithinCapacityAndHitsOnlyWhatItHolds() {
    SplittableRandom r = new SplittableRandom(7);
    for (int round = 0; round < 20; round++) {
      long[] keys = zipf(r, 3000, 400);
      long capacity = 5 + r.nextInt(300);
      LongFunction<Integer> size = k -> 1 + (int) Math.floorMod(k * 7919, 13);
      for (FastTier tier : all(capacity, keys)) {
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < keys.length; i++) {
          boolean hit = tier.access(keys[i], size.apply(keys[i]), i);
          assertTrue(!hit || seen.contains(keys[i]), tier.name() + " hit a key never read before");
          assertTrue(tier.used() <= tier.capacity(), tier.name() + " over capacity: " + tier.used());
          assertTrue(tier.used() >= 0, tier.name());
          seen.add(keys[i]);
        }
        TierMoves m = tier.moves();
        assertEquals(tier.used(), m.bytesPromoted() - (m.bytesMoved() - m.bytesPromoted()),
            tier.name() + ": promoted minus demoted bytes must be what is resident");
      }
    }
  }

  @Test
  void belady_uniformSizes_hitsAtLeastAsOftenAsEveryOnlinePolicy() {
    SplittableRandom r = new SplittableRandom(11);
    for (int round = 0; round < 20; round++) {
      long[] keys = zipf(r, 4000, 600);
      long capacity = 5 + r.nextInt(200);
      List<FastTier> tiers = all(capacity, keys);
      int[] hits = new int[tiers.size()];
      for (int p = 0; p < tiers.size(); p++) {
        for (int i = 0; i < keys.length; i++) {
          if (tiers.get(p).access(keys[i], 1, i)) {
            hits[p]++;
          }
        }
      }
      int belady = hits[tiers.size() - 1];
      List<String> beaten = new ArrayList<>();
      for (int p = 0; p < tiers.size() - 1; p++) {
        if (hits[p] > belady) {
          beaten.add(tiers.get(p).name() + "=" + hits[p]);
        }
      }
      assertTrue(beaten.isEmpty(), "Belady " + belady + " beaten by " + beaten + " at capacity " + capacity);
    }
  }

  @Test
  void everyTier_keyLargerThanTheTier_isNeverPromoted() {
    long[] keys = {1, 1, 1};
    for (FastTier tier : all(10, keys)) {
      for (int i = 0; i < 3; i++) {
        assertFalse(tier.access(1, 11, i), tier.name());
      }
      assertEquals(0, tier.used(), tier.name());
      assertEquals(0, tier.moves().promotions(), tier.name());
    }
  }

  @Test
  void tierMoves_promotionSoonAfterDemotion_countsAsPingPong() {
    TierMoves m = new TierMoves(10);
    m.promoted(1, 5, 0);
    m.demoted(1, 5, 3);
    m.promoted(1, 5, 12); // 9 ticks after going down: ping-pong
    m.demoted(1, 5, 13);
    m.promoted(1, 5, 40); // 27 ticks: not
    assertEquals(1, m.pingPong());
    assertEquals(25, m.bytesMoved());
  }
}
