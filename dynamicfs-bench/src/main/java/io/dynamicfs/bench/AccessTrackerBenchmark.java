package io.dynamicfs.bench;

import io.dynamicfs.policy.track.AccessTracker;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Nanoseconds per access recorded by the policy engine's {@link AccessTracker} (one extent table and one
 * file table, three decaying counters each), the cost the read path pays for tracking.
 *
 * <p>Keys follow a Zipf-like law (a few hot extents, a long cold tail) over {@code keys} extents of 16 per
 * file, drawn in advance so that the loop measures recording only. {@code keys} below the tables' capacity
 * measures hits on tracked keys; above it every cold key evicts one (the bounded-memory path). {@code
 * nextKeyOnly} is the same loop without recording, the baseline to subtract.
 *
 * <pre>
 * mvn -q -Pbench -pl dynamicfs-bench -am package -DskipTests &amp;&amp; java -jar dynamicfs-bench/target/benchmarks.jar AccessTracker -f 1 -wi 2 -i 3
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class AccessTrackerBenchmark {
  private static final int DRAWN = 1 << 20;
  private static final int CAPACITY = 1 << 18;

  /** Distinct extents drawn from: within the capacity (65536) or four times beyond it (1048576). */
  @Param({"65536", "1048576"})
  int keys;

  private AccessTracker tracker;
  private long[] extents;
  private int next;
  private long now;

  @Setup
  public void setup() {
    tracker = new AccessTracker(AccessTracker.Config.defaults(CAPACITY / 16, CAPACITY));
    SplittableRandom r = new SplittableRandom(1);
    extents = new long[DRAWN];
    for (int i = 0; i < DRAWN; i++) {
      extents[i] = (long) Math.floor(Math.pow(keys, r.nextDouble())); // heavy-headed over [1, keys)
    }
    for (int i = 0; i < DRAWN; i++) { // fill the tables first: measure the steady state
      tracker.record(now++, extents[i] >>> 4, extents[i], 4096, false);
    }
  }

  @Benchmark
  public long record() {
    long e = extents[next];
    next = (next + 1) & (DRAWN - 1);
    tracker.record(now++, e >>> 4, e, 4096, false);
    return e;
  }

  @Benchmark
  public long nextKeyOnly() {
    long e = extents[next];
    next = (next + 1) & (DRAWN - 1);
    now++;
    return e;
  }
}
