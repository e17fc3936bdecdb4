package io.dynamicfs.policy.tier;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Adaptive Replacement Cache (Megiddo and Modha, FAST 2003) counted in bytes: T1 holds keys seen once
 * recently, T2 keys seen at least twice; ghost lists B1 and B2 remember keys demoted from each; a hit in a
 * ghost list moves the target size {@code p} of T1 towards the list that would have kept it. All four
 * lists are kept in LRU order (oldest first).
 */
public final class ArcTier extends ByteTier {
  private final LinkedHashMap<Long, Integer> t1 = new LinkedHashMap<>();
  private final LinkedHashMap<Long, Integer> t2 = new LinkedHashMap<>();
  private final LinkedHashMap<Long, Integer> b1 = new LinkedHashMap<>();
  private final LinkedHashMap<Long, Integer> b2 = new LinkedHashMap<>();
  private long t1Bytes;
  private long t2Bytes;
  private long b1Bytes;
  private long b2Bytes;
  private double p;

  public ArcTier(long capacity, TierMoves moves) {
    super("ARC", capacity, moves);
  }

  @Override
  public boolean access(long key, int bytes, long now) {
    Integer size = t1.remove(key);
    if (size != null) {
      t1Bytes -= size;
      t2.put(key, size);
      t2Bytes += size;
      return true;
    }
    size = t2.remove(key);
    if (size != null) {
      t2.put(key, size); // to the MRU end
      return true;
    }
    if (bytes > capacity) {
      return false;
    }
    size = b1.remove(key);
    if (size != null) {
      b1Bytes -= size;
      p = Math.min(capacity, p + Math.max(1.0, (double) b2Bytes / Math.max(1, b1Bytes + size)) * bytes);
      replace(false, bytes, now);
      t2.put(key, bytes);
      t2Bytes += bytes;
      promote(key, bytes, now);
      return false;
    }
    size = b2.remove(key);
    if (size != null) {
      b2Bytes -= size;
      p = Math.max(0, p - Math.max(1.0, (double) b1Bytes / Math.max(1, b2Bytes + size)) * bytes);
      replace(true, bytes, now);
      t2.put(key, bytes);
      t2Bytes += bytes;
      promote(key, bytes, now);
      return false;
    }
    // a key in no list
    if (t1Bytes + b1Bytes + bytes > capacity) {
      while (!b1.isEmpty() && t1Bytes + b1Bytes + bytes > capacity) {
        b1Bytes -= pollFirst(b1);
      }
      while (t1Bytes + b1Bytes + bytes > capacity && !t1.isEmpty()) {
        long victim = t1.keySet().iterator().next();
        int vb = t1.remove(victim);
        t1Bytes -= vb;
        demote(victim, vb, now);
      }
    } else {
      while (!b2.isEmpty() && t1Bytes + t2Bytes + b1Bytes + b2Bytes + bytes > 2 * capacity) {
        b2Bytes -= pollFirst(b2);
      }
    }
    replace(false, bytes, now);
    t1.put(key, bytes);
    t1Bytes += bytes;
    promote(key, bytes, now);
    return false;
  }

  private static int pollFirst(LinkedHashMap<Long, Integer> list) {
    var it = list.entrySet().iterator();
    Map.Entry<Long, Integer> e = it.next();
    it.remove();
    return e.getValue();
  }

  /** Demotes from T1 or T2 (to their ghost lists) until {@code bytes} fit. */
  private void replace(boolean hitInB2, int bytes, long now) {
    while (used + bytes > capacity) {
      boolean fromT1 = !t1.isEmpty() && (t2.isEmpty() || t1Bytes > p || (hitInB2 && t1Bytes >= p));
      LinkedHashMap<Long, Integer> from = fromT1 ? t1 : t2;
      var it = from.entrySet().iterator();
      Map.Entry<Long, Integer> e = it.next();
      it.remove();
      long victim = e.getKey();
      int vb = e.getValue();
      if (fromT1) {
        t1Bytes -= vb;
        b1.put(victim, vb);
        b1Bytes += vb;
      } else {
        t2Bytes -= vb;
        b2.put(victim, vb);
        b2Bytes += vb;
      }
      demote(victim, vb, now);
    }
  }

  @Override
  public double score(long key, long now) {
    if (t2.containsKey(key)) {
      return 1.5;
    }
    if (t1.containsKey(key)) {
      return 1.0;
    }
    if (b2.containsKey(key)) {
      return 0.5;
    }
    return b1.containsKey(key) ? 0.25 : 0;
  }

  /** Target bytes of T1 (for tests). */
  double target() {
    return p;
  }
}
