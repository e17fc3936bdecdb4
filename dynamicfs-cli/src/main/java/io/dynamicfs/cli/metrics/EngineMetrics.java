package io.dynamicfs.cli.metrics;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.StatFs;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.SpaceUsage;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * Gauges over the engine's own figures, read at scrape time:
 *
 * <ul>
 *   <li>{@code dfs.store.blocks}, {@code dfs.store.unique} (plain bytes of distinct blocks),
 *       {@code dfs.store.stored} (after compression), {@code dfs.store.files} (bytes of segment files,
 *       dead records included), {@code dfs.store.dead} (dead bytes in segments);
 *   <li>{@code dfs.space.referenced} (bytes files reference: dedup counts each use),
 *       {@code dfs.space.dedup.ratio}, {@code dfs.space.compression.ratio}: from a scan of the block
 *       records, at most once per {@code usageTtlMillis};
 *   <li>{@code dfs.space.total}, {@code dfs.space.available}: the disk under DATA (statfs);
 *   <li>{@code dfs.meta.keys}, {@code dfs.meta.live.data}, {@code dfs.meta.sst.files},
 *       {@code dfs.meta.memtables}: RocksDB's figures per column family (tag {@code cf}).
 * </ul>
 */
public final class EngineMetrics implements MeterBinder {
  private static final Map<String, String> ROCKSDB = Map.of(
      "dfs.meta.keys", "rocksdb.estimate-num-keys",
      "dfs.meta.live.data", "rocksdb.estimate-live-data-size",
      "dfs.meta.sst.files", "rocksdb.total-sst-files-size",
      "dfs.meta.memtables", "rocksdb.cur-size-all-mem-tables");

  private final DynamicFileSystem fs;
  private final long usageTtlMillis;
  private volatile SpaceUsage usage;
  private volatile long usageAt;

  public EngineMetrics(DynamicFileSystem fs, long usageTtlMillis) {
    this.fs = fs;
    this.usageTtlMillis = usageTtlMillis;
  }

  @Override
  public void bindTo(MeterRegistry r) {
    gauge(r, "dfs.store.blocks", null, "Blocks in the block store", f -> store().blocks());
    gauge(r, "dfs.store.unique", "bytes", "Plain bytes of the distinct stored blocks", f -> store().rawBytes());
    gauge(r, "dfs.store.stored", "bytes", "Bytes of the stored blocks after compression",
        f -> store().storedBytes());
    gauge(r, "dfs.store.files", "bytes", "Bytes of segment files, dead records included",
        f -> store().fileBytes());
    gauge(r, "dfs.store.dead", "bytes", "Dead bytes in segment files (reclaimed by compaction and gc)",
        f -> fs.segmentUsage().stream().mapToLong(u -> u.deadBytes()).sum());
    gauge(r, "dfs.space.referenced", "bytes", "Bytes that files reference in blocks (each use of a block counts)",
        f -> usage().referencedBytes());
    gauge(r, "dfs.space.dedup.ratio", null, "Referenced over distinct bytes", f -> usage().dedupRatio());
    gauge(r, "dfs.space.compression.ratio", null, "Plain over stored bytes", f -> usage().compressionRatio());
    gauge(r, "dfs.space.total", "bytes", "Size of the disk holding DATA", f -> statfs().totalBytes());
    gauge(r, "dfs.space.available", "bytes", "Bytes available on the disk holding DATA",
        f -> statfs().availableBytes());
    for (Map.Entry<String, String> e : ROCKSDB.entrySet()) {
      String property = e.getValue();
      for (String cf : fs.metadataFigures(property).keySet()) {
        Gauge.builder(e.getKey(), fs, f -> f.metadataFigures(property).getOrDefault(cf, 0L))
            .tag("cf", cf).baseUnit(e.getKey().equals("dfs.meta.keys") ? null : "bytes")
            .description("RocksDB " + property).register(r);
      }
    }
  }

  private void gauge(MeterRegistry r, String name, String unit, String help, ToDoubleFunction<DynamicFileSystem> f) {
    Gauge.builder(name, fs, f).baseUnit(unit).description(help).strongReference(true).register(r);
  }

  private StoreStats store() {
    return fs.storeStats();
  }

  private StatFs statfs() {
    try {
      return fs.statfs();
    } catch (IOException e) {
      return new StatFs(0, 0, 0, 0, 0, 0, 0);
    }
  }

  /** The last scan of the block records, redone when older than the TTL (never concurrently). */
  public SpaceUsage usage() {
    return usage(usageTtlMillis);
  }

  /** The last scan of the block records, redone when older than {@code maxAgeMillis}. */
  public synchronized SpaceUsage usage(long maxAgeMillis) {
    long now = System.currentTimeMillis();
    if (usage == null || now - usageAt >= maxAgeMillis) {
      try {
        usage = fs.usage();
        usageAt = now;
      } catch (FsException e) {
        return usage == null ? new SpaceUsage(0, 0, 0, 0) : usage;
      }
    }
    return usage;
  }
}
