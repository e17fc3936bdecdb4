package io.dynamicfs.policy.act;

import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * Paces the executor's moves: a token bucket of bytes at the budget's MB/s (one second of burst), and a
 * back-off while the foreground is busy, i.e. more requests in flight than {@code pauseInFlight}, or a mean
 * read and write latency since the previous look above {@code pauseLatency}. A busy foreground is looked at
 * again after 100 ms, then 200 ms, ... up to {@value #MAX_BACKOFF_MS} ms, until it is calm. Clock and sleep
 * are injected (tests run them on a virtual clock).
 *
 * <p>Used by one executor thread at a time; the figures it reports are volatile reads.
 */
public final class Pacer {
  static final long MIN_BACKOFF_MS = 100;
  static final long MAX_BACKOFF_MS = 5_000;

  /** Waits; may be interrupted. */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(long nanos) throws InterruptedException;

    Sleeper REAL = nanos -> TimeUnit.NANOSECONDS.sleep(nanos);
  }

  private final Foreground foreground;
  private final LongSupplier nanos;
  private final Sleeper sleeper;
  private Long bytesPerSecond;
  private long pauseLatencyNanos = Long.MAX_VALUE;
  private long pauseInFlight = Long.MAX_VALUE;
  private long nextFree;
  private long lastCompleted;
  private long lastTotal;
  private volatile boolean paused;
  private volatile long pauses;
  private volatile long pausedNanos;
  private volatile double lastLatencyMillis;
  private volatile long lastInFlight;

  public Pacer(Foreground foreground, LongSupplier nanoClock, Sleeper sleeper) {
    this.foreground = foreground;
    this.nanos = nanoClock;
    this.sleeper = sleeper;
    this.lastCompleted = foreground.completed();
    this.lastTotal = foreground.totalNanos();
    this.nextFree = nanoClock.getAsLong() - TimeUnit.SECONDS.toNanos(1); // a full second of burst
  }

  /** The limits of the next run (from the rules in force): null bytes per second is unlimited. */
  public void configure(Long bytesPerSecond, long pauseLatencyNanos, int pauseInFlight) {
    this.bytesPerSecond = bytesPerSecond;
    this.pauseLatencyNanos = pauseLatencyNanos;
    this.pauseInFlight = pauseInFlight;
  }

  /**
   * Counts {@code bytes} just moved against the budget and waits until they fit it. False when {@code stop}
   * said so or the thread was interrupted meanwhile.
   */
  public boolean moved(long bytes, BooleanSupplier stop) {
    Long rate = bytesPerSecond;
    if (rate == null || bytes <= 0) {
      return !stop.getAsBoolean();
    }
    if (rate == 0) {
      return false;
    }
    long now = nanos.getAsLong();
    long cost = (long) (bytes * 1e9 / rate);
    nextFree = Math.max(nextFree, now - TimeUnit.SECONDS.toNanos(1)) + cost;
    return sleepUntil(nextFree, stop);
  }

  /** Waits while the foreground is busy (see the class comment). False when stopped or interrupted. */
  public boolean awaitCalm(BooleanSupplier stop) {
    long backoff = TimeUnit.MILLISECONDS.toNanos(MIN_BACKOFF_MS);
    while (busy()) {
      if (stop.getAsBoolean()) {
        paused = false;
        return false;
      }
      if (!paused) {
        pauses++;
        paused = true;
      }
      long start = nanos.getAsLong();
      try {
        sleeper.sleep(backoff);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        paused = false;
        return false;
      }
      pausedNanos += nanos.getAsLong() - start;
      backoff = Math.min(backoff * 2, TimeUnit.MILLISECONDS.toNanos(MAX_BACKOFF_MS));
    }
    paused = false;
    return !stop.getAsBoolean();
  }

  /** Looks at the foreground: busy when too many requests are in flight or the mean latency since the last look is too high. */
  boolean busy() {
    long inFlight = foreground.inFlight();
    long c = foreground.completed();
    long t = foreground.totalNanos();
    long dc = c - lastCompleted;
    long dt = t - lastTotal;
    lastCompleted = c;
    lastTotal = t;
    long mean = dc > 0 ? dt / dc : 0;
    lastInFlight = inFlight;
    lastLatencyMillis = mean / 1e6;
    return inFlight > pauseInFlight || mean > pauseLatencyNanos;
  }

  private boolean sleepUntil(long deadline, BooleanSupplier stop) {
    for (long left = deadline - nanos.getAsLong(); left > 0; left = deadline - nanos.getAsLong()) {
      if (stop.getAsBoolean()) {
        return false;
      }
      try {
        sleeper.sleep(Math.min(left, TimeUnit.MILLISECONDS.toNanos(200)));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return !stop.getAsBoolean();
  }

  /** True while backing off. */
  public boolean paused() {
    return paused;
  }

  /** Times the executor started backing off. */
  public long pauses() {
    return pauses;
  }

  /** Time spent backing off, in nanoseconds. */
  public long pausedNanos() {
    return pausedNanos;
  }

  /** The foreground's mean read/write latency at the last look, in milliseconds. */
  public double lastLatencyMillis() {
    return lastLatencyMillis;
  }

  /** Requests in flight at the last look. */
  public long lastInFlight() {
    return lastInFlight;
  }
}
