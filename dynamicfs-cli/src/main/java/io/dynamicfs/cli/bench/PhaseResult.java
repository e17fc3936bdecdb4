package io.dynamicfs.cli.bench;

import java.util.Arrays;

/**
 * One measured phase: how many operations moved how many bytes in how much wall time, and the latency of
 * each operation (one read/write call for big files, one whole file for small files, one syscall for
 * metadata).
 */
record PhaseResult(String phase, long ops, long bytes, long wallNanos, long[] latencyNanos) {
  private static final double MIB = 1 << 20;

  double seconds() {
    return wallNanos / 1e9;
  }

  double mibPerSecond() {
    return wallNanos == 0 ? 0 : bytes / MIB / seconds();
  }

  double opsPerSecond() {
    return wallNanos == 0 ? 0 : ops / seconds();
  }

  double latencyAvgMillis() {
    return latencyNanos.length == 0 ? 0 : Arrays.stream(latencyNanos).average().orElse(0) / 1e6;
  }

  /** The nearest-rank percentile {@code p} (0-100] of the per-operation latencies, in milliseconds. */
  double latencyPercentileMillis(double p) {
    if (latencyNanos.length == 0) {
      return 0;
    }
    long[] sorted = latencyNanos.clone();
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))] / 1e6;
  }
}
