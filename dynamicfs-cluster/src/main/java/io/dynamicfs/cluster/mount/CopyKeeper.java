package io.dynamicfs.cluster.mount;

import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.ForwardingBlockStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.meta.MetaOp;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster mount's side of the nodes' orphan scan (docs/cluster.md): keeps the copies this mount stored and
 * has not yet committed alive on their nodes, and bounds the age of what a commit names.
 *
 * <p>A node removes a copy that no block record places on it once nobody has put or touched it for the node's
 * grace period G (the node says G when the mount connects). A mount commits a file's blocks only every 64
 * blocks or at flush, fsync and close, and retries a failed commit later, so a copy may wait long for the commit
 * that names it. This store, over the mount's replicated node store, records when each copy was sent (a PUT)
 * and:
 * <ul>
 *   <li>TOUCHes copies held for G/4 or more, every {@code period} in the background, while the engine still
 *       holds the block for a commit (until its last pin goes: {@link #unpinned});</li>
 *   <li>before a commit is proposed ({@link #beforeCommit}), TOUCHes every copy it names that was sent or
 *       touched G/2 or more ago, and fails the commit with EIO when a node lacks the copy or cannot be asked:
 *       the commit would otherwise publish a hole.</li>
 * </ul>
 * So every commit is proposed less than G/2 after the last touch of every copy it names. Times are this
 * mount's System.nanoTime when the request was <em>sent</em>, never later than when the node recorded it, so
 * the ages this store sees are never younger than the node's.
 *
 * <p>Replicated clusters only (a whole copy's id is what the node holds); copies the engine did not store
 * through this store (a dedup hit on a committed block) are placed by their record and need nothing.
 * Thread-safe: the table is guarded by this object's monitor, never held across a request to a node.
 */
final class CopyKeeper extends ForwardingBlockStore {
  private static final Logger log = LoggerFactory.getLogger(CopyKeeper.class);

  /** Block id → node number → when the copy there was last sent or touched. */
  // @GuardedBy("this")
  private final Map<BlockId, Map<Integer, Long>> held = new HashMap<>();
  /** Node number → its orphan grace in nanoseconds (0: the node removes nothing), as it said at connect. */
  private final Map<Integer, Long> graces = new ConcurrentHashMap<>();
  private final IntFunction<RemoteBlockStore> nodes;
  private final LongSupplier ticker;
  private final ScheduledExecutorService toucher;

  /**
   * Over {@code delegate} (the mount's replicated node store); {@code nodes} gives a node number's store (null
   * when not a member); the background pass runs every {@code periodMillis} (0: never, for tests).
   */
  CopyKeeper(BlockStore delegate, IntFunction<RemoteBlockStore> nodes, LongSupplier ticker, long periodMillis) {
    super(delegate);
    this.nodes = nodes;
    this.ticker = ticker;
    if (periodMillis > 0) {
      toucher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "dfs-copy-keeper");
        t.setDaemon(true);
        return t;
      });
      toucher.scheduleWithFixedDelay(this::keepAlive, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    } else {
      toucher = null;
    }
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    long sent = ticker.getAsLong();
    StoredBlock sb = super.put(id, data, length);
    List<Integer> where = sb.placement().locations();
    for (int n : where) {
      if (!graces.containsKey(n)) {
        learnGrace(n);
      }
    }
    synchronized (this) {
      Map<Integer, Long> copies = held.computeIfAbsent(id, k -> new HashMap<>());
      for (int n : where) {
        copies.merge(n, sent, Math::max);
      }
    }
    return sb;
  }

  /** Range reads go straight to the node store (a decorator must say so: {@link ForwardingBlockStore}). */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    return delegate.readRange(id, offset, dst, dstOffset, length);
  }

  /** The engine holds {@code id} for no commit any more: its copies are no longer kept alive. */
  synchronized void unpinned(BlockId id) {
    held.remove(id);
  }

  /** Copies kept alive now (for tests and figures). */
  synchronized int heldCount() {
    return held.size();
  }

  /**
   * Before {@code op} is proposed: when it commits blocks, touches each copy it names that this mount sent or
   * last touched half a grace period ago or more; EIO when one is gone or its node cannot be asked.
   */
  void beforeCommit(MetaOp op) throws FsException {
    List<MetaOp.ChunkChange> changes = op instanceof MetaOp.CommitBlocks c ? c.changes()
        : op instanceof MetaOp.LogIntents l ? l.commit().changes() : List.of();
    List<BlockId> ids = new ArrayList<>();
    for (MetaOp.ChunkChange c : changes) {
      if (c.id() != null) {
        ids.add(c.id());
      }
    }
    if (ids.isEmpty()) {
      return;
    }
    Map<Integer, List<BlockId>> due = due(ids, 2);
    for (Map.Entry<Integer, List<BlockId>> e : due.entrySet()) {
      String failure = touch(e.getKey(), e.getValue());
      if (failure != null) {
        log.atError().addKeyValue("node", e.getKey()).addKeyValue("blocks", e.getValue().size())
            .addKeyValue("error", failure).log("a commit names copies that could not be touched; it fails");
        throw FsException.of(Errno.EIO, "block copies on node %d could not be kept for the commit: %s", e.getKey(),
            failure);
      }
    }
  }

  /** The background pass: touches copies held a quarter of a grace period or more; failures are logged. */
  void keepAlive() {
    List<BlockId> ids;
    synchronized (this) {
      ids = new ArrayList<>(held.keySet());
    }
    for (Map.Entry<Integer, List<BlockId>> e : due(ids, 4).entrySet()) {
      String failure = touch(e.getKey(), e.getValue());
      if (failure != null) {
        log.atWarn().addKeyValue("node", e.getKey()).addKeyValue("blocks", e.getValue().size())
            .addKeyValue("error", failure).log("uncommitted copies could not be touched; tried again next pass");
      }
    }
  }

  /** Of {@code ids}, the copies held for at least 1/{@code fraction} of their node's grace, by node. */
  private Map<Integer, List<BlockId>> due(List<BlockId> ids, int fraction) {
    long now = ticker.getAsLong();
    Map<Integer, List<BlockId>> due = new LinkedHashMap<>();
    synchronized (this) {
      for (BlockId id : ids) {
        Map<Integer, Long> copies = held.get(id);
        if (copies == null) {
          continue;
        }
        for (Map.Entry<Integer, Long> c : copies.entrySet()) {
          Long grace = graces.get(c.getKey());
          if (grace == null || (grace > 0 && now - c.getValue() >= grace / fraction)) {
            due.computeIfAbsent(c.getKey(), k -> new ArrayList<>()).add(id); // unknown grace: touch to be safe
          }
        }
      }
    }
    return due;
  }

  /** Touches {@code ids} on node {@code node}; null when all were there, else what went wrong. */
  private String touch(int node, List<BlockId> ids) {
    RemoteBlockStore s = nodes.apply(node);
    if (s == null) {
      return "node " + node + " is not a member any more";
    }
    long sent = ticker.getAsLong();
    List<BlockId> absent;
    try {
      absent = s.touch(ids);
      learnGrace(node);
    } catch (IOException | RuntimeException e) {
      return String.valueOf(e);
    }
    synchronized (this) {
      for (BlockId id : ids) {
        Map<Integer, Long> copies = held.get(id);
        if (copies != null && !absent.contains(id)) {
          copies.merge(node, sent, Math::max);
        }
      }
    }
    if (!absent.isEmpty()) {
      return absent.size() + " of " + ids.size() + " copies are gone (first " + absent.get(0).toHex() + ")";
    }
    return null;
  }

  /** Notes node {@code node}'s grace from its connection (a restarted node may have another). */
  private void learnGrace(int node) {
    RemoteBlockStore s = nodes.apply(node);
    if (s == null) {
      return;
    }
    try {
      graces.put(node, TimeUnit.MILLISECONDS.toNanos(s.orphanGraceMillis()));
    } catch (IOException | RuntimeException e) {
      // not now: until it is known, the copies there are touched at every chance
    }
  }

  /** Stops the background pass, then closes the store under it. */
  @Override
  public void close() throws IOException {
    if (toucher != null) {
      toucher.shutdownNow();
      try {
        toucher.awaitTermination(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    super.close();
  }
}
