package io.dynamicfs.bench;

import io.dynamicfs.core.erasure.ReedSolomon;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Single-thread throughput of {@link ReedSolomon} encoding and reconstruction on a stripe of 1 MiB
 * of data.
 *
 * <p>Each invocation codes one stripe: 4+2 uses four shards of 256 KiB, 10+4 ten shards of 104,858
 * bytes (1 MiB rounded up). With {@code @OperationsPerInvocation(1 << 20)} one "operation" is one
 * data byte and the score is in {@code ops/us}, i.e. <b>MB/s of data</b> (10^6 bytes per second).
 * {@code encode} computes all parity shards; {@code reconstruct} rebuilds two lost data shards for
 * 4+2 and four for 10+4 from the remaining shards (the decoding program for that erasure pattern is
 * cached after the first call, as it would be in steady state).
 *
 * <p>Run from the repository root with:
 *
 * <pre>
 * mvn -q -Pbench -pl dynamicfs-bench -am package -DskipTests &amp;&amp; java -jar dynamicfs-bench/target/benchmarks.jar ReedSolomon -f 1 -wi 2 -i 3
 * </pre>
 *
 * <p>Benchmarks run on one thread unless {@code -t} says otherwise; on a busy machine repeat the
 * run and compare the best iterations.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class ReedSolomonBenchmark {

  /** Data bytes per stripe; one JMH operation is one data byte. */
  static final int STRIPE_BYTES = 1 << 20;

  /** Shard layout, "K+M". */
  @Param({"4+2", "10+4"})
  public String config;

  private ReedSolomon codec;
  private byte[][] shards;
  private boolean[] present;

  /** Builds the codec and an encoded stripe of random data. */
  @Setup(Level.Trial)
  public void setUp() {
    String[] parts = config.split("\\+");
    int k = Integer.parseInt(parts[0].trim());
    int m = Integer.parseInt(parts[1].trim());
    codec = ReedSolomon.create(k, m);
    int shardSize = (STRIPE_BYTES + k - 1) / k;
    shards = new byte[k + m][shardSize];
    Random random = new Random(42);
    for (int i = 0; i < k; i++) {
      random.nextBytes(shards[i]);
    }
    codec.encodeParity(shards, 0, shardSize);
    present = new boolean[k + m];
    Arrays.fill(present, true);
    for (int i = 0; i < m; i++) { // as many data shards as there are parity shards
      present[i] = false;
    }
  }

  /** Computes all parity shards of the stripe. */
  @Benchmark
  @OperationsPerInvocation(STRIPE_BYTES)
  public void encode(Blackhole bh) {
    codec.encodeParity(shards, 0, shards[0].length);
    bh.consume(shards);
  }

  /** Rebuilds the {@code M} lost data shards (2 for 4+2, 4 for 10+4) from the others. */
  @Benchmark
  @OperationsPerInvocation(STRIPE_BYTES)
  public void reconstruct(Blackhole bh) {
    codec.reconstruct(shards, present, 0, shards[0].length);
    bh.consume(shards);
  }
}
