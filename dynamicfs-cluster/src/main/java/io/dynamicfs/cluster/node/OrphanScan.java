package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.raft.MetaQuery;
import io.dynamicfs.cluster.transport.CopyClock;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.StoredBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's orphan scan: removes the copies this node holds that no block record places on it and that nobody
 * has put or touched for the grace period G. Such copies are left by a mount whose block was superseded before
 * its commit (a rewrite of the same block index, a truncate), stored for a file removed while open, or stored
 * by a mount that died before committing; nothing else would ever remove them.
 *
 * <p>Why it is safe (docs/cluster.md, "The orphan scan"): a mount proposes a commit naming a copy less than G/2
 * after the copy's last PUT or TOUCH (it touches older ones first, and keeps the copies it holds uncommitted
 * touched), and such a proposal is applied within the other G/2. So for a copy untouched for G, any commit
 * naming it has been applied before the scan looks, and the scan's question to the metadata is linearizable
 * ({@link MetaQuery.PlacedOn}, a ReadIndex read, after the copy was picked): "not placed" then means no commit
 * names it, and none will. Each removal holds the id's {@link CopyClock#lockFor} lock and first checks that the
 * touch time is still the one the copy was picked with, so a PUT or TOUCH racing the scan wins. A block waiting in
 * pending deletion counts as placed: the reclaimer removes its copies.
 *
 * <p>Replicated clusters only. An rs-K-M node holds shards under keys derived from the block id, which the
 * metadata does not index: the scan leaves them alone and says so once.
 */
public final class OrphanScan {
  private static final Logger log = LoggerFactory.getLogger(OrphanScan.class);

  /** What the scan asks the metadata; every answer must be linearizable (ReadIndex). */
  public interface Metadata {
    /**
     * This node's number when its copies may be scanned: the cluster's redundancy is replicate-R and the node
     * is a member (not REMOVED); otherwise null and {@code why} gets the reason.
     */
    Integer scannableNode(StringBuilder why) throws FsException;

    /** For each id, whether a record places a copy on {@code node} or the block is pending deletion. */
    boolean[] placedOn(int node, List<BlockId> ids) throws FsException;
  }

  /**
   * One scan's figures: copies held, of those untouched for the grace period ({@code old}), removed (and
   * their stored bytes), and unplaced ones kept because a PUT or TOUCH came during the scan. {@code skipped}
   * names why nothing was looked at, or is null.
   */
  public record Report(long held, long old, long removed, long removedBytes, long keptTouched, String skipped) {}

  private final BlockStore store;
  private final CopyClock clock;
  private final Metadata metadata;
  private final Duration grace;
  private final int batch;
  private final LongAdder removedTotal = new LongAdder();
  private final LongAdder removedBytesTotal = new LongAdder();
  private final LongAdder scans = new LongAdder();
  private volatile String lastSkip;

  /** A scan of {@code store}, whose PUTs and TOUCHes {@code clock} records, with grace period {@code grace}. */
  public OrphanScan(BlockStore store, CopyClock clock, Metadata metadata, Duration grace) {
    this(store, clock, metadata, grace, MetaQuery.PlacedOn.MAX_IDS);
  }

  OrphanScan(BlockStore store, CopyClock clock, Metadata metadata, Duration grace, int batch) {
    if (grace.isNegative() || grace.isZero()) {
      throw new IllegalArgumentException("orphan grace " + grace + " must be positive");
    }
    this.store = store;
    this.clock = clock;
    this.metadata = metadata;
    this.grace = grace;
    this.batch = Math.max(1, Math.min(batch, MetaQuery.PlacedOn.MAX_IDS));
  }

  public Duration grace() {
    return grace;
  }

  /** Copies removed by every scan since this node started. */
  public long removed() {
    return removedTotal.sum();
  }

  /** Stored bytes of the copies removed since this node started. */
  public long removedBytes() {
    return removedBytesTotal.sum();
  }

