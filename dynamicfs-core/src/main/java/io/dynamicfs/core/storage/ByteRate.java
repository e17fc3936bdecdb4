package io.dynamicfs.core.storage;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Paces a pass over stored bytes (a scrub) to at most {@code bytesPerSecond} on average since the pass
 * started: after each piece of work the caller gives the total done so far and waits until that total is
 * due. Zero or less is unlimited. Thread-safe (it holds no state but the start).
 */
public final class ByteRate {
  /** Waits; may be interrupted. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(long nanos) throws InterruptedException;
  }

  private final long bytesPerSecond;
  private final LongSupplier nanos;
  private final Sleeper sleeper;
  private final long start;

  /** A pace starting now on the real clock. */
  public ByteRate(long bytesPerSecond) {
    this(bytesPerSecond, System::nanoTime, TimeUnit.NANOSECONDS::sleep);
  }

  public ByteRate(long bytesPerSecond, LongSupplier nanoClock, Sleeper sleeper) {
    this.bytesPerSecond = bytesPerSecond;
    this.nanos = nanoClock;
    this.sleeper = sleeper;
    this.start = nanoClock.getAsLong();
  }

  /** No limit. */
  public static ByteRate unlimited() {
    return new ByteRate(0);
  }

  /** The same rate for another pass, starting now. */
  public ByteRate again() {
    return new ByteRate(bytesPerSecond, nanos, sleeper);
  }

  public boolean limited() {
    return bytesPerSecond > 0;
  }

  /**
   * Waits until {@code totalBytes} done since the start fit the rate (nothing when unlimited or already
   * due; waits under a millisecond are skipped). False when interrupted (the flag is set again).
   */
  public boolean awaitTotal(long totalBytes) {
    if (bytesPerSecond <= 0) {
      return true;
    }
    long wait = start + (long) (totalBytes * 1e9 / bytesPerSecond) - nanos.getAsLong();
    if (wait <= TimeUnit.MILLISECONDS.toNanos(1)) {
      return true;
    }
    try {
      sleeper.sleep(wait);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
