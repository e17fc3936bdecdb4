package io.dynamicfs.core.storage;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.PathIndex;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Walks every block the metadata references, verifies every copy or shard of it on its tier and (when
 * asked) repairs what is bad or missing, at a bounded rate. One pass is a {@link Report}: blocks and bytes
 * scanned, healthy/repaired/degraded/unrepairable counts, per-device figures and the files touched by
 * unrepairable blocks.
 */
public final class Scrubber {
  private static final Logger log = LoggerFactory.getLogger(Scrubber.class);

  private final TieredStore store;
  private final MetadataStore meta;

  public Scrubber(TieredStore store, MetadataStore meta) {
    this.store = store;
    this.meta = meta;
  }

  /** Progress of a pass. */
  public record Progress(long blocksDone, long blocksTotal, long bytesDone, long bytesTotal) {}

  /** Per-device outcome of a pass: bad records found on it and copies or shards written to it. */
  public record DeviceReport(String tier, String device, String health, long badRecords, long repairs) {}

  public record Report(long blocks, long bytes, long healthy, long repaired, long degraded, long unrepairable,
      List<DeviceReport> devices, List<String> unrepairableFiles, Duration took, boolean cancelled) {}

  /**
   * One pass. {@code tierName} null scrubs every tier; {@code rateBytesPerSecond} ≤ 0 means unlimited.
   * {@code cancelled} is polled between blocks.
   */
  public Report run(boolean repair, String tierName, long rateBytesPerSecond, Consumer<Progress> progress,
      BooleanSupplier cancelled) throws FsException {
    long start = System.nanoTime();
    List<BlockId> ids = new ArrayList<>();
    List<Integer> tierOf = new ArrayList<>();
    long[] total = {0};
    meta.forEachBlock((id, r) -> {
      if (tierName == null || (r.tier() < store.tiers().size() && store.tiers().get(r.tier()).name().equals(tierName))) {
        ids.add(id);
        tierOf.add(r.tier());
        total[0] += r.storedLength();
      }
    });
    Map<Device, long[]> before = new LinkedHashMap<>();
    for (Tier t : store.tiers()) {
      for (Device d : t.devices()) {
        before.put(d, new long[] {d.badRecords(), d.repairs()});
      }
    }
    log.atInfo().addKeyValue("blocks", ids.size()).addKeyValue("bytes", total[0]).addKeyValue("repair", repair)
        .addKeyValue("tier", tierName == null ? "all" : tierName).log("scrub started");
    long healthy = 0;
    long repaired = 0;
    long degraded = 0;
    long bytes = 0;
    long done = 0;
    List<BlockId> lost = new ArrayList<>();
    long lastReport = 0;
    boolean stopped = false;
    for (int i = 0; i < ids.size(); i++) {
      if (cancelled.getAsBoolean()) {
        stopped = true;
        break;
      }
      BlockId id = ids.get(i);
      Tier tier = tierHolding(id, tierOf.get(i));
      BlockCheck c = tier == null ? BlockCheck.unrepairable(id, 0, 1, 0) : tier.check(id, repair);
      bytes += c.bytes();
      done++;
      switch (c.verdict()) {
        case HEALTHY -> healthy++;
        case REPAIRED -> repaired++;
        case DEGRADED -> degraded++;
        case UNREPAIRABLE -> lost.add(id);
      }
      if (rateBytesPerSecond > 0) {
        long due = start + (long) (bytes * 1e9 / rateBytesPerSecond);
        long wait = due - System.nanoTime();
        if (wait > 1_000_000) {
          try {
            Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            stopped = true;
            break;
          }
        }
      }
      long now = System.nanoTime();
      if (now - lastReport > 200_000_000L || i == ids.size() - 1) {
        lastReport = now;
        progress.accept(new Progress(done, ids.size(), bytes, total[0]));
      }
    }
    List<DeviceReport> devices = new ArrayList<>();
    before.forEach((d, b) -> devices.add(new DeviceReport(d.tier(), d.directory().toString(),
        d.health().name().toLowerCase(java.util.Locale.ROOT), d.badRecords() - b[0], d.repairs() - b[1])));
    List<String> files = lost.isEmpty() ? List.of() : filesOf(lost);
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    Report r = new Report(done, bytes, healthy, repaired, degraded, lost.size(), devices, files, took, stopped);
    var ev = lost.isEmpty() ? log.atInfo() : log.atError();
    ev.addKeyValue("blocks", done).addKeyValue("bytes", bytes).addKeyValue("healthy", healthy)
        .addKeyValue("repaired", repaired).addKeyValue("degraded", degraded).addKeyValue("unrepairable", lost.size())
        .addKeyValue("latency_ms", took.toMillis()).addKeyValue("cancelled", stopped).log("scrub finished");
    return r;
  }

  /** The tier the metadata names, or whichever holds the block (a move interrupted by a crash). */
  private Tier tierHolding(BlockId id, int recorded) {
    List<Tier> tiers = store.tiers();
    if (recorded < tiers.size() && tiers.get(recorded).contains(id)) {
      return tiers.get(recorded);
    }
    for (Tier t : tiers) {
      if (t.contains(id)) {
        return t;
      }
    }
    return recorded < tiers.size() ? tiers.get(recorded) : null;
  }

  /** "path @offset" for every file position that references one of {@code ids}. */
  private List<String> filesOf(List<BlockId> ids) throws FsException {
    java.util.Set<BlockId> wanted = new java.util.HashSet<>(ids);
    Map<Long, List<Long>> offsets = new HashMap<>();
    int bs = meta.blockSize();
    meta.forEachChunk((ino, ch) -> {
      if (!ch.isInline() && ch.id() != null && wanted.contains(ch.id())) {
        offsets.computeIfAbsent(ino, x -> new ArrayList<>()).add(ch.index() * (long) bs);
      }
    });
    PathIndex paths = PathIndex.scan(meta);
    List<String> out = new ArrayList<>();
    offsets.forEach((ino, offs) -> {
      for (long off : offs) {
        String f = paths.pathOf(ino) + " @" + off;
        out.add(f);
        log.atError().addKeyValue("path", paths.pathOf(ino)).addKeyValue("ino", ino).addKeyValue("offset", off)
            .log("file has an unrepairable block");
      }
    });
    return out;
  }
}
