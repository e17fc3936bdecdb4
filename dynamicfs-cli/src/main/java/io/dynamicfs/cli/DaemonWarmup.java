package io.dynamicfs.cli;

import io.dynamicfs.cli.metrics.MeteredFileSystem;
import io.dynamicfs.cluster.mount.ClusterMounts;
import io.dynamicfs.cluster.mount.RaftWarmup;
import io.dynamicfs.cluster.transport.BlockPathWarmup;
import io.dynamicfs.cluster.transport.ClusterCredentials;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.engine.Warmup;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.slf4j.LoggerFactory;

/**
 * The warm-ups a daemon runs before it serves, in {@code java.io.tmpdir}: the engine's ({@link Warmup}) on every
 * daemon, the block transport's on cluster nodes and mounts, the metadata group's on cluster mounts; each
 * within the bound. The bound in milliseconds comes from the system property {@code dfs.warmup.ms}, else the
 * environment variable {@code DFS_WARMUP_MS} (which the daemon's background child inherits), else
 * {@link #DEFAULT_MS}; 0 skips them all.
 */
final class DaemonWarmup {
  static final long DEFAULT_MS = 3000;
  static final String PROPERTY = "dfs.warmup.ms";
  static final String ENVIRONMENT = "DFS_WARMUP_MS";

  private DaemonWarmup() {}

  static void run(UnaryOperator<FileSystem> layers) {
    engine(layers, budgetMillis());
  }

  /** A node's: the engine's, then the block transport's ({@link BlockPathWarmup}). */
  static void runNode(UnaryOperator<FileSystem> layers, ClusterCredentials credentials, int blockSize) {
    long ms = budgetMillis();
    engine(layers, ms);
    blockPath(credentials, blockSize, ms);
  }

  /** A cluster mount's: the engine's, the block transport's, then the metadata group's ({@link RaftWarmup}). */
  static void runCluster(UnaryOperator<FileSystem> layers, ClusterMounts conn, ClusterCredentials credentials,
      int blockSize) {
    long ms = budgetMillis();
    engine(layers, ms);
    blockPath(credentials, blockSize, ms);
    if (ms > 0) {
      RaftWarmup.run(conn, Duration.ofMillis(ms));
    }
  }

  private static void engine(UnaryOperator<FileSystem> layers, long ms) {
    if (ms > 0) {
      Warmup.run(tmp(), Duration.ofMillis(ms), layers);
    }
  }

  private static void blockPath(ClusterCredentials credentials, int blockSize, long ms) {
    if (ms > 0) {
      BlockPathWarmup.run(tmp(), credentials, blockSize, Duration.ofMillis(ms));
    }
  }

  private static Path tmp() {
    return Path.of(System.getProperty("java.io.tmpdir"));
  }

  private static long budgetMillis() {
    return budgetMillis(System.getProperty(PROPERTY), System.getenv(ENVIRONMENT));
  }

  /** The bound from the property, else the environment; a value that is no count of milliseconds is ignored. */
  static long budgetMillis(String property, String environment) {
    for (String v : new String[] {property, environment}) {
      if (v == null || v.isBlank()) {
        continue;
      }
      try {
        long ms = Long.parseLong(v.trim());
        if (ms >= 0) {
          return ms;
        }
      } catch (NumberFormatException e) {
        // below
      }
      LoggerFactory.getLogger(DaemonWarmup.class).atWarn().addKeyValue("value", v)
          .log("warm-up bound is not a number of milliseconds (0 skips it); using the default");
      return DEFAULT_MS;
    }
    return DEFAULT_MS;
  }

  /** The mount's metrics layer over the scratch engine (its meters in a registry of their own). */
  static FileSystem metered(FileSystem fs) {
    return new MeteredFileSystem(fs, new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
  }
}
