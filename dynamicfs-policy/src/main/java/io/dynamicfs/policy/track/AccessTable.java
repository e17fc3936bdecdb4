package io.dynamicfs.policy.track;

import java.util.Arrays;

/**
 * Access statistics per key (a file or a block extent) in a fixed-capacity open-addressing table of
 * primitive arrays: last and first access, decaying counters at several half-lives, accesses, bytes, writes,
 * sequential accesses and the last access's size.
 *
 * <p>{@link #record} is O(1) and allocates nothing: linear probing over a power-of-two table kept at most
 * 3/4 full, no boxing, counters decayed lazily (a counter is stored as of the key's last access and
 * decayed to "now" when read or bumped: {@code c(now) = c(last) * 2^-(now-last)/halfLife}).
 *
 * <p>Memory is bounded by the capacity given at construction. A new key in a full table evicts the
 * least valuable of a few neighbouring entries (the lowest counter at the longest half-life, then the
 * oldest last access), found by probing {@value #EVICTION_SAMPLE} slots from a position that moves on with
 * every eviction: cold keys leave, hot ones stay, and no global order is maintained. Removal shifts the
 * following probe run back, so the table never holds tombstones.
 *
 * <p>Not thread-safe: one writer (the tracker's owner serialises access).
 */
public final class AccessTable {
  static final int EVICTION_SAMPLE = 8;
  private static final double LN2 = Math.log(2);

  private final int capacity;
  private final double[] halfLives;
  private final double[] decayPerTick;
  private final int nCounters;
  private final int mask;
  private final boolean[] used;
  private final long[] keys;
  private final long[] first;
  private final long[] last;
  private final long[] bytes;
  private final int[] count;
  private final int[] writes;
  private final int[] sequential;
  private final int[] lastSize;
  private final float[] counters;
  private int size;
  private int evictCursor;
  private long evictions;

  /**
   * @param capacity  the most keys held (a full table evicts)
   * @param halfLives the counters' half-lives in clock ticks, shortest first
   */
  public AccessTable(int capacity, double... halfLives) {
    if (capacity < EVICTION_SAMPLE || capacity > (1 << 29)) {
      throw new IllegalArgumentException("capacity must be " + EVICTION_SAMPLE + ".." + (1 << 29) + ": " + capacity);
    }
    if (halfLives.length == 0 || halfLives.length > 8) {
      throw new IllegalArgumentException("1 to 8 half-lives, got " + halfLives.length);
    }
    for (double h : halfLives) {
      if (!(h > 0) || Double.isInfinite(h)) {
        throw new IllegalArgumentException("a half-life must be positive and finite: " + h);
      }
    }
    this.capacity = capacity;
    this.halfLives = halfLives.clone();
    this.nCounters = halfLives.length;
    this.decayPerTick = new double[nCounters];
    for (int i = 0; i < nCounters; i++) {
      decayPerTick[i] = LN2 / halfLives[i];
    }
    int slots = Integer.highestOneBit(Math.max(16, capacity + capacity / 3) - 1) << 1;
    this.mask = slots - 1;
    used = new boolean[slots];
    keys = new long[slots];
    first = new long[slots];
    last = new long[slots];
    bytes = new long[slots];
    count = new int[slots];
    writes = new int[slots];
    sequential = new int[slots];
    lastSize = new int[slots];
    counters = new float[slots * nCounters];
  }

  private static int hash(long key) {
    long h = key * 0x9E3779B97F4A7C15L;
    return (int) (h ^ (h >>> 32));
  }

  /** Records one access at {@code time} (never earlier than the key's last access). */
  public void record(long key, long time, int length, boolean write, boolean seq) {
    int slot = find(key);
    if (slot < 0) {
      if (size >= capacity) {
        evictOne(time);
      }
      slot = insert(key);
      first[slot] = time;
      last[slot] = time;
    }
    long dt = Math.max(0, time - last[slot]);
    int base = slot * nCounters;
    for (int i = 0; i < nCounters; i++) {
      counters[base + i] = (float) (counters[base + i] * Math.exp(-dt * decayPerTick[i]) + 1);
    }
    last[slot] = Math.max(last[slot], time);
    bytes[slot] += length;
    lastSize[slot] = length;
    if (count[slot] != Integer.MAX_VALUE) {
      count[slot]++;
      if (write) {
        writes[slot]++;
      }
      if (seq) {
        sequential[slot]++;
      }
    }
  }

  /** The slot holding {@code key}, or -1. */
  public int find(long key) {
    int i = hash(key) & mask;
    while (used[i]) {
      if (keys[i] == key) {
        return i;
      }
      i = (i + 1) & mask;
    }
    return -1;
  }

