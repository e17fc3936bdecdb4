package io.dynamicfs.policy.model;

/** The simple scores that decide while no model has earned the right to, computed from the same features. */
public enum Heuristic {
  /** Recently read first (what LRU ranks by). */
  RECENCY {
    @Override
    public double raw(double[] f) {
      return -f[0];
    }
  },
  /** Often read lately first: the mid half-life counter (what an ageing LFU ranks by). */
  FREQUENCY {
    @Override
    public double raw(double[] f) {
      return f[2];
    }
  },
  /**
   * Read most often first, without decay (what TinyLFU's admission compares): the key just read gains no
   * edge from that read's freshness, so equals never trade places. What decides before any training.
   */
  COUNT {
    @Override
    public double raw(double[] f) {
      return f[4];
    }
  };

  /** The score, higher = hotter; not a probability. */
  public abstract double raw(double[] features);
}
