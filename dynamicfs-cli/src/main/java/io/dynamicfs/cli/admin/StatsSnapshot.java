package io.dynamicfs.cli.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Cumulative counters at one instant, read from the meter registry: what {@code GET /v1/stats} answers and
 * {@code dynamicfs stats} turns into rates by comparing two of them. Per operation: count, errors, total
 * seconds and the latency histogram (cumulative counts at each bucket's upper bound, in seconds); bytes
 * read and written; per cache level: hits and misses.
 */
final class StatsSnapshot {
  /** One operation's counters. */
  record OpStats(long count, long errors, double seconds, List<double[]> buckets) {}

  /** One cache level's lookups. */
  record CacheStats(double hits, double misses) {}

  /**
   * {@code raft}: on a cluster mount, its replica's term, the commit index it knows and the index it has
   * applied (the {@code dfs.raft.*} gauges); empty on a single node.
   */
  record Snapshot(long timeMillis, double uptimeSeconds, Map<String, OpStats> ops, double bytesRead,
      double bytesWritten, Map<String, CacheStats> caches, Map<String, Double> raft) {}

  private StatsSnapshot() {}

  static Snapshot take(MeterRegistry r, long startedMillis) {
    Map<String, Long> errors = new TreeMap<>();
    for (Counter c : r.find("dfs.fs.op.errors").counters()) {
      errors.merge(c.getId().getTag("op"), (long) c.count(), Long::sum);
    }
    Map<String, OpStats> ops = new TreeMap<>();
    for (Timer t : r.find("dfs.fs.op").timers()) {
      HistogramSnapshot h = t.takeSnapshot();
      List<double[]> buckets = new ArrayList<>();
      for (CountAtBucket b : h.histogramCounts()) {
        buckets.add(new double[] {b.bucket(TimeUnit.SECONDS), b.count()});
      }
      String op = t.getId().getTag("op");
      ops.put(op, new OpStats(h.count(), errors.getOrDefault(op, 0L), h.total(TimeUnit.SECONDS), buckets));
    }
    Map<String, CacheStats> caches = new LinkedHashMap<>();
    Map<String, double[]> hm = new TreeMap<>();
    for (Counter c : r.find("dfs.cache.hits").counters()) {
      add(hm, c.getId().getTag("level"), "hit", c.count());
    }
    for (Counter c : r.find("dfs.cache.misses").counters()) {
      add(hm, c.getId().getTag("level"), "miss", c.count());
    }
    hm.forEach((k, v) -> caches.put(k, new CacheStats(v[0], v[1])));
    Map<String, Double> raft = new LinkedHashMap<>();
    for (String g : List.of("term", "commit.index", "applied.index")) {
      io.micrometer.core.instrument.Gauge gauge = r.find("dfs.raft." + g).gauge();
      if (gauge != null) {
        raft.put(g.replace('.', '_'), gauge.value());
      }
    }
    long now = System.currentTimeMillis();
    return new Snapshot(now, (now - startedMillis) / 1000.0, ops, count(r, "dfs.fs.read"),
        count(r, "dfs.fs.written"), caches, raft);
  }

  private static void add(Map<String, double[]> m, String cache, String result, double n) {
    if (cache == null) {
      return;
    }
    double[] v = m.computeIfAbsent(cache, k -> new double[2]);
    v["hit".equals(result) ? 0 : 1] += n;
  }

  private static double count(MeterRegistry r, String name) {
    Counter c = r.find(name).counter();
    return c == null ? 0 : c.count();
  }
}
