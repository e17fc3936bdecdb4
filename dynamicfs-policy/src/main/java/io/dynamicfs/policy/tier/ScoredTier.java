package io.dynamicfs.policy.tier;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The placement decision the policy engine makes, on a fast tier: rank by a score (the hotness model's
 * P(read within the horizon), which is also the expected benefit per byte: a byte kept in the fast tier
 * pays off when read again), admit a missed key while there is free space, and otherwise only if it beats
 * the resident keys it would push out by a margin (hysteresis: equal-looking keys never trade places, so
 * a loop larger than the tier cannot make it thrash). Victims are the lowest-scored of a random sample of
 * resident keys (scores decay with time, so a global order would be stale anyway).
 */
public final class ScoredTier extends ByteTier {
  /** Scores a key at a moment; higher = more worth keeping. */
  @FunctionalInterface
  public interface KeyScorer {
    double score(long key, long now);
  }

  private final KeyScorer scorer;
  private final int sample;
  private final double margin;
  private final SplittableRandom random;
  private final Map<Long, Integer> index = new HashMap<>();
  private final long windowTarget;
  private final double windowMinScore;
  /** Window keys to their bytes, plus {@link #READ_IN_WINDOW} once read again there. */
  private final java.util.LinkedHashMap<Long, Long> window = new java.util.LinkedHashMap<>(256, 0.75f, true);
  private static final long READ_IN_WINDOW = 1L << 32;
  private static final int MAX_BARRED = 1 << 20;
  /** Keys that left the window unread and lost admission: kept out of the window until the time given. */
  private final java.util.LinkedHashMap<Long, Long> barred = new java.util.LinkedHashMap<>() {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
      return size() > MAX_BARRED;
    }
  };
  private long cooldown;
  private long windowBytes;
  private long[] keys = new long[1024];
  private int[] sizes = new int[1024];
  private int n;
  private final double[] pickScore;

  /**
   * @param sample victims considered per decision
   * @param margin how much a candidate's score must exceed the best victim's to replace it
   */
  public ScoredTier(String name, long capacity, KeyScorer scorer, int sample, double margin, long seed, TierMoves moves) {
    this(name, capacity, 0, 0, scorer, sample, margin, seed, moves);
  }

  /**
   * With {@code windowFraction} > 0, a missed key first enters a small LRU window of that share of the
   * capacity (so a key read twice in quick succession hits the second time), and the decision above is
   * made when it leaves the window: join the main part, or go back down. Only keys scoring at least
   * {@code windowMinScore} enter the window (a key the model gives no chance of a read soon, such as the
   * next step of a loop larger than the tier, would only churn it).
   */
  public ScoredTier(String name, long capacity, double windowFraction, double windowMinScore, KeyScorer scorer,
      int sample, double margin, long seed, TierMoves moves) {
    super(name, capacity, moves);
    if (!(windowFraction >= 0 && windowFraction < 1)) {
      throw new IllegalArgumentException("window fraction must be in [0, 1): " + windowFraction);
    }
    this.windowTarget = (long) (capacity * windowFraction);
    this.windowMinScore = windowMinScore;
    if (sample < 1 || margin < 0) {
      throw new IllegalArgumentException("sample >= 1 and margin >= 0 required: " + sample + ", " + margin);
    }
    this.scorer = scorer;
    this.sample = sample;
    this.margin = margin;
    this.random = new SplittableRandom(seed);
    this.pickScore = new double[sample];
  }

  @Override
  public boolean access(long key, int bytes, long now) {
    if (index.containsKey(key)) {
      return true;
    }
    Long w = window.get(key);
    if (w != null) {
      window.put(key, w | READ_IN_WINDOW);
      return true;
    }
    if (bytes > capacity) {
      return false;
    }
    if (windowTarget == 0) {
      admit(key, bytes, now, false);
      return false;
    }
    Long until = barred.get(key);
    if (until != null && until > now) {
      if (!admit(key, bytes, now, false)) { // a key that wasted a window stay lately must win its place directly
        barred.put(key, now + cooldown); // and stays out of the window while it keeps coming back in vain
      }
      return false;
    }
    if (windowMinScore > 0 && scorer.score(key, now) < windowMinScore) {
      return false;
    }
    window.put(key, (long) bytes);
    windowBytes += bytes;
    promote(key, bytes, now);
    while (windowBytes > windowTarget && !window.isEmpty()) {
      var it = window.entrySet().iterator();
      Map.Entry<Long, Long> e = it.next();
      it.remove();
      int size = (int) (e.getValue() & 0xFFFF_FFFFL);
      windowBytes -= size; // still in the fast tier (and in used) until admit() decides
      if (!admit(e.getKey(), size, now, true) && (e.getValue() & READ_IN_WINDOW) == 0 && cooldown > 0) {
        barred.put(e.getKey(), now + cooldown); // up and straight down unread: a ping-pong in the making
      }
    }
    return false;
  }

  /**
   * Decides whether {@code key} joins the main part ({@code fromWindow}: it is already in the fast tier);
   * true if it did.
   */
  private boolean admit(long key, int bytes, long now, boolean fromWindow) {
    long mainCapacity = capacity - windowTarget;
    long mainAfter = used - windowBytes + (fromWindow ? 0 : bytes); // main's bytes with the key in it
    if (mainAfter <= mainCapacity) {
      add(key, bytes, now, fromWindow);
      return true;
    }
    double candidate = scorer.score(key, now);
    int k = Math.min(sample, n);
    for (int i = 0; i < k; i++) { // k distinct positions: a partial Fisher-Yates over the resident array
      int j = i + random.nextInt(n - i);
      swap(i, j);
      pickScore[i] = scorer.score(keys[i], now);
    }
    // take the lowest-scored first until the candidate fits
    long freed = 0;
    double worstKept = Double.NEGATIVE_INFINITY;
    int taken = 0;
    while (mainAfter - freed > mainCapacity && taken < k) {
      int best = taken;
      for (int i = taken + 1; i < k; i++) {
        if (pickScore[i] < pickScore[best]) {
          best = i;
        }
      }
      double ts = pickScore[taken];
      pickScore[taken] = pickScore[best];
      pickScore[best] = ts;
      swap(taken, best);
      freed += sizes[taken];
      worstKept = Math.max(worstKept, pickScore[taken]);
      taken++;
    }
    if (mainAfter - freed > mainCapacity || !(candidate > worstKept + margin)) {
      if (fromWindow) {
        demote(key, bytes, now);
      }
      return false; // served from the slow tier, nothing (else) moves
    }
    // the victims sit at positions 0..taken-1; remove from the highest position down so swaps stay valid
    for (int i = taken - 1; i >= 0; i--) {
      removeAt(i, now);
    }
    add(key, bytes, now, fromWindow);
    return true;
  }

  /**
   * Keeps a key that left the window unread and lost admission out of the window for {@code ticks}
   * (0: never): against a loop or scan larger than the tier, the window stops churning.
   */
  public ScoredTier withWindowCooldown(long ticks) {
    this.cooldown = ticks;
    return this;
  }

  private void swap(int i, int j) {
    if (i == j) {
      return;
    }
    long ki = keys[i];
    int si = sizes[i];
    keys[i] = keys[j];
    sizes[i] = sizes[j];
    keys[j] = ki;
    sizes[j] = si;
    index.put(keys[i], i);
    index.put(keys[j], j);
  }

  private void add(long key, int bytes, long now, boolean alreadyUp) {
    if (n == keys.length) {
      keys = java.util.Arrays.copyOf(keys, n * 2);
      sizes = java.util.Arrays.copyOf(sizes, n * 2);
    }
    keys[n] = key;
    sizes[n] = bytes;
    index.put(key, n);
    n++;
    if (!alreadyUp) { // from the window to the main part is no copy
      promote(key, bytes, now);
    }
  }

  private void removeAt(int i, long now) {
    long key = keys[i];
    int bytes = sizes[i];
    n--;
    if (i != n) {
      keys[i] = keys[n];
      sizes[i] = sizes[n];
      index.put(keys[i], i);
    }
    index.remove(key);
    demote(key, bytes, now);
  }

  @Override
  public double score(long key, long now) {
    return scorer.score(key, now);
  }

  /** Whether {@code key} is in the fast tier. */
  public boolean resident(long key) {
    return index.containsKey(key) || window.containsKey(key);
  }
}
