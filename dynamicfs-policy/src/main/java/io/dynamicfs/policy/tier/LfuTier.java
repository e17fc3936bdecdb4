package io.dynamicfs.policy.tier;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * LFU with dynamic ageing (LFU-DA): a resident key's priority is the tier's age plus its hits; the lowest
 * priority (then the oldest) is demoted and the tier's age becomes its priority, so keys that were
 * frequent long ago eventually lose to newly frequent ones. Every miss is promoted.
 */
public final class LfuTier extends ByteTier {
  private static final class Entry {
    final long key;
    final int bytes;
    double priority;
    long hits;
    long seq;

    Entry(long key, int bytes) {
      this.key = key;
      this.bytes = bytes;
    }
  }

  private final Map<Long, Entry> entries = new HashMap<>();
  private final TreeSet<Entry> byPriority = new TreeSet<>((a, b) -> {
    int c = Double.compare(a.priority, b.priority);
    return c != 0 ? c : Long.compare(a.seq, b.seq);
  });
  private double age;
  private long seq;

  public LfuTier(long capacity, TierMoves moves) {
    super("LFU-aged", capacity, moves);
  }

  @Override
  public boolean access(long key, int bytes, long now) {
    Entry e = entries.get(key);
    if (e != null) {
      byPriority.remove(e);
      e.hits++;
      e.priority = age + e.hits;
      e.seq = seq++;
      byPriority.add(e);
      return true;
    }
    if (bytes > capacity) {
      return false;
    }
    while (used + bytes > capacity) {
      Entry victim = byPriority.pollFirst();
      entries.remove(victim.key);
      age = victim.priority;
      demote(victim.key, victim.bytes, now);
    }
    e = new Entry(key, bytes);
    e.hits = 1;
    e.priority = age + 1;
    e.seq = seq++;
    entries.put(key, e);
    byPriority.add(e);
    promote(key, bytes, now);
    return false;
  }

  @Override
  public double score(long key, long now) {
    Entry e = entries.get(key);
    return e == null ? 0 : 1 + (1 - 1.0 / (1 + e.hits));
  }
}
