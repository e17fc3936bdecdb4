package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.core.storage.TieredStore;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Moves the blocks of a file or tree to another tier, in batches: pin each block (so it cannot be deleted
 * meanwhile), read it verified from where it is, store it on the target tier, sync the target once per
 * batch, switch each block's metadata record with one {@link MetaOp.MoveBlock}, then delete the old copies
 * and unpin. A crash at any point leaves one or two valid copies and metadata naming one of them; the next
 * mount deletes the other.
 */
public final class TierMove {
  private static final Logger log = LoggerFactory.getLogger(TierMove.class);
  private static final int BATCH_BLOCKS = 32;

  public record Progress(long blocksDone, long blocksTotal, long bytesMoved) {}

  public record Result(long files, long blocks, long blocksMoved, long bytesMoved) {}

  private final MetadataStore meta;
  private final MetaLog metaLog;
  private final TieredStore tiers;

  private final double compactBelow;

  TierMove(MetadataStore meta, MetaLog metaLog, TieredStore tiers, double compactBelow) {
    this.compactBelow = compactBelow;
    this.meta = meta;
    this.metaLog = metaLog;
    this.tiers = tiers;
  }

  Result run(long ino, Tier target, Consumer<Progress> progress, BooleanSupplier cancelled) throws IOException {
    long start = System.nanoTime();
    Set<BlockId> blocks = new LinkedHashSet<>();
    long files = collect(ino, blocks);
    List<BlockId> all = new ArrayList<>(blocks);
    long moved = 0;
    long bytes = 0;
    for (int from = 0; from < all.size(); from += BATCH_BLOCKS) {
      if (cancelled.getAsBoolean()) {
        break;
      }
      long[] b = moveBatch(all.subList(from, Math.min(all.size(), from + BATCH_BLOCKS)), target);
      moved += b[0];
      bytes += b[1];
      progress.accept(new Progress(Math.min(all.size(), from + BATCH_BLOCKS), all.size(), bytes));
    }
    if (moved > 0) {
      compactSources(target);
    }
    log.atInfo().addKeyValue("op", "tier_move").addKeyValue("ino", ino).addKeyValue("tier", target.name())
        .addKeyValue("files", files).addKeyValue("blocks", all.size()).addKeyValue("moved", moved)
        .addKeyValue("bytes", bytes).addKeyValue("latency_ms", (System.nanoTime() - start) / 1_000_000)
        .log("tier move finished");
    return new Result(files, all.size(), moved, bytes);
  }

  /** Gives the space of moved blocks back now rather than at the next background compaction. */
  private void compactSources(Tier target) {
    for (Tier t : tiers.tiers()) {
      if (t != target) {
        try {
          t.compact(compactBelow);
        } catch (IOException | RuntimeException e) {
          log.atWarn().addKeyValue("tier", t.name()).addKeyValue("error", e.getMessage())
              .log("compaction after tier move failed; the background compaction retries");
        }
      }
    }
  }

  /** The regular files at or under {@code ino}; their stored blocks go into {@code out}. */
  private long collect(long ino, Set<BlockId> out) throws FsException {
    long files = 0;
    Deque<Long> todo = new ArrayDeque<>();
    todo.add(ino);
    while (!todo.isEmpty()) {
      long cur = todo.poll();
      Inode i = meta.requireInode(cur);
      if (i.isDirectory()) {
        for (DirEntry e : meta.list(cur)) {
          if (e.type() == FileType.DIRECTORY || e.type() == FileType.REGULAR) {
            todo.add(e.ino());
          }
        }
      } else if (i.isRegular()) {
        files++;
        for (Chunk c : meta.chunks(cur, 0, Long.MAX_VALUE)) {
          if (!c.isInline() && c.id() != null) {
            out.add(c.id());
          }
        }
      }
    }
    return files;
  }

  private long[] moveBatch(List<BlockId> batch, Tier target) throws IOException {
    List<BlockId> pinned = new ArrayList<>();
    List<BlockRecord> copied = new ArrayList<>();
    List<BlockId> copiedIds = new ArrayList<>();
    java.util.Map<BlockId, io.dynamicfs.core.block.Placement> placed = new java.util.HashMap<>();
    long bytes = 0;
    try {
      for (BlockId id : batch) {
        boolean present = metaLog.pin(id);
        pinned.add(id);
        BlockRecord r = meta.block(id);
        if (!present || r == null || r.tier() == target.number() || r.tier() >= tiers.tiers().size()) {
          continue;
        }
        Tier source = tiers.tiers().get(r.tier());
        byte[] plain = source.contains(id) ? source.get(id) : tiers.get(id);
        placed.put(id, target.put(id, plain, plain.length).placement());
        copied.add(r);
        copiedIds.add(id);
        bytes += plain.length;
      }
      if (copied.isEmpty()) {
        return new long[] {0, 0};
      }
      target.sync();
      for (int i = 0; i < copied.size(); i++) {
        BlockId id = copiedIds.get(i);
        int fromTier = copied.get(i).tier();
        metaLog.submit(new MetaOp.MoveBlock(id, fromTier, placed.get(id).withTier(target.number())));
        BlockRecord now = meta.block(id);
        if (now != null && now.tier() == target.number()) {
          tiers.tiers().get(fromTier).delete(id);
        }
      }
      return new long[] {copied.size(), bytes};
    } finally {
      for (BlockId id : pinned) {
        metaLog.unpin(id);
      }
    }
  }
}
