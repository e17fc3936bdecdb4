package io.dynamicfs.cluster.transport;

import io.dynamicfs.core.block.BlockId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * When each copy a node holds was last put or touched (TOUCH), and the per-id locks under which that
 * changes: what the node's orphan scan needs to tell a copy some mount may still commit from one it may
 * remove (docs/cluster.md, "The orphan scan").
 *
 * <p>In memory only: a copy with no entry counts as touched when this clock was made (the node's start), so
 * after a restart every copy gets a whole grace period again. That costs nothing in safety and keeps the
 * clock off the disk. Entries older than the grace period say no more than "older than the grace period", so
 * the scan drops them ({@link #forgetOlderThan}): the map holds the copies put or touched within about one
 * grace period.
 *
 * <p>Locking: a PUT, PUT_SHARD, TOUCH or DELETE of an id, and the scan's removal of it, each hold
 * {@link #lockFor} of the id around the store call and the clock update, so a removal that re-checks the
 * touch time under the lock cannot pass a PUT or TOUCH of the same id that another thread is running: the
 * one that comes second sees what the first did. The locks are striped (ids that share a stripe wait for
 * each other; nothing else does).
 */
public final class CopyClock {
  private static final int STRIPES = 256;

  private final LongSupplier nanoTime;
  private final long startedAt;
  private final Map<BlockId, Long> touched = new ConcurrentHashMap<>();
  private final Object[] locks = new Object[STRIPES];

  /** A clock reading {@code nanoTime} (System::nanoTime; tests pass their own). */
  public CopyClock(LongSupplier nanoTime) {
    this.nanoTime = nanoTime;
    this.startedAt = nanoTime.getAsLong();
    for (int i = 0; i < STRIPES; i++) {
      locks[i] = new Object();
    }
  }

  public CopyClock() {
    this(System::nanoTime);
  }

  /** The lock every change of {@code id}'s copy and its touch time is made under. */
  public Object lockFor(BlockId id) {
    return locks[Math.floorMod(id.hashCode(), STRIPES)];
  }

  /** Records that {@code id} was put or touched now; the caller holds {@link #lockFor}. */
  public void touch(BlockId id) {
    touched.put(id, nanoTime.getAsLong());
  }

  /** When {@code id} was last put or touched (System.nanoTime scale); this clock's start when never since. */
  public long lastTouch(BlockId id) {
    Long t = touched.get(id);
    return t == null ? startedAt : t;
  }

  /** The copy is gone: its entry goes too. The caller holds {@link #lockFor}. */
  public void forget(BlockId id) {
    touched.remove(id);
  }

  /** The clock's reading now. */
  public long now() {
    return nanoTime.getAsLong();
  }

  /**
   * Drops entries at least {@code ageNanos} old: {@link #lastTouch} then answers this clock's start, which is
   * older still, so a copy's "untouched for the grace period" stays true and nothing else changes.
   */
  public void forgetOlderThan(long ageNanos) {
    long now = nanoTime.getAsLong();
    touched.entrySet().removeIf(e -> now - e.getValue() >= ageNanos);
  }

  /** Copies with a touch time recorded (for tests and figures). */
  public int size() {
    return touched.size();
  }
}
