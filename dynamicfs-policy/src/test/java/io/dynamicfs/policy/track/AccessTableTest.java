package io.dynamicfs.policy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AccessTableTest {
  @Test
  void counter_oneAccess_halvesEveryHalfLife() {
    AccessTable t = new AccessTable(16, 10, 1000);
    t.record(5, 100, 4096, false, false);
    int s = t.find(5);
    assertEquals(1.0, t.counter(s, 0, 100), 1e-9);
    assertEquals(0.5, t.counter(s, 0, 110), 1e-6);
    assertEquals(0.25, t.counter(s, 0, 120), 1e-6);
    assertEquals(Math.pow(2, -20 / 1000.0), t.counter(s, 1, 120), 1e-6);
  }

  /** The table against a plain model (every access time kept), over random keys and times. */
  @Test
  void record_randomAccesses_matchesExactSumOfDecayedAccesses() {
    SplittableRandom r = new SplittableRandom(21);
    double[] halfLives = {7, 60, 900};
    AccessTable t = new AccessTable(1000, halfLives);
    Map<Long, List<Long>> times = new HashMap<>();
    Map<Long, Long> bytes = new HashMap<>();
    long now = 0;
    for (int i = 0; i < 5000; i++) {
      now += r.nextInt(5);
      long key = r.nextInt(300) - 150; // negative keys too
      int len = 1 + r.nextInt(9000);
      t.record(key, now, len, r.nextBoolean(), false);
      times.computeIfAbsent(key, k -> new ArrayList<>()).add(now);
      bytes.merge(key, (long) len, Long::sum);
    }
    long at = now + 37;
    assertEquals(times.size(), t.size());
    for (Map.Entry<Long, List<Long>> e : times.entrySet()) {
      int s = t.find(e.getKey());
      assertTrue(s >= 0, "key " + e.getKey());
      List<Long> ts = e.getValue();
      assertEquals(ts.size(), t.accesses(s));
      assertEquals(ts.get(ts.size() - 1), t.lastAccess(s));
      assertEquals(ts.get(0), t.firstAccess(s));
      assertEquals(bytes.get(e.getKey()), t.bytes(s));
      for (int h = 0; h < halfLives.length; h++) {
        double exact = 0;
        for (long x : ts) {
          exact += Math.pow(2, -(at - x) / halfLives[h]);
        }
        assertEquals(exact, t.counter(s, h, at), 1e-4 * Math.max(1, exact), "key " + e.getKey() + " counter " + h);
      }
    }
  }

  @Test
  void record_moreKeysThanCapacity_staysBoundedAndKeepsTheHotKeys() {
    AccessTable t = new AccessTable(100, 50, 5000);
    SplittableRandom r = new SplittableRandom(4);
    long now = 0;
    for (int i = 0; i < 50_000; i++) {
      now++;
      long key = r.nextInt(10) < 5 ? r.nextInt(20) : 1000 + r.nextInt(100_000); // 20 hot keys, a cold flood
      t.record(key, now, 1, false, false);
      assertTrue(t.size() <= 100);
    }
    assertEquals(100, t.size());
    assertTrue(t.evictions() > 20_000, "evictions " + t.evictions());
    int hotKept = 0;
    for (long k = 0; k < 20; k++) {
      if (t.find(k) >= 0) {
        hotKept++;
      }
    }
    assertTrue(hotKept >= 18, "hot keys kept: " + hotKept + " of 20");
  }

  /** Backward-shift deletion keeps every remaining key findable (random inserts and evictions in a tiny table). */
  @Test
  void evict_randomChurn_everyKeptKeyStaysFindable() {
    SplittableRandom r = new SplittableRandom(9);
    AccessTable t = new AccessTable(12, 10);
    Map<Long, Integer> lastSeen = new HashMap<>();
    for (int i = 0; i < 20_000; i++) {
      long key = r.nextInt(40);
      t.record(key, i, 1, false, false);
      lastSeen.put(key, i);
      int found = 0;
      for (int s = 0; s < t.slots(); s++) {
        if (t.occupied(s)) {
          found++;
          assertEquals(s, t.find(t.key(s)), "key " + t.key(s) + " not reachable from its home slot");
        }
      }
      assertEquals(t.size(), found);
      assertTrue(t.find(key) >= 0, "the key just recorded is held");
    }
  }

  @Test
  void sequentialRatio_countsAccessesFlaggedSequential() {
    AccessTable t = new AccessTable(16, 10);
    t.record(1, 0, 1, false, false);
    t.record(1, 1, 1, false, true);
    t.record(1, 2, 1, false, true);
    t.record(1, 3, 1, true, false);
    int s = t.find(1);
    assertEquals(0.5, t.sequentialRatio(s), 1e-12);
    assertEquals(1, t.writes(s));
  }

  @Test
  void constructor_badSettings_refusedWithTheReason() {
    assertThrows(IllegalArgumentException.class, () -> new AccessTable(2, 10));
    assertThrows(IllegalArgumentException.class, () -> new AccessTable(100));
    assertThrows(IllegalArgumentException.class, () -> new AccessTable(100, 0));
  }
}
