package io.dynamicfs.policy.act;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The pacer on a virtual clock: the budget's MB/s over time, and the back-off from a busy foreground. */
class PacerTest {
  private static final long MS = 1_000_000L;

  /** A foreground whose figures the test sets; sleeping advances the virtual clock. */
  private static final class World implements Foreground {
    long now;
    long inFlight;
    long completed;
    long total;
    /** While positive, each sleep completes one request of this latency. */
    long busyLatency;
    int calmAfterSleeps = Integer.MAX_VALUE;
    int sleeps;

    @Override
    public long inFlight() {
      return inFlight;
    }

    @Override
    public long completed() {
      return completed;
    }

    @Override
    public long totalNanos() {
      return total;
    }

    void sleep(long nanos) {
      now += nanos;
      sleeps++;
      if (sleeps >= calmAfterSleeps) {
        inFlight = 0;
        busyLatency = 0;
      }
      completed++;
      total += busyLatency > 0 ? busyLatency : MS / 10;
    }
  }

  @Test
  void moved_atTenMBPerSecond_fiftyMBTakeAboutFourSeconds() {
    World w = new World();
    Pacer p = new Pacer(w, () -> w.now, w::sleep);
    p.configure(10_000_000L, 50 * MS, 16);
    for (int i = 0; i < 50; i++) {
      assertTrue(p.moved(1_000_000, () -> false));
    }
    // one second of burst is free: 50 MB at 10 MB/s is 5 s, less the burst
    assertEquals(4.0, w.now / 1e9, 0.01);
  }

  @Test
  void moved_unlimited_neverWaits_zero_refuses() {
    World w = new World();
    Pacer p = new Pacer(w, () -> w.now, w::sleep);
    p.configure(null, 50 * MS, 16);
    assertTrue(p.moved(1L << 40, () -> false));
    assertEquals(0, w.now);
    p.configure(0L, 50 * MS, 16);
    assertFalse(p.moved(1, () -> false), "a budget of 0 MB/s allows nothing");
  }

  @Test
  void awaitCalm_slowForeground_backsOffDoublingUntilCalm() {
    World w = new World();
    Pacer p = new Pacer(w, () -> w.now, w::sleep);
    p.configure(null, 50 * MS, 16);
    w.completed = 10;
    w.total = 10 * 200 * MS; // 200 ms a request since the pacer was made
    w.busyLatency = 200 * MS;
    w.calmAfterSleeps = 4;
    assertTrue(p.awaitCalm(() -> false));
    assertEquals(4, w.sleeps);
    assertEquals((100 + 200 + 400 + 800) * MS, w.now, "100 ms, then doubling");
    assertEquals(1, p.pauses());
    assertEquals(1.5, p.pausedNanos() / 1e9, 1e-9);
    assertFalse(p.paused());
  }

  @Test
  void awaitCalm_tooManyInFlight_waits_thenStopEndsTheWait() {
    World w = new World();
    Pacer p = new Pacer(w, () -> w.now, w::sleep);
    p.configure(null, 50 * MS, 4);
    w.inFlight = 5;
    boolean[] stop = {false};
    Pacer.Sleeper stopping = n -> {
      w.sleep(n);
      stop[0] = w.sleeps >= 3;
    };
    Pacer q = new Pacer(w, () -> w.now, stopping);
    q.configure(null, 50 * MS, 4);
    assertFalse(q.awaitCalm(() -> stop[0]), "stopped while waiting");
    assertEquals(3, w.sleeps);
    assertEquals(5, q.lastInFlight());
    w.inFlight = 4;
    assertTrue(p.awaitCalm(() -> false), "at the limit is not over it");
  }

  @Test
  void awaitCalm_latencyIsTheMeanSinceTheLastLook() {
    World w = new World();
    Pacer p = new Pacer(w, () -> w.now, w::sleep);
    p.configure(null, 50 * MS, 16);
    w.completed = 100; // 100 requests of 10 ms
    w.total = 100 * 10 * MS;
    assertTrue(p.awaitCalm(() -> false));
    assertEquals(0, w.sleeps);
    assertEquals(10.0, p.lastLatencyMillis(), 1e-9);
    w.completed += 1; // one slow request since
    w.total += 300 * MS;
    w.calmAfterSleeps = 1;
    assertTrue(p.awaitCalm(() -> false));
    assertEquals(1, w.sleeps, "the slow request alone counts, not the hundred before");
    assertEquals(TimeUnit.MILLISECONDS.toNanos(100), w.now);
  }
}
