package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpCodec;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's way to metadata changes: operations go to an {@link OpJournal} — on a single node applied
 * here one at a time under this object's monitor, each as the next log index; on a cluster mount proposed
 * to the Raft group. Blocks that lose their last reference wait in the metadata's pending deletions until
 * the {@link BlockReclaimer} purges them and deletes their bytes, unless pinned.
 *
 * <p>Pins close the race between dedup and deletion: a writer pins a block id before it checks whether
 * the store holds it, and unpins after its commit (or when it drops the block). A block is deleted only
 * when no metadata references it and nobody has it pinned, both checked under this monitor, so a
 * commit can never reference a deleted block. The monitor also guards the engine's table of open
 * files, so "is it open?" and "unlink it" are one atomic decision.
 */
final class MetaLog {
  private static final Logger log = LoggerFactory.getLogger(MetaLog.class);

  private final MetadataStore meta;
  private final OpJournal journal;
  private final BlockStore store;
  // @GuardedBy("this")
  private final Map<BlockId, Integer> pins = new HashMap<>();
  private final XattrCache xattrs = new XattrCache();

  MetaLog(MetadataStore meta, BlockStore store) throws FsException {
    this(meta, store, ApplyListener.NONE);
  }

  /** A single node's: {@code listener} hears of every applied operation after the xattr cache. */
  MetaLog(MetadataStore meta, BlockStore store, ApplyListener listener) throws FsException {
    this.meta = meta;
    this.store = store;
    this.journal = new LocalJournal(meta, listener);
  }

  /** A cluster mount's: ops go to {@code journal}; no xattr cache (other clients change xattrs too). */
  MetaLog(MetadataStore meta, BlockStore store, OpJournal journal) {
    this.meta = meta;
    this.store = store;
    this.journal = journal;
  }

  /** Applies ops in this process, each as the next index, in the form a Raft log entry carries them. */
  private final class LocalJournal implements OpJournal {
    private final OpApplier applier;
    private final ApplyListener listener;

    LocalJournal(MetadataStore meta, ApplyListener listener) throws FsException {
      this.applier = new OpApplier(meta);
      this.listener = listener;
    }

    @Override
    public OpApplier.Result append(MetaOp op) throws FsException {
      // Called under the MetaLog monitor (submit): one index after the other.
      MetaOp logged = OpCodec.decode(OpCodec.encode(op));
      OpApplier.Result r = applier.apply(applier.appliedIndex() + 1, logged);
      for (long ino : r.touched()) {
        xattrs.invalidate(ino);
      }
      listener.applied(logged, r);
      return r;
    }

    @Override
    public boolean exclusive() {
      return true;
    }
  }

  /**
   * Logs {@code op} as the next entry; its failure comes back as the FsException a local filesystem gives.
   * On a single node cached xattrs of every inode it touched are dropped under this monitor, where reads
   * fill them; then the listener hears of it.
   */
  OpApplier.Result submit(MetaOp op) throws FsException {
    if (!journal.exclusive()) {
      // A shared journal orders ops itself (the Raft log); callers that need "decide and remove" to be
      // atomic with the open-file table still hold this monitor around their submit.
      return journal.append(op).orThrow();
    }
    synchronized (this) {
      return journal.append(op).orThrow();
    }
  }

  /** Waits until every op submitted so far is durable in the log ({@link OpJournal#sync}). */
  void sync() throws FsException {
    journal.sync();
  }

  /** True when cached xattrs can be trusted (only this process changes the metadata). */
  boolean cachesXattrs() {
    return journal.exclusive();
  }

  XattrCache xattrs() {
    return xattrs;
  }

  /** Pins a block and says whether the store already holds it (then it stays there while pinned). */
  synchronized boolean pin(BlockId id) throws FsException {
    pins.merge(id, 1, Integer::sum);
    if (!journal.exclusive()) {
      return meta.block(id) != null; // referenced: its bytes stay on the nodes (a pending one may be purged)
    }
    return store.contains(id);
  }

  /**
   * How a block {@link #pin} found present is stored, or null if that is unknown now. A single node asks
   * its store; a cluster mount answers from the metadata record that made {@link #pin} say "present"
   * (what the store would say, without a round trip to the nodes on every dedup hit).
   */
  io.dynamicfs.core.block.StoredBlock describePinned(BlockId id) throws FsException {
    if (journal.exclusive()) {
      return store.stat(id);
    }
    io.dynamicfs.core.meta.BlockRecord r = meta.block(id);
    return r == null ? null
        : new io.dynamicfs.core.block.StoredBlock(id, r.rawLength(), r.storedLength(), r.codec(), r.placement());
  }

  /** Drops a pin; a block nobody pins or references any more leaves the store. */
  synchronized void unpin(BlockId id) throws FsException {
    Integer n = pins.get(id);
    if (n == null) {
      throw new IllegalStateException("unpin of unpinned block " + id);
    }
    if (n > 1) {
      pins.put(id, n - 1);
      return;
    }
    pins.remove(id);
    if (!journal.exclusive()) {
      journal.unpinned(id); // other clients may share it: the nodes' orphan scan decides (docs/cluster.md)
    } else if (meta.block(id) == null && !meta.isPendingDelete(id)) {
      deleteBytes(id); // written but never committed; a pending one is the reclaimer's
    }
  }

  synchronized boolean isPinned(BlockId id) {
    return pins.containsKey(id);
  }

  /** Deletes a block that nothing references or pins, deciding both under this monitor. */
  synchronized boolean deleteIfUnreferenced(BlockId id) throws FsException {
    if (pins.containsKey(id) || meta.block(id) != null || meta.isPendingDelete(id)) {
      return false;
    }
    try {
      store.delete(id);
      return true;
    } catch (java.io.IOException e) {
      throw new FsException(io.dynamicfs.core.api.Errno.EIO, "cannot delete block " + id + ": " + e.getMessage(), e);
    }
  }

  synchronized int pinnedCount() {
    return pins.size();
  }

  /** Deletes a block's bytes; a failure is logged (the next mount's recovery removes the record). */
  synchronized void deleteBytes(BlockId id) {
    try {
      store.delete(id);
    } catch (Exception e) {
      // The record stays as an orphan; the next mount's reconciliation removes it.
      log.atWarn().addKeyValue("op", "delete").addKeyValue("block", id.toHex()).addKeyValue("error", e.getMessage())
          .log("block delete failed");
    }
  }
}
