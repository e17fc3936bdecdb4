package io.dynamicfs.bench;

import io.dynamicfs.cache.CacheStack;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.engine.TimeSource;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.policy.mount.MountTracker;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Nanoseconds per 4 KiB read through the engine ({@code DynamicFileSystem.read}), with the policy engine's
 * access hook ({@link MountTracker}) on and off, side by side in one run: the read-path cost of tracking.
 *
 * <p>The reads are the cheapest the engine serves, so the hook's share is as large as it gets: {@code l1},
 * a 64 MiB file read at random offsets from the memory cache (its blocks read once in setup); {@code dirty},
 * a block still in its write buffer (no store, no cache). One reader, and two readers sharing the engine
 * (the ring's compare-and-set contended; the machine has two cores).
 *
 * <pre>
 * mvn -q -Pbench -pl dynamicfs-bench -am package -DskipTests &amp;&amp; java -jar dynamicfs-bench/target/benchmarks.jar TrackedRead
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(2)
public class TrackedReadBenchmark {
  private static final int BS = 1 << 20;
  private static final int FILE_BLOCKS = 64;
  private static final Caller ME = new Caller(0, 0, 1);

  /** The engine, shared by the reader threads. */
  @State(Scope.Benchmark)
  public static class Engine {
    @Param({"off", "on"})
    String hook;

    @Param({"l1", "dirty"})
    String source;

    Path dir;
    DataDirectory data;
    MountTracker tracker;
    DynamicFileSystem fs;
    long ino;
    long writer;

    @Setup(Level.Trial)
    public void open() throws IOException {
      dir = Files.createTempDirectory("dfs-bench-read");
      Files.createDirectories(dir.resolve("data"));
      data = DataDirectory.open(dir.resolve("data"), new FormatOptions(BS, Codec.LZ4, 4096));
      UnaryOperator<io.dynamicfs.core.block.BlockStore> caches =
          CacheStack.builder(new SimpleMeterRegistry()).memory(256L << 20).build();
      EngineOptions o = new EngineOptions(caches, TimeSource.SYSTEM, 2, Duration.ofHours(1), 64L << 20);
      if (hook.equals("on")) {
        tracker = MountTracker.open(dir.resolve("policy"), BS, MountTracker.Settings.defaults());
        o = o.withAccessObserver(tracker);
      }
      fs = DynamicFileSystem.open(data, o);
      OpenResult f = fs.create(ME, FileSystem.ROOT_INO, "f", 0644, 2);
      ino = f.attr().ino();
      byte[] b = new byte[source.equals("l1") ? BS : BS / 2];
      new SplittableRandom(1).nextBytes(b);
      if (source.equals("l1")) {
        for (int i = 0; i < FILE_BLOCKS; i++) {
          fs.write(f.handle(), (long) i * BS, b, 0, BS);
        }
        fs.release(f.handle());
        long h = fs.open(ME, ino, 0);
        for (int i = 0; i < FILE_BLOCKS; i++) {
          fs.read(h, (long) i * BS, b, 0, BS); // into L1
        }
        fs.release(h);
      } else {
        fs.write(f.handle(), 0, b, 0, b.length); // half a block: stays in the write buffer (commit hourly)
        writer = f.handle(); // kept open, so the buffer is what readers see
      }
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
      if (writer != 0) {
        fs.release(writer);
      }
      fs.close();
      if (tracker != null) {
        tracker.close();
      }
      data.close();
      try (Stream<Path> s = Files.walk(dir)) {
        s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** One reader's handle, buffer and random offsets. */
  @State(Scope.Thread)
  public static class Reader {
    long handle;
    final byte[] buf = new byte[4096];
    final long[] offsets = new long[1 << 16];
    int next;

    @Setup(Level.Trial)
    public void open(Engine e) throws IOException {
      handle = e.fs.open(ME, e.ino, 0);
      SplittableRandom r = new SplittableRandom(Thread.currentThread().getId());
      long span = e.source.equals("l1") ? (long) FILE_BLOCKS * BS : BS / 2;
      for (int i = 0; i < offsets.length; i++) {
        offsets[i] = r.nextLong(span / 4096) * 4096;
      }
    }

    @TearDown(Level.Trial)
    public void close(Engine e) throws IOException {
      e.fs.release(handle);
    }
  }

  @Benchmark
  @Threads(1)
  public int read4k(Engine e, Reader r) throws IOException {
    return e.fs.read(r.handle, r.offsets[r.next++ & (r.offsets.length - 1)], r.buf, 0, 4096);
  }

  @Benchmark
  @Threads(2)
  public int read4kTwoThreads(Engine e, Reader r) throws IOException {
    return e.fs.read(r.handle, r.offsets[r.next++ & (r.offsets.length - 1)], r.buf, 0, 4096);
  }
}
