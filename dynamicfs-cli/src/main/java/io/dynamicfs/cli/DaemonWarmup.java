package io.dynamicfs.cli;

import io.dynamicfs.cli.metrics.MeteredFileSystem;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.engine.Warmup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** The engine warm-up a daemon runs before it serves ({@link Warmup}); {@code dfs.warmup.ms} bounds it, 0 skips. */
final class DaemonWarmup {
  private DaemonWarmup() {}

  static void run(UnaryOperator<FileSystem> layers) {
    long ms = Long.getLong("dfs.warmup.ms", 3000);
    if (ms > 0) {
      Warmup.run(Path.of(System.getProperty("java.io.tmpdir")), Duration.ofMillis(ms), layers);
    }
  }

  /** The mount's metrics layer over the scratch engine (its meters in a registry of their own). */
  static FileSystem metered(FileSystem fs) {
    return new MeteredFileSystem(fs, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }
}