  private int insert(long key) {
    int i = hash(key) & mask;
    while (used[i]) {
      i = (i + 1) & mask;
    }
    used[i] = true;
    keys[i] = key;
    size++;
    return i;
  }

  private void evictOne(long now) {
    int victim = -1;
    double worst = Double.MAX_VALUE;
    long worstLast = Long.MAX_VALUE;
    int seen = 0;
    int i = evictCursor;
    int longest = nCounters - 1;
    while (seen < EVICTION_SAMPLE) {
      if (used[i]) {
        seen++;
        double v = counter(i, longest, now);
        if (v < worst || (v == worst && last[i] < worstLast)) {
          worst = v;
          worstLast = last[i];
          victim = i;
        }
      }
      i = (i + 1) & mask;
    }
    evictCursor = (i + 0x61C8_8647) & mask; // move on by a large odd stride: spread the samples
    remove(victim);
    evictions++;
  }

  /** Removes the entry in {@code slot}, shifting the rest of its probe run back (no tombstones). */
  private void remove(int slot) {
    int hole = slot;
    int i = (slot + 1) & mask;
    while (used[i]) {
      int home = hash(keys[i]) & mask;
      // move i into the hole if its home is not in the cyclic range (hole, i]
      boolean movable = hole <= i ? (home <= hole || home > i) : (home <= hole && home > i);
      if (movable) {
        copy(i, hole);
        hole = i;
      }
      i = (i + 1) & mask;
    }
    clear(hole);
    size--;
  }

  private void copy(int from, int to) {
    used[to] = true;
    keys[to] = keys[from];
    first[to] = first[from];
    last[to] = last[from];
    bytes[to] = bytes[from];
    count[to] = count[from];
    writes[to] = writes[from];
    sequential[to] = sequential[from];
    lastSize[to] = lastSize[from];
    System.arraycopy(counters, from * nCounters, counters, to * nCounters, nCounters);
  }

  private void clear(int slot) {
    used[slot] = false;
    keys[slot] = 0;
    first[slot] = 0;
    last[slot] = 0;
    bytes[slot] = 0;
    count[slot] = 0;
    writes[slot] = 0;
    sequential[slot] = 0;
    lastSize[slot] = 0;
    Arrays.fill(counters, slot * nCounters, slot * nCounters + nCounters, 0f);
  }

  /** Puts a whole entry back (loading a persisted table); replaces one with the same key. */
  void restore(long key, long firstTime, long lastTime, long totalBytes, int accesses, int writeCount,
      int sequentialCount, int size, float[] values) {
    int slot = find(key);
    if (slot < 0) {
      if (this.size >= capacity) {
        return; // a smaller capacity than the file's: keep what fits
      }
      slot = insert(key);
    }
    first[slot] = firstTime;
    last[slot] = lastTime;
    bytes[slot] = totalBytes;
    count[slot] = accesses;
    writes[slot] = writeCount;
    sequential[slot] = sequentialCount;
    lastSize[slot] = size;
    System.arraycopy(values, 0, counters, slot * nCounters, nCounters);
  }

  /** The counter {@code i} of the entry in {@code slot}, decayed to {@code now}. */
  public double counter(int slot, int i, long now) {
    long dt = Math.max(0, now - last[slot]);
    return counters[slot * nCounters + i] * Math.exp(-dt * decayPerTick[i]);
  }

  /** The counter as stored, as of the last access (for persistence). */
  float rawCounter(int slot, int i) {
    return counters[slot * nCounters + i];
  }

  public boolean occupied(int slot) {
    return used[slot];
  }

  public long key(int slot) {
    return keys[slot];
  }

  public long lastAccess(int slot) {
    return last[slot];
  }

  public long firstAccess(int slot) {
    return first[slot];
  }

  public long bytes(int slot) {
    return bytes[slot];
  }

  public int accesses(int slot) {
    return count[slot];
  }

  public int writes(int slot) {
    return writes[slot];
  }

  public int sequentialAccesses(int slot) {
    return sequential[slot];
  }

  /** Share of this key's accesses that continued the previous one (0 with no accesses). */
  public double sequentialRatio(int slot) {
    return count[slot] == 0 ? 0 : (double) sequential[slot] / count[slot];
  }

  /** Size of the key's last access. */
  public int lastSize(int slot) {
    return lastSize[slot];
  }

  /** Number of slots (occupied or not): iterate {@code 0..slots()-1} with {@link #occupied}. */
  public int slots() {
    return used.length;
  }

  public int size() {
    return size;
  }

  public int capacity() {
    return capacity;
  }

  public int counters() {
    return nCounters;
  }

  public double halfLife(int i) {
    return halfLives[i];
  }

  double[] halfLives() {
    return halfLives.clone();
  }

  /** Keys evicted to keep within the capacity since this table was created. */
  public long evictions() {
    return evictions;
  }
}
