package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.ProgressListener;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.TieredStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One garbage-collection pass over a single node's block store (the engine's {@code gc}). */
final class GarbageCollector {
  private static final Logger log = LoggerFactory.getLogger(GarbageCollector.class);

  private final MetadataStore meta;
  private final MetaLog metaLog;
  private final BlockReclaimer reclaimer;
  private final BlockStore baseStore;
  private final TieredStore tiers;

  GarbageCollector(MetadataStore meta, MetaLog metaLog, BlockReclaimer reclaimer, BlockStore baseStore,
      TieredStore tiers) {
    this.meta = meta;
    this.metaLog = metaLog;
    this.reclaimer = reclaimer;
    this.baseStore = baseStore;
    this.tiers = tiers;
  }

  /**
   * Finds, and with {@code apply} reclaims, garbage in the block store: records no metadata references
   * (deleted only if still unreferenced and unpinned under the MetaLog monitor, so a concurrent writer
   * never loses a block) and the dead space of sealed segments at least {@code minDeadFraction} dead
   * (compacted, as the background task does with one half). A dry run changes nothing.
   */
  GarbageReport run(boolean apply, double minDeadFraction, ProgressListener progress)
      throws IOException {
    if (!(minDeadFraction > 0 && minDeadFraction <= 1)) {
      throw FsException.of(Errno.EINVAL, "dead fraction must be in (0, 1], got %s", minDeadFraction);
    }
    List<StoredBlock> all = new ArrayList<>();
    baseStore.forEach(all::add);
    List<StoredBlock> garbage = new ArrayList<>();
    long scanned = 0;
    for (StoredBlock sb : all) {
      if (meta.block(sb.id()) == null && !meta.isPendingDelete(sb.id()) && !metaLog.isPinned(sb.id())) {
        garbage.add(sb);
      }
      if (++scanned % 4096 == 0) {
        progress.progress("scan", scanned, all.size());
      }
    }
    progress.progress("scan", all.size(), all.size());
    long garbageBytes = 0;
    for (StoredBlock sb : garbage) {
      garbageBytes += sb.storedLength();
    }
    long pendingBlocks = meta.pendingDeletes(Integer.MAX_VALUE).size();
    long deleted = 0;
    if (apply) {
      deleted += reclaimer.reclaim(); // the pending ones go through a purge first
      for (StoredBlock sb : garbage) {
        if (metaLog.deleteIfUnreferenced(sb.id())) {
          deleted++;
        }
      }
      if (deleted > 0) {
        log.atInfo().addKeyValue("blocks", deleted).log("gc deleted unreferenced blocks");
      }
    }
    long segmentBytes = 0;
    long dead = 0;
    long reclaimable = 0;
    int reclaimableSegments = 0;
    List<SegmentStore.SegmentUsage> usage = tiers.segmentUsage();
    for (SegmentStore.SegmentUsage u : usage) {
      segmentBytes += u.fileBytes();
      dead += u.deadBytes();
      if (!u.active() && u.fileBytes() > 0 && (double) u.deadBytes() / u.fileBytes() >= minDeadFraction) {
        reclaimable += u.deadBytes();
        reclaimableSegments++;
      }
    }
    long freed = 0;
    if (apply) {
      // compact() takes segments strictly below the live fraction given; nudge so "exactly at" counts.
      double live = Math.min(1.0, 1.0 - minDeadFraction + 1e-12);
      long before = segmentBytes();
      tiers.compact(live, (done, total) -> progress.progress("compact", done, total));
      freed = Math.max(0, before - segmentBytes());
      log.atInfo().addKeyValue("bytes", freed).addKeyValue("deleted_blocks", deleted).log("gc finished");
    }
    return new GarbageReport(apply, pendingBlocks, garbage.size(), garbageBytes, usage.size(), segmentBytes, dead,
        reclaimableSegments, reclaimable, deleted, freed);
  }

  private long segmentBytes() {
    long n = 0;
    for (SegmentStore.SegmentUsage u : tiers.segmentUsage()) {
      n += u.fileBytes();
    }
    return n;
  }
}
