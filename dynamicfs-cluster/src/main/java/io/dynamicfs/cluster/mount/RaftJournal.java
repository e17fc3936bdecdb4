package io.dynamicfs.cluster.mount;

import io.dynamicfs.cluster.raft.MetadataStateMachine;
import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.engine.OpJournal;
import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster mount's journal: proposes each op to the metadata group (retried with the same call id while a
 * new leader is elected, so a retried create happens once) and returns once the mount's own replica has
 * applied it, so the engine reads its own writes.
 *
 * <h2>Asynchronous metadata (docs/cluster-async-metadata.md)</h2>
 * With {@code async} on, every op after the engine opened its session is sent on behalf of the session
 * ({@link MetaOp.AsSession}) through one ordered stream ({@link RaftMetaClient#submitOrdered}), and ops whose
 * outcome this mount alone decides do not wait for their Raft round:
 * <ul>
 *   <li>At its first create or unlink in a directory the mount takes the directory's lease (one round);
 *       from then on no other client can touch the directory or the inodes the mount makes in it, so
 *       creates there (numbered from a range the group granted the session), unlinks of those inodes,
 *       renames of those that are not directories between such directories, and changes to their
 *       attributes, xattrs and contents are applied to the local replica at once
 *       ({@link MetadataStateMachine#speculate}), answered, and logged in the background in order, many
 *       to an entry ({@link MetaOp.Batch}, see {@link OrderedSender}). When their entries come back the replica
 *       only records them ({@link #appliedAhead}). A failure (EEXIST,
 *       ENOENT...) is certain under the lease, so it is answered without logging anything.</li>
 *   <li>Everything else waits for its round as before. An op refused because another mount holds a lease
 *       (EBUSY naming the directory) recalls that lease, waits until the holder's release (which follows
 *       all its pending ops in the log) reaches this replica, and is sent again.</li>
 *   <li>A recall of one of this mount's leases, seen in its replica, makes it release the lease (ordered
 *       after its pending ops) and not take it again for {@link #REACQUIRE_AFTER}.</li>
 *   <li>{@link #sync} (fsync, unmount) returns once every op sent before it is committed (an unmount gives
 *       up after the no-leader timeout). The stream waits for a leader however long it takes. An op the
 *       mount answered that the group then refuses means the replica holds a change the cluster does not:
 *       the mount logs it and fails every later op with EIO.</li>
 * </ul>
 * Other mounts see this mount's pending changes through their barriers ({@link ClusterMounts#barrier}),
 * which recall a lease on what they look up or open.
 */
final class RaftJournal implements OpJournal, MetadataStateMachine.Speculation, ApplyListener {
  private static final Logger log = LoggerFactory.getLogger(RaftJournal.class);
  /** How many inode numbers one grant carries. */
  static final int GRANT = 4096;
  /** How long after giving a lease back the mount does not take it again (no ping-pong between mounts). */
  static final Duration REACQUIRE_AFTER = Duration.ofSeconds(2);
  /** How long a recall waits for the holder's release (a dead holder's lease ends with its session). */
  static final Duration RECALL_TIMEOUT = Duration.ofSeconds(90);
  /**
   * How long an op refused because the cluster ended the mount's session waits for the engine to open a
   * new one (it does at its next renewal, a third of the session's lifetime: 10 s by default) and is sent
   * again, rather than failing with ESTALE.
   */
  static final Duration REOPEN_WAIT = Duration.ofSeconds(15);

  private final RaftMetaClient client;
  private final CopyKeeper keeper;
  private final AppliedWaiter waiter;
  private final Duration catchUp;
  private final MetadataStateMachine replica;
  private final MetadataStore store;
  private final boolean async;
  private final ExecutorService releaser;
  /** The ordered stream every op goes through (null without asynchronous metadata). */
  private final OrderedSender sender;
  /** Sequence numbers of this session's ops applied ahead whose entries have not come yet. */
  private final Set<Long> pending = ConcurrentHashMap.newKeySet();
  private final Set<Long> releasing = ConcurrentHashMap.newKeySet();
  private final Map<Long, Long> releasedAtNs = new ConcurrentHashMap<>();
  private volatile FsException broken;
  private final AtomicLong aheadCount = new AtomicLong();
  private final AtomicLong recallsMade = new AtomicLong();
  private final AtomicLong leasesGivenBack = new AtomicLong();
  private volatile long session;
  // @GuardedBy("this")
  private long seq;
  // @GuardedBy("this"): the granted range [grantNext, grantEnd)
  private long grantNext;
  private long grantEnd;
  /** The range asked for ahead of need, once half of the current one is used, or null. */
  // @GuardedBy("this")
  private CompletableFuture<OpApplier.Result> nextGrant;

  /**
   * {@code keeper}: the mount's {@link CopyKeeper} (replicated clusters), which touches the copies a commit names
   * before it is proposed and hears when the engine drops a block; null for none.
   */
  RaftJournal(RaftMetaClient client, AppliedWaiter waiter, Duration catchUp, MetadataStateMachine replica,
      boolean async, CopyKeeper keeper) throws FsException {
    this.keeper = keeper;
    this.client = client;
    this.waiter = waiter;
    this.catchUp = catchUp;
    this.replica = replica;
    this.store = replica.read(s -> s);
    this.async = async;
    this.releaser = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dfs-lease-release");
      t.setDaemon(true);
      return t;
    });
    this.sender = async ? new OrderedSender(client, OrderedSender.LINGER) : null;
  }

  @Override
  public OpApplier.Result append(MetaOp op) throws FsException {
    if (keeper != null) {
      keeper.beforeCommit(op); // no commit is proposed G/2 or more after a touch of a copy it names
    }
    if (!async || op instanceof MetaOp.RenewSession) {
      // a renewal goes around the queue: behind a long backlog it could come after the session expired
      OpApplier.Result r = client.submit(op);
      waiter.await(r.index(), catchUp);
      return r;
    }
    requireHealthy();
    if (op instanceof MetaOp.CloseSession) {
      syncBeforeClosing();
    }
    if (session == 0 || op instanceof MetaOp.OpenSession || op instanceof MetaOp.CloseSession
        || op instanceof MetaOp.ExpireSessions) {
      CompletableFuture<OpApplier.Result> f = send(op);
      OpApplier.Result r = op instanceof MetaOp.CloseSession ? awaitClosing(f) : awaitApplied(f);
      if (op instanceof MetaOp.OpenSession o && r.ok()) {
        replaceSession(o.id());
      } else if (op instanceof MetaOp.CloseSession && r.ok()) {
        session = 0;
      }
      return r;
    }
    for (int attempt = 0; ; attempt++) {
      CompletableFuture<OpApplier.Result> sent;
      long as;
      synchronized (this) {
        MetaOp ahead = speculative(op);
        if (ahead != null) {
          OpApplier.Result r = applyAhead(ahead);
          if (r != null) {
            return r;
          }
        }
        as = session;
        sent = send(new MetaOp.AsSession(as, ++seq, op));
      }
      OpApplier.Result r = awaitApplied(sent);
      if (attempt >= 20) {
        return r;
      }
      if (r.errno() == Errno.ESTALE && store.session(as) == null) {
        // refused as a whole: the cluster ended the session; send it again as the one the engine opens next
        if (!awaitSessionReplaced(as)) {
          return r;
        }
      } else if (r.leasedDir() != 0) {
        recall(r.leasedDir());
      } else {
        return r;
      }
    }
  }

  /**
   * Makes {@code id} this mount's session. When it replaces one the cluster ended, that session's inode
   * ranges went with it (its leases too, which the replica shows).
   */
  private synchronized void replaceSession(long id) {
    if (session != 0 && session != id) {
      grantNext = grantEnd = 0;
      nextGrant = null;
      log.atInfo().addKeyValue("ended", Long.toHexString(session)).addKeyValue("session", Long.toHexString(id))
          .log("this mount's operations go on as a new session");
    }
    session = id;
    notifyAll();
  }

  /** Waits up to {@link #REOPEN_WAIT} for the engine to open a session in place of {@code ended}. */
  private synchronized boolean awaitSessionReplaced(long ended) throws FsException {
    long deadline = System.nanoTime() + REOPEN_WAIT.toNanos();
    try {
      for (long left; session == ended && (left = deadline - System.nanoTime()) > 0; ) {
        TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FsException(Errno.EIO, "interrupted while waiting for a new session");
    }
    return session != ended;
  }

  /** The op to apply ahead for {@code op} (a create gets a granted number), or null to send it and wait. */
  private MetaOp speculative(MetaOp op) throws FsException {
    if (op instanceof MetaOp.CreateNode c) {
      if (c.parent() == 0 || !leaseFor(c.parent())) {
        return null;
      }
      return new MetaOp.CreateGranted(grantedIno(), c);
    } else if (op instanceof MetaOp.Remove r) {
      long victim = store.lookup(r.parent(), r.name());
      return victim >= 0 && leaseFor(r.parent()) && holds(victim) ? op : null;
    } else if (op instanceof MetaOp.Rename r) {
      // a file or symlink between directories this mount leases, over nothing or over another of its own
      // (a directory's move checks its ancestors, which the lease does not cover)
      long src = store.lookup(r.parent(), r.name());
      long dst = store.lookup(r.newParent(), r.newName());
      boolean ownFiles = src >= 0 && holds(src) && !store.requireInode(src).isDirectory()
          && (dst < 0 || (holds(dst) && !store.requireInode(dst).isDirectory()));
      return ownFiles && leaseFor(r.parent()) && leaseFor(r.newParent()) ? op : null;
    }
    long ino = op instanceof MetaOp.CommitBlocks c ? c.ino()
        : op instanceof MetaOp.SetAttrs s ? s.ino()
        : op instanceof MetaOp.SetXattr s ? s.ino()
        : op instanceof MetaOp.RemoveXattr s ? s.ino()
        : op instanceof MetaOp.Unreserve s ? s.ino() : -1;
    // not Reserve: whether it fits depends on the filesystem's reserved total, which every client changes
    return ino > 0 && holds(ino) ? op : null;
  }

  /** Applies {@code op} here, sends it, and returns its answer; null when it must be sent and waited for. */
  private OpApplier.Result applyAhead(MetaOp op) throws FsException {
    long s = ++seq;
    MetaOp.AsSession wrapped = new MetaOp.AsSession(session, s, op);
    pending.add(s);
    OpApplier.Result r = replica.speculate(wrapped);
    if (!r.ok()) {
      pending.remove(s);
      // certain under the lease; EBUSY would mean the lease is not ours after all: send it and wait
      return r.errno() == Errno.EBUSY ? null : r;
    }
    aheadCount.incrementAndGet();
    CompletableFuture<OpApplier.Result> f = enqueue(s, wrapped, true);
    f.whenComplete((logged, error) -> {
      if ((error != null || !logged.ok()) && broken == null) {
        String why = error != null ? String.valueOf(unwrap(error)) : logged.errno() + " " + logged.message();
        broken = FsException.of(Errno.EIO, "an operation this mount answered was not logged (%s): the mount must be "
            + "remounted", why);
        log.atError().addKeyValue("op", op.getClass().getSimpleName()).addKeyValue("seq", s).addKeyValue("error", why)
            .log("an operation applied ahead was refused or lost by the cluster; this mount fails every later operation");
      }
    });
    return r;
  }

  /** Sends {@code op} in order with everything else, to be waited for. */
  private synchronized CompletableFuture<OpApplier.Result> send(MetaOp op) throws FsException {
    long key = op instanceof MetaOp.AsSession a ? a.seq() : ++seq;
    return enqueue(key, op, false);
  }

  /** Queues {@code op} for the sender; the caller holds this monitor, so the queue's order is the engine's. */
  private CompletableFuture<OpApplier.Result> enqueue(long key, MetaOp op, boolean ahead) throws FsException {
    return sender.enqueue(key, op, ahead);
  }

  private OpApplier.Result awaitApplied(CompletableFuture<OpApplier.Result> f) throws FsException {
    OpApplier.Result r = await(f);
    waiter.await(r.index(), catchUp);
    return r;
  }

  private static OpApplier.Result await(CompletableFuture<OpApplier.Result> f) throws FsException {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FsException(Errno.EIO, "interrupted while waiting for a metadata operation");
    } catch (ExecutionException e) {
      Throwable cause = unwrap(e);
      if (cause instanceof FsException fe) {
        throw new FsException(fe.errno(), fe.getMessage(), fe);
      }
      throw new FsException(Errno.EIO, "metadata operation failed: " + cause, cause);
    }
  }

  private static Throwable unwrap(Throwable t) {
    while ((t instanceof ExecutionException || t instanceof CompletionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }

  /**
   * True when this session holds {@code dir}'s lease, taking it (one round) when no one holds it and this
   * mount did not give it back a moment ago. Caller holds this monitor.
   */
  private boolean leaseFor(long dir) throws FsException {
    if (holds(dir)) {
      return true;
    }
    if (store.lease(dir) != null) {
      return false;
    }
    Long released = releasedAtNs.get(dir);
    if (released != null && System.nanoTime() - released < REACQUIRE_AFTER.toNanos()) {
      return false;
    }
    OpApplier.Result r = awaitApplied(send(new MetaOp.AsSession(session, ++seq, new MetaOp.AcquireDirLease(dir))));
    if (r.ok()) {
      log.atDebug().addKeyValue("dir", dir).log("took a directory lease");
    }
    return r.ok() && holds(dir);
  }

  /** A granted inode number; asks for a new range when the last one is used up. Caller holds this monitor. */
  private long grantedIno() throws FsException {
    if (grantNext >= grantEnd) {
      OpApplier.Result r = null;
      if (nextGrant != null) {
        try {
          r = awaitApplied(nextGrant).orThrow();
        } catch (FsException e) {
          log.atInfo().addKeyValue("error", e.getMessage()).log("inode range asked for ahead failed; asking again");
        }
        nextGrant = null;
      }
      if (r == null) {
        r = awaitApplied(askGrant()).orThrow();
      }
      grantNext = r.ino();
      grantEnd = r.ino() + GRANT;
    }
    if (nextGrant == null && grantEnd - grantNext <= GRANT / 2) {
      // the next range is asked for halfway through this one, so a create rarely waits for it: a grant
      // queued behind full batches waited some 100 ms
      nextGrant = askGrant();
    }
    return grantNext++;
  }

  private CompletableFuture<OpApplier.Result> askGrant() throws FsException {
    return send(new MetaOp.AsSession(session, ++seq, new MetaOp.GrantInodes(GRANT)));
  }

  /**
   * True when this mount holds a lease covering {@code ino} that is not being given back: nobody else can
   * change it, so its replica is authoritative for it.
   */
  boolean holds(long ino) throws FsException {
    long me = session;
    if (!async || me == 0) {
      return false;
    }
    MetadataStore.Lease l = store.lease(ino);
    if (l == null || l.session() != me || releasing.contains(l.root())) {
      return false;
    }
    MetadataStore.Lease root = l.root() == ino ? l : store.lease(l.root());
    return root != null && !root.recalled();
  }

  /**
   * When another client's lease covers {@code ino} (as this replica knows it), recalls the lease and waits
   * until its release has reached this replica, so the holder's pending changes are here too.
   */
  void recallIfLeased(long ino) throws FsException {
    MetadataStore.Lease l = store.lease(ino);
    if (l != null && l.session() != session) {
      recall(l.root());
    }
  }

  private void recall(long dir) throws FsException {
    long start = System.nanoTime();
    recallsMade.incrementAndGet();
    awaitApplied(send(new MetaOp.RecallDirLease(dir))).orThrow();
    long deadline = start + RECALL_TIMEOUT.toNanos();
    while (true) {
      MetadataStore.Lease l = store.lease(dir);
      if (l == null || l.session() == session) {
        break;
      }
      if (System.nanoTime() > deadline) {
        throw FsException.of(Errno.EIO, "directory %d's lease, held by session %x, was not given back within %d s",
            dir, l.session(), RECALL_TIMEOUT.toSeconds());
      }
      try {
        Thread.sleep(2);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FsException(Errno.EIO, "interrupted while recalling a directory lease");
      }
    }
    log.atDebug().addKeyValue("dir", dir).addKeyValue("waited_ms", (System.nanoTime() - start) / 1_000_000)
        .log("recalled a directory lease");
  }

  /** Gives {@code root}'s lease back, after every op sent before (the stream is ordered). */
  private void release(long root) {
    CompletableFuture<OpApplier.Result> f;
    synchronized (this) {
      if (session == 0 || !releasing.add(root)) {
        return;
      }
      releasedAtNs.put(root, System.nanoTime());
      try {
        f = send(new MetaOp.AsSession(session, ++seq, new MetaOp.ReleaseDirLease(root)));
      } catch (FsException e) {
        releasing.remove(root);
        log.atWarn().addKeyValue("dir", root).addKeyValue("error", e.getMessage())
            .log("could not send a lease's release; it ends with the session");
        return;
      }
    }
    leasesGivenBack.incrementAndGet();
    f.whenComplete((r, e) -> {
      releasing.remove(root);
      if (e != null) {
        log.atWarn().addKeyValue("dir", root).addKeyValue("error", String.valueOf(unwrap(e)))
            .log("giving a directory lease back failed; it ends with the session");
      }
    });
  }

  // ---- the replica's side ------------------------------------------------------------------------

  @Override
  public boolean appliedAhead(MetaOp.AsSession op) {
    return op.session() == session && pending.remove(op.seq());
  }

  @Override
  public void forgetAll() {
    pending.clear();
  }

  /** On the replica's apply thread: a recall of one of this mount's leases is answered from another thread. */
  @Override
  public void applied(MetaOp op, OpApplier.Result result) {
    if (!(op instanceof MetaOp.RecallDirLease r) || session == 0) {
      return;
    }
    try {
      MetadataStore.Lease l = store.lease(r.dir());
      if (l != null && l.session() == session) {
        long root = l.root();
        releaser.execute(() -> release(root));
      }
    } catch (FsException e) {
      log.atWarn().addKeyValue("dir", r.dir()).addKeyValue("error", e.getMessage()).log("could not read a recalled lease");
    }
  }

  /** The session this mount's ops are wrapped in, or 0 before it opened one (or with synchronous metadata). */
  long session() {
    return session;
  }

  // ---- the engine's side -------------------------------------------------------------------------

  /** Returns once every op sent before the call is committed; EIO when one this mount answered was lost. */
  @Override
  public void sync() throws FsException {
    if (sender != null) {
      sender.awaitAnswered();
    }
    requireHealthy();
  }

  /**
   * {@link #sync} for an unmount, which must end even when the cluster stays away: after the no-leader
   * timeout it fails with EROFS, and what the cluster has not logged is lost with the mount.
   */
  private void syncBeforeClosing() throws FsException {
    if (sender != null && !sender.answeredWithin(client.noLeaderTimeout().toNanos())) {
      int lost = sender.inFlight();
      log.atError().addKeyValue("unlogged_ops", lost).addKeyValue("waited_s", client.noLeaderTimeout().toSeconds())
          .log("unmounting while the cluster does not answer: operations this mount answered are lost");
      throw FsException.of(Errno.EROFS, "the cluster did not answer within %d s; %d operations this mount "
          + "answered were not logged", client.noLeaderTimeout().toSeconds(), lost);
    }
    requireHealthy();
  }

  /** The answer to an unmount's CloseSession; EROFS when the cluster does not answer within the no-leader timeout. */
  private OpApplier.Result awaitClosing(CompletableFuture<OpApplier.Result> f) throws FsException {
    try {
      f.get(client.noLeaderTimeout().toNanos(), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      throw FsException.of(Errno.EROFS, "the cluster did not answer the session's close within %d s",
          client.noLeaderTimeout().toSeconds());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FsException(Errno.EIO, "interrupted while closing the session");
    } catch (ExecutionException e) {
      // answered: awaitApplied reports it
    }
    return awaitApplied(f);
  }

  private void requireHealthy() throws FsException {
    if (sender != null && sender.isClosed()) {
      throw OrderedSender.closedError();
    }
    FsException b = broken;
    if (b != null) {
      throw new FsException(b.errno(), b.detail(), b);
    }
  }

  @Override
  public boolean exclusive() {
    return false;
  }

  @Override
  public void unpinned(io.dynamicfs.core.block.BlockId id) {
    if (keeper != null) {
      keeper.unpinned(id);
    }
  }

  /** This journal's figures, for the mount's metrics. */
  ClusterMounts.JournalFigures figures() {
    return new ClusterMounts.JournalFigures(async, aheadCount.get(), sender == null ? 0 : sender.inFlight(),
        recallsMade.get(),
        leasesGivenBack.get());
  }

  /** Stops sending: whatever is queued or unanswered fails with EIO, and so does every later op. */
  void close() {
    if (sender != null) {
      sender.close();
    }
    releaser.shutdownNow();
  }
}
