package io.dynamicfs.core.engine;

import java.time.Instant;

/** Where the engine reads the time: injected so tests can control it. */
@FunctionalInterface
public interface TimeSource {
  TimeSource SYSTEM = SystemTime.INSTANCE;

  /** Nanoseconds since the epoch. */
  long nowNanos();

  /**
   * Nanoseconds since the epoch, possibly at a coarser resolution, without allocating: for the read path
   * (the access hook), where {@link #nowNanos} of the system clock costs an {@code Instant} per call. By
   * default {@link #nowNanos}.
   */
  default long coarseNanos() {
    return nowNanos();
  }

  /** The system clock: {@link #nowNanos} to the clock's resolution, {@link #coarseNanos} to the millisecond. */
  enum SystemTime implements TimeSource {
    INSTANCE;

    @Override
    public long nowNanos() {
      Instant now = Instant.now();
      return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    @Override
    public long coarseNanos() {
      return System.currentTimeMillis() * 1_000_000L;
    }
  }
}
