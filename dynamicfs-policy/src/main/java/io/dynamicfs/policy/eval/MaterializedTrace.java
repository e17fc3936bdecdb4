package io.dynamicfs.policy.eval;

import io.dynamicfs.policy.trace.TraceReader;
import io.dynamicfs.policy.trace.TraceSource;
import java.io.IOException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A trace held in primitive arrays (12 bytes an access) with each access's next use of the same key: the
 * offline optimum (Belady) needs the future, so the evaluation reads the trace once, streaming, into this.
 * The tracker and the online policies still see one access at a time.
 */
final class MaterializedTrace {
  final String name;
  final long[] keys;
  final int[] bytes;
  final long[] nextUse;
  final int length;
  final long distinct;
  final long footprint;

  private MaterializedTrace(String name, long[] keys, int[] bytes, int length, long[] nextUse, long distinct,
      long footprint) {
    this.name = name;
    this.keys = keys;
    this.bytes = bytes;
    this.length = length;
    this.nextUse = nextUse;
    this.distinct = distinct;
    this.footprint = footprint;
  }

  /**
   * About how many accesses it takes to read {@code target} distinct keys: the mean over a few starting
   * points spread over the trace, each walk stopping at {@code maxSpan}.
   */
  long spanForDistinct(double target, long maxSpan) {
    long sum = 0;
    int starts = 0;
    for (int q = 1; q <= 3; q++) {
      int start = (int) ((long) length * q / 4);
      java.util.HashSet<Long> seen = new java.util.HashSet<>();
      long span = maxSpan;
      for (int i = start; i < length && i - start < maxSpan; i++) {
        if (seen.add(keys[i]) && seen.size() >= target) {
          span = i - start + 1;
          break;
        }
      }
      sum += span;
      starts++;
    }
    return Math.max(1, sum / starts);
  }

  static MaterializedTrace read(TraceSource source, long limit) throws IOException {
    long[] keys = new long[1 << 16];
    int[] bytes = new int[1 << 16];
    int n = 0;
    try (TraceReader r = source.open()) {
      while (n < limit && r.next()) {
        if (n == keys.length) {
          if (n == Integer.MAX_VALUE - 8) {
            throw new IOException(source.name() + ": more than " + n + " accesses; evaluate a prefix (--limit)");
          }
          int grow = (int) Math.min(Integer.MAX_VALUE - 8L, n * 2L);
          keys = Arrays.copyOf(keys, grow);
          bytes = Arrays.copyOf(bytes, grow);
        }
        keys[n] = r.key();
        bytes[n] = r.bytes();
        n++;
      }
    }
    if (n == 0) {
      throw new IOException(source.name() + ": the trace holds no accesses");
    }
    long[] next = new long[n];
    Map<Long, Integer> seen = new HashMap<>();
    long footprint = 0;
    for (int i = n - 1; i >= 0; i--) {
      Integer later = seen.put(keys[i], i);
      next[i] = later == null ? Long.MAX_VALUE : later;
    }
    for (int i = 0; i < n; i++) {
      if (seen.get(keys[i]) == i) { // first access of the key
        footprint += bytes[i];
      }
    }
    return new MaterializedTrace(source.name(), keys, bytes, n, next, seen.size(), footprint);
  }
}
