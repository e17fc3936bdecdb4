package io.dynamicfs.policy.tier;

import java.util.Iterator;
import java.util.LinkedHashMap;

/** Least recently used: every miss is promoted, the least recently used keys are demoted to make room. */
public final class LruTier extends ByteTier {
  private static final class Entry {
    final int bytes;
    long last;

    Entry(int bytes, long last) {
      this.bytes = bytes;
      this.last = last;
    }
  }

  private final LinkedHashMap<Long, Entry> order = new LinkedHashMap<>(1024, 0.75f, true);

  public LruTier(long capacity, TierMoves moves) {
    super("LRU", capacity, moves);
  }

  @Override
  public boolean access(long key, int bytes, long now) {
    Entry e = order.get(key);
    if (e != null) {
      e.last = now;
      return true;
    }
    if (bytes > capacity) {
      return false;
    }
    Iterator<java.util.Map.Entry<Long, Entry>> it = order.entrySet().iterator();
    while (used + bytes > capacity) {
      java.util.Map.Entry<Long, Entry> victim = it.next();
      it.remove();
      demote(victim.getKey(), victim.getValue().bytes, now);
    }
    order.put(key, new Entry(bytes, now));
    promote(key, bytes, now);
    return false;
  }

  @Override
  public double score(long key, long now) {
    Entry e = order.get(key);
    if (e == null) {
      return 0;
    }
    return 1 + 1.0 / (1 + (double) (now - e.last) / Math.max(1, order.size()));
  }
}
