package io.dynamicfs.policy.tier;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * W-TinyLFU (Einziger, Friedman and Manes, the policy of Caffeine) counted in bytes: new keys enter an LRU
 * window of 1 % of the bytes; a key leaving the window joins the main space (a segmented LRU: probation,
 * then protected, 80 % of main) only if a frequency sketch says it is read more often than the probation
 * keys it would push out; otherwise it is the one demoted.
 */
public final class WTinyLfuTier extends ByteTier {
  private final long windowTarget;
  private final long protectedTarget;
  private final long mainTarget;
  private final FrequencySketch sketch;
  private final LinkedHashMap<Long, Integer> window = new LinkedHashMap<>(256, 0.75f, true);
  private final LinkedHashMap<Long, Integer> probation = new LinkedHashMap<>(256, 0.75f, true);
  private final LinkedHashMap<Long, Integer> protectedSeg = new LinkedHashMap<>(256, 0.75f, true);
  private long windowBytes;
  private long probationBytes;
  private long protectedBytes;

  /** {@code expectedKeys}: about how many keys the tier holds (sizes the sketch). */
  public WTinyLfuTier(long capacity, int expectedKeys, TierMoves moves) {
    super("W-TinyLFU", capacity, moves);
    this.windowTarget = Math.max(1, capacity / 100);
    this.mainTarget = capacity - windowTarget;
    this.protectedTarget = mainTarget * 8 / 10;
    this.sketch = new FrequencySketch(expectedKeys);
  }

  @Override
  public boolean access(long key, int bytes, long now) {
    sketch.increment(key);
    if (window.get(key) != null) {
      return true;
    }
    Integer size = probation.remove(key);
    if (size != null) {
      probationBytes -= size;
      protectedSeg.put(key, size);
      protectedBytes += size;
      while (protectedBytes > protectedTarget) {
        var it = protectedSeg.entrySet().iterator();
        Map.Entry<Long, Integer> e = it.next();
        it.remove();
        protectedBytes -= e.getValue();
        probation.put(e.getKey(), e.getValue());
        probationBytes += e.getValue();
      }
      return true;
    }
    if (protectedSeg.get(key) != null) {
      return true;
    }
    if (bytes > capacity) {
      return false;
    }
    window.put(key, bytes);
    windowBytes += bytes;
    promote(key, bytes, now);
    while (windowBytes > windowTarget && !window.isEmpty()) {
      var it = window.entrySet().iterator();
      Map.Entry<Long, Integer> e = it.next();
      it.remove();
      windowBytes -= e.getValue();
      admitToMain(e.getKey(), e.getValue(), now);
    }
    while (used > capacity) { // only when the window holds a key larger than the main space
      evictMainLru(now);
    }
    return false;
  }

  /** The window's LRU key {@code candidate} asks to join main: it wins only against less frequent victims. */
  private void admitToMain(long candidate, int bytes, long now) {
    long free = mainTarget - probationBytes - protectedBytes;
    if (bytes <= free) {
      probation.put(candidate, bytes);
      probationBytes += bytes;
      return;
    }
    int candidateFreq = sketch.frequency(candidate);
    long freed = 0;
    int victims = 0;
    var it = probation.entrySet().iterator(); // LRU first; reading through the iterator keeps the order
    while (free + freed < bytes && it.hasNext()) {
      Map.Entry<Long, Integer> victim = it.next();
      if (sketch.frequency(victim.getKey()) >= candidateFreq) {
        break;
      }
      freed += victim.getValue();
      victims++;
    }
    if (probation.isEmpty() && bytes > free) {
      var pit = protectedSeg.entrySet().iterator();
      while (free + freed < bytes && pit.hasNext()) {
        Map.Entry<Long, Integer> victim = pit.next();
        if (sketch.frequency(victim.getKey()) >= candidateFreq) {
          break;
        }
        freed += victim.getValue();
        victims++;
      }
    }
    if (free + freed < bytes) {
      demote(candidate, bytes, now); // the candidate loses: it leaves the fast tier
      return;
    }
    for (int i = 0; i < victims; i++) {
      evictMainLru(now);
    }
    probation.put(candidate, bytes);
    probationBytes += bytes;
  }

  private void evictMainLru(long now) {
    LinkedHashMap<Long, Integer> from = probation.isEmpty() ? protectedSeg : probation;
    var it = from.entrySet().iterator();
    Map.Entry<Long, Integer> e = it.next();
    it.remove();
    if (from == probation) {
      probationBytes -= e.getValue();
    } else {
      protectedBytes -= e.getValue();
    }
    demote(e.getKey(), e.getValue(), now);
  }

  @Override
  public double score(long key, long now) {
    double f = sketch.frequency(key) / 16.0;
    if (protectedSeg.containsKey(key)) {
      return 1.5 + f / 2;
    }
    if (probation.containsKey(key) || window.containsKey(key)) {
      return 1.0 + f / 2;
    }
    return f;
  }
}
