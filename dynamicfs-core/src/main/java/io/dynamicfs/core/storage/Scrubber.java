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
      List<DeviceReport> devices, List<String> unrepairableFiles, long tookMillis, boolean cancelled) {}

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
    java.util.concurrent.atomic.AtomicLong healthy = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong repaired = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong degraded = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
    java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
    List<BlockId> lost = java.util.Collections.synchronizedList(new ArrayList<>());
    long[] lastReport = {0};
    ByteRate pace = new ByteRate(rateBytesPerSecond);
    // Blocks are checked by a few threads (checksums, decoding and hashing are CPU work); the rate limit
    // and the progress reports are shared.
    Runnable worker = () -> {
      for (int i = next.getAndIncrement(); i < ids.size(); i = next.getAndIncrement()) {
        if (stop.get() || cancelled.getAsBoolean()) {
          stop.set(true);
          return;
        }
        BlockId id = ids.get(i);
        Tier tier = tierHolding(id, tierOf.get(i));
        BlockCheck c = tier == null ? BlockCheck.unrepairable(id, 0, 1, 0) : tier.check(id, repair);
        long b = bytes.addAndGet(c.bytes());
        long n = done.incrementAndGet();
        switch (c.verdict()) {
          case HEALTHY -> healthy.incrementAndGet();
          case REPAIRED -> repaired.incrementAndGet();
          case DEGRADED -> degraded.incrementAndGet();
          case UNREPAIRABLE -> {
            if (stillReferenced(id)) {
              lost.add(id);
            } else {
              healthy.incrementAndGet(); // deleted by a writer while the pass ran: nothing to scrub
            }
          }
        }
        if (!pace.awaitTotal(b)) {
          stop.set(true);
          return;
        }
        synchronized (lastReport) {
          long now = System.nanoTime();
          if (now - lastReport[0] > 200_000_000L || n == ids.size()) {
            lastReport[0] = now;
            progress.accept(new Progress(n, ids.size(), b, total[0]));
          }
        }
      }
    };
    int threads = rateBytesPerSecond > 0 ? 1 : Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    List<Thread> pool = new ArrayList<>();
    for (int t = 1; t < threads; t++) {
      Thread th = new Thread(worker, "dfs-scrub-" + t);
      th.setDaemon(true);
      th.start();
      pool.add(th);
    }
    worker.run();
    for (Thread th : pool) {
      try {
        th.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        stop.set(true);
      }
    }
    boolean stopped = stop.get();
    List<DeviceReport> devices = new ArrayList<>();
    before.forEach((d, b) -> devices.add(new DeviceReport(d.tier(), d.directory().toString(),
        d.health().name().toLowerCase(java.util.Locale.ROOT), d.badRecords() - b[0], d.repairs() - b[1])));
    List<String> files = lost.isEmpty() ? List.of() : filesOf(List.copyOf(lost));
    Duration took = Duration.ofNanos(System.nanoTime() - start);
    Report r = new Report(done.get(), bytes.get(), healthy.get(), repaired.get(), degraded.get(), lost.size(), devices,
        files, took.toMillis(), stopped);
    var ev = lost.isEmpty() ? log.atInfo() : log.atError();
    ev.addKeyValue("blocks", r.blocks()).addKeyValue("bytes", r.bytes()).addKeyValue("healthy", r.healthy())
        .addKeyValue("repaired", r.repaired()).addKeyValue("degraded", r.degraded()).addKeyValue("unrepairable", lost.size())
        .addKeyValue("latency_ms", took.toMillis()).addKeyValue("cancelled", stopped).log("scrub finished");
    return r;
  }

  private boolean stillReferenced(BlockId id) {
    try {
      return meta.block(id) != null;
    } catch (FsException e) {
      return true;
    }
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
