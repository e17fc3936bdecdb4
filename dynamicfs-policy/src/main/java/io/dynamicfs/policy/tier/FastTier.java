package io.dynamicfs.policy.tier;

/**
 * A fast tier of fixed byte capacity in front of a slow one, driven by one placement policy: every access
 * is served by {@link #access}, which says whether the bytes were in the fast tier and may promote the key
 * (copy it up) and demote others (make room). Moves are reported to the tier's {@link TierMoves}. Keys
 * larger than the whole tier are served from the slow tier and never promoted.
 */
public interface FastTier {
  /** Short name for reports. */
  String name();

  /** Serves one access of {@code bytes} to {@code key} at virtual time {@code now}; true on a fast-tier hit. */
  boolean access(long key, int bytes, long now);

  /**
   * How hot this policy believes {@code key} is right now, as a score for ranking (higher = more likely
   * read soon): in [1, 2) for a resident key, in [0, 1) for one it only remembers (a ghost, a frequency
   * sketch), 0 otherwise. Not a probability: evaluations calibrate it on earlier windows.
   */
  double score(long key, long now);

  /** Capacity in bytes. */
  long capacity();

  /** Bytes resident. */
  long used();

  /** The moves this tier made. */
  TierMoves moves();
}
