package io.dynamicfs.policy.mount;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded multi-producer, single-consumer queue of accesses in primitive arrays, so handing an access
 * from a FUSE worker to the tracker's thread is O(1), lock-free and allocation-free; a cell's fields are
 * interleaved in one array, so an access touches one or two cache lines. Dmitry Vyukov's
 * bounded queue: each cell carries a sequence number that says whose turn it is; a producer claims a cell
 * by a compare-and-set on {@code head}, fills it and publishes it by setting its sequence (a release
 * store the consumer's acquiring read of the sequence pairs with); the consumer frees it for the next lap.
 * When the ring is full an access is dropped (counted) rather than waited for: the read path never blocks
 * on statistics.
 *
 * <p>{@link #poll} must be called by one thread at a time (the caller serialises).
 */
final class AccessRing {
  /** Receives one access in {@link #poll}. */
  @FunctionalInterface
  interface Sink {
    void accept(long ino, long offset, int length, boolean write, long nanos);
  }

  /** Longs per cell: sequence, inode, offset, time, length and the write flag. */
  private static final int STRIDE = 5;
  private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);

  private final int mask;
  /**
   * The cells, interleaved so that one access touches one or two cache lines (not one per field): cell
   * {@code i} is {@code cells[i*STRIDE .. i*STRIDE+4]}, its sequence first (read with acquire, written with
   * release: the other fields are plain and ordered by it).
   */
  private final long[] cells;
  private final AtomicLong head = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  /** Next cell to consume; only the (serialised) consumer touches it. */
  private long tail;

  AccessRing(int capacity) {
    if (capacity < 2 || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("ring capacity must be a power of two of at least 2: " + capacity);
    }
    mask = capacity - 1;
    cells = new long[capacity * STRIDE];
    for (int i = 0; i < capacity; i++) {
      cells[i * STRIDE] = i;
    }
  }

  /** Queues one access; false (and counted as dropped) when the ring is full. */
  boolean offer(long inode, long off, int len, boolean isWrite, long time) {
    long pos = head.get();
    while (true) {
      int at = ((int) pos & mask) * STRIDE;
      long dif = (long) CELLS.getAcquire(cells, at) - pos;
      if (dif == 0) {
        if (head.compareAndSet(pos, pos + 1)) {
          cells[at + 1] = inode;
          cells[at + 2] = off;
          cells[at + 3] = time;
          cells[at + 4] = ((long) len << 1) | (isWrite ? 1 : 0);
          CELLS.setRelease(cells, at, pos + 1); // publish: the fields above happen-before the consumer's read
          return true;
        }
        pos = head.get();
      } else if (dif < 0) {
        dropped.incrementAndGet(); // a lap behind: full
        return false;
      } else {
        pos = head.get(); // another producer took this cell
      }
    }
  }

  /** Hands every published access to {@code sink}, oldest first; returns how many. */
  int poll(Sink sink) {
    int n = 0;
    while (true) {
      int at = ((int) tail & mask) * STRIDE;
      if ((long) CELLS.getAcquire(cells, at) != tail + 1) {
        return n; // empty, or the next cell is claimed but not yet published
      }
      long lw = cells[at + 4];
      sink.accept(cells[at + 1], cells[at + 2], (int) (lw >>> 1), (lw & 1) != 0, cells[at + 3]);
      CELLS.setRelease(cells, at, tail + mask + 1); // free for the producers' next lap
      tail++;
      n++;
    }
  }

  /** Accesses dropped because the ring was full. */
  long dropped() {
    return dropped.get();
  }

  int capacity() {
    return mask + 1;
  }
}
