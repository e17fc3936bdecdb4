package io.dynamicfs.cli.metrics;

import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.Function;

/**
 * The mount daemon's meter registry: one {@link PrometheusMeterRegistry} created at mount, served at
 * {@code /metrics} by the admin server and handed to every part that meters itself (the FileSystem
 * decorator, the engine gauges, the caches). JVM figures (memory pools, GC, threads, classes, CPU, uptime)
 * are bound here.
 *
 * <p>Cache convention, which {@code dynamicfs stats} and the dashboard read: {@code dfs.cache.requests}
 * with tags {@code cache} (l1, l2, …) and {@code result} (hit or miss).
 */
public final class DaemonMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  /** FunctionCounter holds its object weakly: the bound caches are kept here. */
  private final java.util.List<Object> caches = new java.util.concurrent.CopyOnWriteArrayList<>();

  public DaemonMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }

  /**
   * Hit and miss counters of a Caffeine-backed cache level, read from {@code cache} (held strongly: the
   * registry must not lose it to the GC). Used for the L1 memory cache until the cache module registers its
   * own {@code dfs.cache.*} meters on the registry it is given.
   */
  public <T> void bindCache(String level, T cache, Function<T, CacheStats> stats) {
    MeterRegistry r = registry;
    FunctionCounter.builder("dfs.cache.requests", cache, c -> stats.apply(c).hitCount()).tag("cache", level)
        .tag("result", "hit").description("Block cache lookups").register(r);
    FunctionCounter.builder("dfs.cache.requests", cache, c -> stats.apply(c).missCount()).tag("cache", level)
        .tag("result", "miss").description("Block cache lookups").register(r);
    FunctionCounter.builder("dfs.cache.evictions", cache, c -> stats.apply(c).evictionCount()).tag("cache", level)
        .description("Blocks evicted from the cache").register(r);
    caches.add(cache);
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }
}
