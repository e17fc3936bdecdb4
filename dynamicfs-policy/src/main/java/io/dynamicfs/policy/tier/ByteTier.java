package io.dynamicfs.policy.tier;

/** What every fast tier shares: the byte capacity, the bytes resident and the move accounting. */
abstract class ByteTier implements FastTier {
  private final String name;
  protected final long capacity;
  protected long used;
  private final TierMoves moves;

  ByteTier(String name, long capacity, TierMoves moves) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.name = name;
    this.capacity = capacity;
    this.moves = moves;
  }

  /** Accounts a key entering the fast tier. */
  protected final void promote(long key, int bytes, long now) {
    used += bytes;
    moves.promoted(key, bytes, now);
  }

  /** Accounts a key leaving the fast tier. */
  protected final void demote(long key, int bytes, long now) {
    used -= bytes;
    moves.demoted(key, bytes, now);
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final long capacity() {
    return capacity;
  }

  @Override
  public final long used() {
    return used;
  }

  @Override
  public final TierMoves moves() {
    return moves;
  }
}
