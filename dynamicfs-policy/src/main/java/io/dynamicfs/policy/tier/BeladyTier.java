package io.dynamicfs.policy.tier;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * Belady's MIN, the offline bound: it knows when each key is read next. A miss is promoted only if it is
 * read again sooner than the resident keys it would push out, and those (read furthest in the future) are
 * demoted. With keys of one size this is the optimum hit ratio; with sizes it is the classic bound
 * heuristic (the exact byte optimum is NP-hard), still far ahead of any online policy.
 *
 * <p>Fed with the future: {@code nextUse[i]} is the time of the access after the {@code i}-th one to the
 * same key ({@link Long#MAX_VALUE}: never), and accesses must arrive in that order.
 */
public final class BeladyTier extends ByteTier {
  private static final class Entry {
    final long key;
    final int bytes;
    long next;

    Entry(long key, int bytes, long next) {
      this.key = key;
      this.bytes = bytes;
      this.next = next;
    }
  }

  private final long[] nextUse;
  private final Map<Long, Entry> entries = new HashMap<>();
  private final Map<Long, Long> nextOf = new HashMap<>();
  private final TreeSet<Entry> byNext = new TreeSet<>((a, b) -> {
    int c = Long.compare(b.next, a.next); // furthest first
    return c != 0 ? c : Long.compare(a.key, b.key);
  });
  private int index;

  public BeladyTier(long capacity, long[] nextUse, TierMoves moves) {
    super("Belady", capacity, moves);
    this.nextUse = nextUse;
  }

  @Override
  public boolean access(long key, int bytes, long now) {
    long next = nextUse[index++];
    nextOf.put(key, next);
    Entry e = entries.get(key);
    if (e != null) {
      byNext.remove(e);
      e.next = next;
      byNext.add(e);
      return true;
    }
    if (next == Long.MAX_VALUE || bytes > capacity) {
      return false;
    }
    long need = used + bytes - capacity;
    if (need > 0) {
      long freeable = 0;
      for (Entry v : byNext) { // furthest first
        if (v.next <= next) {
          break;
        }
        freeable += v.bytes;
        if (freeable >= need) {
          break;
        }
      }
      if (freeable < need) {
        return false; // everything resident is needed sooner: bypass
      }
      while (used + bytes > capacity) {
        Entry v = byNext.pollFirst();
        entries.remove(v.key);
        demote(v.key, v.bytes, now);
      }
    }
    e = new Entry(key, bytes, next);
    entries.put(key, e);
    byNext.add(e);
    promote(key, bytes, now);
    return false;
  }

  /** The oracle's score, in (0, 1]: higher the sooner the key is read again (residency plays no part). */
  @Override
  public double score(long key, long now) {
    Long next = nextOf.get(key);
    if (next == null || next == Long.MAX_VALUE) {
      return 0;
    }
    return 1.0 / (1 + Math.max(0, next - now));
  }
}
