package io.dynamicfs.cli.metrics;

import io.dynamicfs.core.storage.Device;
import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.core.storage.TieredStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.io.IOException;
import java.nio.file.Files;

/**
 * Per tier and device, read at scrape time (tags {@code tier}, {@code device}):
 *
 * <ul>
 *   <li>{@code dfs.device.up}: 1 while the device serves reads (online or full), 0 when failed;
 *       {@code dfs.device.full}: 1 while it takes no writes for want of space;
 *   <li>{@code dfs.device.bad.records}: records found corrupt or unreadable on it (counter);
 *       {@code dfs.device.repairs}: copies or shards rewritten onto it (counter);
 *       {@code dfs.device.write.errors} (counter);
 *   <li>{@code dfs.device.used}, {@code dfs.device.free}: bytes of its segment files, free bytes of its disk;
 *   <li>{@code dfs.tier.degraded.writes}: writes stored with fewer copies or shards than the tier asks
 *       (counter, tag {@code tier}).
 * </ul>
 */
public final class StorageMetrics implements MeterBinder {
  private final TieredStore store;

  public StorageMetrics(TieredStore store) {
    this.store = store;
  }

  @Override
  public void bindTo(MeterRegistry r) {
    for (Tier t : store.tiers()) {
      FunctionCounter.builder("dfs.tier.degraded.writes", t, Tier::degradedWrites).tag("tier", t.name())
          .description("Writes stored with fewer copies or shards than the tier's redundancy").register(r);
      for (Device d : t.devices()) {
        Tags tags = Tags.of("tier", t.name(), "device", d.directory().toString());
        Gauge.builder("dfs.device.up", d, x -> x.health() == Device.Health.FAILED ? 0 : 1).tags(tags)
            .description("1 while the device serves reads, 0 when it failed").register(r);
        Gauge.builder("dfs.device.full", d, x -> x.health() == Device.Health.FULL ? 1 : 0).tags(tags)
            .description("1 while the device takes no writes for want of space").register(r);
        FunctionCounter.builder("dfs.device.bad.records", d, Device::badRecords).tags(tags)
            .description("Records found corrupt or unreadable on the device").register(r);
        FunctionCounter.builder("dfs.device.repairs", d, Device::repairs).tags(tags)
            .description("Copies or shards rewritten onto the device").register(r);
        FunctionCounter.builder("dfs.device.write.errors", d, Device::writeErrors).tags(tags)
            .description("Writes or syncs to the device that failed").register(r);
        Gauge.builder("dfs.device.used", d, Device::usedBytes).tags(tags).baseUnit("bytes")
            .description("Bytes of the device's segment files").register(r);
        Gauge.builder("dfs.device.free", d, StorageMetrics::free).tags(tags).baseUnit("bytes")
            .description("Free bytes of the disk under the device").register(r);
      }
    }
  }

  private static double free(Device d) {
    try {
      return Files.getFileStore(d.directory()).getUsableSpace();
    } catch (IOException e) {
      return 0;
    }
  }
}
