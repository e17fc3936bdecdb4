package io.dynamicfs.cache;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.HistogramSnapshot;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The meters of one cache level, all tagged {@code level=l1|l2|l3}:
 *
 * <ul>
 *   <li>{@code dfs.cache.hits}, {@code dfs.cache.misses}, {@code dfs.cache.evictions} (counters);
 *   <li>{@code dfs.cache.hit.bytes}: bytes served from this level (counter);
 *   <li>{@code dfs.cache.size.bytes}: bytes the level holds now (gauge);
 *   <li>{@code dfs.cache.hit.ratio}: hits / (hits + misses) since start (gauge);
 *   <li>{@code dfs.cache.latency} with {@code result=hit|miss}: time of a get at this level (a miss
 *       includes the levels below), with p50/p90/p99 and a histogram;
 *   <li>{@code dfs.cache.admissions}, {@code dfs.cache.rejections}, {@code dfs.cache.corrupt}: blocks
 *       written into the level, refused by its admission policy (or a full write queue), and entries found
 *       damaged and dropped.
 * </ul>
 *
 * <p>{@link #close} logs the level's summary and removes its meters from the registry, so a remount in the
 * same process registers fresh ones.
 */
final class LevelMetrics implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LevelMetrics.class);

  final String level;
  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();
  final Counter hits;
  final Counter misses;
  final Counter evictions;
  final Counter hitBytes;
  final Counter admissions;
  final Counter rejections;
  final Counter corrupt;
  final Timer hitLatency;
  final Timer missLatency;
  private final LongSupplier residentBytes;

  LevelMetrics(MeterRegistry registry, String level, LongSupplier residentBytes) {
    this.registry = registry;
    this.level = level;
    this.residentBytes = residentBytes;
    hits = counter("dfs.cache.hits", "reads this level answered");
    misses = counter("dfs.cache.misses", "reads this level passed below");
    evictions = counter("dfs.cache.evictions", "blocks dropped to stay within the size");
    hitBytes = counter("dfs.cache.hit.bytes", "bytes served from this level");
    admissions = counter("dfs.cache.admissions", "blocks written into this level");
    rejections = counter("dfs.cache.rejections", "blocks refused by the admission policy or a full queue");
    corrupt = counter("dfs.cache.corrupt", "entries that failed verification and were dropped");
    hitLatency = timer("hit");
    missLatency = timer("miss");
    meters.add(Gauge.builder("dfs.cache.size.bytes", residentBytes, s -> s.getAsLong())
        .tag("level", level).baseUnit("bytes").description("bytes held by this level").register(registry));
    meters.add(Gauge.builder("dfs.cache.hit.ratio", this, LevelMetrics::hitRatio)
        .tag("level", level).description("hits / (hits + misses) since the mount").register(registry));
  }

  private Counter counter(String name, String description) {
    Counter c = Counter.builder(name).tag("level", level).description(description).register(registry);
    meters.add(c);
    return c;
  }

  private Timer timer(String result) {
    Timer t = Timer.builder("dfs.cache.latency").tag("level", level).tag("result", result)
        .description("time of a block get at this level (a miss includes the levels below)")
        .publishPercentiles(0.5, 0.9, 0.99).publishPercentileHistogram()
        .minimumExpectedValue(java.time.Duration.ofNanos(100)).maximumExpectedValue(java.time.Duration.ofSeconds(10))
        .register(registry);
    meters.add(t);
    return t;
  }

  void hit(long startNanos, int bytes) {
    hits.increment();
    hitBytes.increment(bytes);
    hitLatency.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  void miss(long startNanos) {
    misses.increment();
    missLatency.record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  double hitRatio() {
    double h = hits.count();
    double total = h + misses.count();
    return total == 0 ? 0 : h / total;
  }

  /** One line per level: what it served, how fast, and how full it is. */
  void logSummary() {
    HistogramSnapshot hit = hitLatency.takeSnapshot();
    HistogramSnapshot miss = missLatency.takeSnapshot();
    log.atInfo().addKeyValue("cache_level", level).addKeyValue("hits", (long) hits.count())
        .addKeyValue("misses", (long) misses.count()).addKeyValue("hit_ratio", Math.round(hitRatio() * 1000) / 1000.0)
        .addKeyValue("evictions", (long) evictions.count()).addKeyValue("admissions", (long) admissions.count())
        .addKeyValue("rejections", (long) rejections.count()).addKeyValue("corrupt", (long) corrupt.count())
        .addKeyValue("size_bytes", residentBytes.getAsLong()).addKeyValue("hit_bytes", (long) hitBytes.count())
        .addKeyValue("hit_p50_us", micros(hit, 0.5)).addKeyValue("hit_p99_us", micros(hit, 0.99))
        .addKeyValue("miss_p50_us", micros(miss, 0.5)).addKeyValue("miss_p99_us", micros(miss, 0.99))
        .log("cache summary");
  }

  private static long micros(HistogramSnapshot s, double percentile) {
    for (ValueAtPercentile v : s.percentileValues()) {
      if (v.percentile() == percentile) {
        return (long) v.value(TimeUnit.MICROSECONDS);
      }
    }
    return -1;
  }

  @Override
  public void close() {
    logSummary();
    for (Meter m : meters) {
      registry.remove(m);
    }
  }
}
