package io.dynamicfs.policy.mount;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A bounded multi-producer, single-consumer queue of accesses in primitive arrays, so handing an access
 * from a FUSE worker to the tracker's thread is O(1), lock-free and allocation-free. Dmitry Vyukov's
 * bounded queue: each cell carries a sequence number that says whose turn it is; a producer claims a cell
 * by a compare-and-set on {@code head}, fills it and publishes it by setting its sequence (a release
 * store the consumer's volatile read of the sequence pairs with); the consumer frees it for the next lap.
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

  private final int mask;
  private final AtomicLongArray sequence;
  private final long[] ino;
  private final long[] offset;
  private final long[] nanos;
  private final int[] length;
  private final boolean[] write;
  private final AtomicLong head = new AtomicLong();
  private final AtomicLong dropped = new AtomicLong();
  /** Next cell to consume; only the (serialised) consumer touches it. */
  private long tail;

  AccessRing(int capacity) {
    if (capacity < 2 || Integer.bitCount(capacity) != 1) {
      throw new IllegalArgumentException("ring capacity must be a power of two of at least 2: " + capacity);
    }
    mask = capacity - 1;
    sequence = new AtomicLongArray(capacity);
    for (int i = 0; i < capacity; i++) {
      sequence.set(i, i);
    }
    ino = new long[capacity];
    offset = new long[capacity];
    nanos = new long[capacity];
    length = new int[capacity];
    write = new boolean[capacity];
  }

  /** Queues one access; false (and counted as dropped) when the ring is full. */
  boolean offer(long inode, long off, int len, boolean isWrite, long time) {
    long pos = head.get();
    while (true) {
      int cell = (int) pos & mask;
      long dif = sequence.get(cell) - pos;
      if (dif == 0) {
        if (head.compareAndSet(pos, pos + 1)) {
          ino[cell] = inode;
          offset[cell] = off;
          length[cell] = len;
          write[cell] = isWrite;
          nanos[cell] = time;
          sequence.lazySet(cell, pos + 1); // publish: the fields above happen-before the consumer's read
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
      int cell = (int) tail & mask;
      if (sequence.get(cell) != tail + 1) {
        return n; // empty, or the next cell is claimed but not yet published
      }
      sink.accept(ino[cell], offset[cell], length[cell], write[cell], nanos[cell]);
      sequence.lazySet(cell, tail + mask + 1); // free for the producers' next lap
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