  /** Scans run (skipped ones included). */
  public long scans() {
    return scans.sum();
  }

  /**
   * Runs one scan: picks the copies untouched for the grace period, asks the metadata about them in batches,
   * and removes the unplaced ones whose touch time did not move. One scan at a time. A failed metadata read
   * ends the scan (what was removed stays removed; the next scan goes on).
   */
  public synchronized Report scan() throws IOException {
    scans.increment();
    long started = System.nanoTime();
    StringBuilder why = new StringBuilder();
    Integer node = metadata.scannableNode(why);
    if (node == null) {
      String reason = why.length() == 0 ? "not scannable" : why.toString();
      if (!reason.equals(lastSkip)) {
        log.atInfo().addKeyValue("reason", reason).log("orphan scan: this node's copies are left alone");
      }
      lastSkip = reason;
      return new Report(0, 0, 0, 0, 0, reason);
    }
    lastSkip = null;
    Pass pass = new Pass(node, clock.now());
    try {
      store.forEachId(pass::consider);
      pass.flush();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    } finally {
      clock.forgetOlderThan(grace.toNanos());
    }
    Report r = new Report(pass.held, pass.old, pass.removed, pass.removedBytes, pass.keptTouched, null);
    removedTotal.add(r.removed());
    removedBytesTotal.add(r.removedBytes());
    log.atInfo().addKeyValue("node", node).addKeyValue("held", r.held()).addKeyValue("old", r.old())
        .addKeyValue("removed", r.removed()).addKeyValue("removed_bytes", r.removedBytes())
        .addKeyValue("kept_touched", r.keptTouched()).addKeyValue("grace_s", grace.toSeconds())
        .addKeyValue("ms", (System.nanoTime() - started) / 1_000_000).log("orphan scan done");
    return r;
  }

  /** One scan's walk over the store: candidates in batches, each batch asked about and acted on at once. */
  private final class Pass {
    private final int node;
    private final long start;
    private final List<BlockId> ids = new ArrayList<>();
    private final List<Long> touchedAt = new ArrayList<>();
    long held;
    long old;
    long removed;
    long removedBytes;
    long keptTouched;

    Pass(int node, long start) {
      this.node = node;
      this.start = start;
    }

    void consider(BlockId id) {
      held++;
      long last = clock.lastTouch(id);
      if (start - last < grace.toNanos()) {
        return;
      }
      old++;
      ids.add(id);
      touchedAt.add(last);
      if (ids.size() >= batch) {
        try {
          flush();
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }

    /** Asks about the batch (after every copy in it was picked) and removes the unplaced ones still untouched. */
    void flush() throws IOException {
      if (ids.isEmpty()) {
        return;
      }
      boolean[] placed = metadata.placedOn(node, ids);
      if (placed.length != ids.size()) {
        throw new IllegalStateException("placement answer of " + placed.length + " for " + ids.size() + " ids");
      }
      for (int i = 0; i < placed.length; i++) {
        if (!placed[i]) {
          removeIfUntouched(ids.get(i), touchedAt.get(i));
        }
      }
      ids.clear();
      touchedAt.clear();
    }

    private void removeIfUntouched(BlockId id, long picked) throws IOException {
      synchronized (clock.lockFor(id)) {
        long last = clock.lastTouch(id);
        if (last != picked || clock.now() - last < grace.toNanos()) {
          keptTouched++; // a PUT or TOUCH came since it was picked: a mount may commit it yet
          return;
        }
        StoredBlock sb = store.stat(id);
        if (sb == null) {
          return; // deleted meanwhile (the reclaimer, a repair)
        }
        store.delete(id);
        clock.forget(id);
        removed++;
        removedBytes += sb.storedLength();
        log.atDebug().addKeyValue("block", id.toHex()).addKeyValue("bytes", sb.storedLength())
            .log("orphan copy removed");
      }
    }
  }
}
