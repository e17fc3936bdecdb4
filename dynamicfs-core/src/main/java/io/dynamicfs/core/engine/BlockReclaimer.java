package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Deletes the bytes of blocks that lost their last reference, outside apply. Apply only moves such a block
 * to the {@code pending_deletes} column family; this class, later, proposes a {@link MetaOp.PurgeBlocks}
 * for those that have waited at least the grace period and that no writer has pinned, and deletes the
 * bytes of the ones the purge confirms (a block referenced again meanwhile is revived by its commit and
 * not purged). Pins, purge and delete are decided under the {@link MetaLog} monitor, so a writer's dedup
 * hit (pin, then "does the store hold it?") can never meet a block whose bytes are going.
 *
 * <p>The grace period is measured from when this process first saw the block pending (a restart starts the
 * wait again: never early). A single node needs none (its pins cover every writer); a cluster's is longer
 * than any client's write lease. A crash between purge and delete leaves an unreferenced record that the
 * next mount's recovery removes.
 */
final class BlockReclaimer {
  /** Blocks purged per operation: bounds the size of one log entry. */
  static final int BATCH = 4096;

  private final MetadataStore meta;
  private final MetaLog metaLog;
  private final long graceNanos;
  private final LongSupplier ticker;
  // @GuardedBy("metaLog")
  private final Map<BlockId, Long> firstSeen = new HashMap<>();

  BlockReclaimer(MetadataStore meta, MetaLog metaLog, Duration grace, LongSupplier ticker) {
    this.meta = meta;
    this.metaLog = metaLog;
    this.graceNanos = grace.toNanos();
    this.ticker = ticker;
  }

  /** Purges and deletes every due block; returns how many were deleted. */
  int reclaim() throws FsException {
    int total = 0;
    while (true) {
      int n = reclaimBatch();
      total += n;
      if (n < BATCH) {
        return total;
      }
    }
  }

  private int reclaimBatch() throws FsException {
    synchronized (metaLog) {
      long now = ticker.getAsLong();
      Map<BlockId, Long> pending = meta.pendingDeletes(Integer.MAX_VALUE);
      firstSeen.keySet().retainAll(pending.keySet());
      List<BlockId> due = new ArrayList<>();
      for (BlockId id : pending.keySet()) {
        long seen = firstSeen.computeIfAbsent(id, k -> now);
        if (now - seen >= graceNanos && !metaLog.isPinned(id)) {
          due.add(id);
          if (due.size() == BATCH) {
            break;
          }
        }
      }
      if (due.isEmpty()) {
        return 0;
      }
      OpApplier.Result r = metaLog.submit(new MetaOp.PurgeBlocks(due));
      for (BlockId id : r.purged()) {
        metaLog.deleteBytes(id);
        firstSeen.remove(id);
      }
      return r.purged().size();
    }
  }
}
