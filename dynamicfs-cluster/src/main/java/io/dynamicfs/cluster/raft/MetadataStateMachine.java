package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import io.dynamicfs.core.meta.OpCodec;
import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.LifeCycle;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One replica of the metadata: core's {@link OpApplier} over this node's own RocksDB, fed by the Raft log.
 *
 * <h2>Apply</h2>
 * The leader decodes every proposed operation in {@link #startTransaction} and refuses damaged bytes
 * before they are logged. {@link #applyTransaction} applies entries one at a time, in log order, on
 * Ratis' state-machine updater thread, with the entry's term and index written in the same RocksDB batch
 * as the operation's effects; a failed operation is an answer (its errno travels back to the client in
 * {@link ResultCodec} form). Configuration and metadata entries carry no operation but still advance the
 * stored position ({@link #notifyTermIndexUpdated}), so the store's applied index is always the last log
 * index this replica has processed. Listeners hear of each applied operation after its batch is written.
 *
 * <p>When RocksDB itself fails, the replica must stop rather than go on with a hole in its history. Ratis
 * 3.2.2 only logs a failed future from {@code applyTransaction} (StateMachineUpdater#applyLog) and keeps
 * applying, so this class throws instead: the updater catches it, moves to EXCEPTION and closes the
 * server. Every later call fails the same way ({@link #failure}).
 *
 * <h2>Restart</h2>
 * At start the store's applied position is the state machine's snapshot: if it is ahead of the newest
 * checkpoint, a checkpoint is taken at once, so Ratis replays only the log entries after what RocksDB
 * already holds (no entry is applied twice, so the retry cache never holds a replayed answer).
 *
 * <h2>Snapshots</h2>
 * A snapshot is a RocksDB checkpoint ({@link CheckpointStorage}); Ratis' own chunked install ships its
 * files to a follower, and {@link #reinitialize} swaps the installed checkpoint in as the live database.
 * Ratis asks for one every so many entries; {@link SnapshotTrigger} also every so many bytes of log.
 *
 * <h2>Threads</h2>
 * {@code store} and {@code applier} are replaced only on the updater thread ({@link #reinitialize},
 * {@link #close}) or before it starts ({@link #initialize}), under the write lock; the updater thread uses
 * them without the lock, every other thread ({@link #query}, {@link #read}) under the read lock.
 */
public final class MetadataStateMachine extends BaseStateMachine {
  private static final Logger log = LoggerFactory.getLogger(MetadataStateMachine.class);

  private final int blockSize;
  private final ApplyListener listener;
  private final boolean ephemeral;
  /** Where the last operation was applied since start (null: none yet); written by the updater thread. */
  private volatile TermIndex lastChange;
  private final CheckpointStorage storage = new CheckpointStorage();
  private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
  // @GuardedBy("lock") for threads other than the updater
  private MetadataStore store;
  // @GuardedBy("lock") for threads other than the updater
  private OpApplier applier;
  private volatile FsException failure;
  /** Serialises apply on the updater thread with a mount's {@link #speculate} on its own threads. */
  private final java.util.concurrent.locks.ReentrantLock applying = new java.util.concurrent.locks.ReentrantLock();
  private volatile Speculation speculation = Speculation.NONE;
  /** Asks for a checkpoint by log bytes applied (Ratis counts entries only); wired by {@link RaftMetaServer}. */
  private volatile SnapshotTrigger snapshots = SnapshotTrigger.NONE;

  /**
   * A mount's record of its own ops that its replica applied ahead of the log ({@link #speculate}): asked
   * about every op on behalf of a session as its entry comes, under the apply lock.
   */
  public interface Speculation {
    Speculation NONE = new Speculation() {
      @Override
      public boolean appliedAhead(MetaOp.AsSession op) {
        return false;
      }

      @Override
      public void forgetAll() {}
    };

    /** True when this replica already applied {@code op} ahead (it is then only recorded as applied). */
    boolean appliedAhead(MetaOp.AsSession op);

    /** A checkpoint replaced the store: what was applied ahead is gone and will be applied from the log. */
    void forgetAll();
  }

  /**
   * @param blockSize the filesystem's block size (fixed at format time; every replica must agree)
   * @param listener told of every applied operation, on the updater thread; quick, never throws
   * @param ephemeral the store is thrown away with the process, so it writes no WAL (a mount's replica)
   */
  public MetadataStateMachine(int blockSize, ApplyListener listener, boolean ephemeral) {
    this.blockSize = blockSize;
    this.listener = listener;
    this.ephemeral = ephemeral;
  }

  /** Reads on a replica's store; runs under the read lock so an install cannot close the store under it. */
  @FunctionalInterface
  public interface StoreReader<T> {
    T read(MetadataStore store) throws FsException;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    getLifeCycle().startAndTransition(() -> {
      storage.init(raftStorage);
      lock.writeLock().lock();
      try {
        open();
      } finally {
        lock.writeLock().unlock();
      }
    });
  }

  /** Opens the live store; installs a newer checkpoint a crash left uninstalled; checkpoints the rest. */
  private void open() throws IOException {
    store = ephemeral ? MetadataStore.openEphemeral(storage.dbDir(), blockSize)
        : MetadataStore.open(storage.dbDir(), blockSize);
    applier = new OpApplier(store);
    FileListSnapshotInfo latest = storage.latest();
    if (latest != null && latest.getIndex() > applier.appliedIndex()) {
      log.atWarn().addKeyValue("checkpoint", latest.getTermIndex().toString())
          .addKeyValue("applied", applier.appliedIndex()).log("installing a checkpoint an earlier run left");
      swapIn(latest);
    }
    if (applier.appliedIndex() > 0 && (latest == null || latest.getIndex() < applier.appliedIndex())) {
      storage.take(store, applier.appliedTerm(), applier.appliedIndex());
    }
    if (applier.appliedIndex() > 0) {
      setLastAppliedTermIndex(TermIndex.valueOf(applier.appliedTerm(), applier.appliedIndex()));
    }
    log.atInfo().addKeyValue("applied", applier.appliedIndex()).addKeyValue("dir", storage.dbDir().toString())
        .log("metadata replica opened");
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  // ---- proposing and applying -------------------------------------------------------------------

  /** On the leader, before the entry is logged: a frame that does not decode is refused. */
  @Override
  public TransactionContext startTransaction(RaftClientRequest request) throws IOException {
    TransactionContext trx = super.startTransaction(request);
    if (failure != null) {
      return trx.setException(new FsException(Errno.EIO, "this replica's metadata store failed: "
          + failure.getMessage()));
    }
    try {
      trx.setStateMachineContext(OpCodec.decode(request.getMessage().getContent().toByteArray()));
    } catch (FsException e) {
      trx.setException(e);
    }
    return trx;
  }

  public void setSpeculation(Speculation speculation) {
    this.speculation = speculation;
  }

  /**
   * Applies a mount's own op to this replica ahead of its log entry (see {@link OpApplier#speculate}); the
   * caller records it in its {@link Speculation} before it proposes the op.
   */
  public OpApplier.Result speculate(MetaOp op) throws FsException {
    requireHealthy();
    applying.lock();
    try {
      return applier.speculate(op);
    } finally {
      applying.unlock();
    }
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    requireHealthy();
    applying.lock();
    try {
      return applyLocked(trx);
    } finally {
      applying.unlock();
    }
  }

  private CompletableFuture<Message> applyLocked(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    long term = entry.getTerm();
    long index = entry.getIndex();
    MetaOp op = trx.getStateMachineContext() instanceof MetaOp m ? m : null;
    OpApplier.Result result;
    try {
      if (op == null) { // a follower, or a leader after restart: decode the logged bytes
        try {
          op = OpCodec.decode(entry.getStateMachineLogEntry().getLogData().toByteArray());
        } catch (FsException e) {
          // startTransaction refuses such bytes, so only a proposer of another version could log them;
          // every replica decodes the same bytes the same way, so every replica answers the same.
          applier.advance(term, index);
          updateLastAppliedTermIndex(term, index);
          return reply(new OpApplier.Result(index, Errno.EIO, "log entry does not decode: " + e.detail(), 0,
              List.of(), List.of(), Set.of()));
        }
      }
      if (op instanceof MetaOp.AsSession own && speculation.appliedAhead(own)) {
        applier.advance(term, index); // its effects are in the store already
        result = new OpApplier.Result(index, null, null, 0, List.of(), List.of(), Set.of());
      } else {
        Speculation sp = speculation;
        result = applier.apply(term, index, op, inner -> inner instanceof MetaOp.AsSession a && sp.appliedAhead(a));
      }
    } catch (FsException e) {
      throw stop(index, e);
    }
    updateLastAppliedTermIndex(term, index);
    lastChange = TermIndex.valueOf(term, index);
    snapshots.applied(entry.getSerializedSize());
    try {
      listener.applied(op, result);
    } catch (RuntimeException e) {
      log.atError().addKeyValue("index", index).addKeyValue("op", op.getClass().getSimpleName())
          .addKeyValue("error", String.valueOf(e)).log("apply listener failed");
    }
    return reply(result);
  }

  private static CompletableFuture<Message> reply(OpApplier.Result result) {
    return CompletableFuture.completedFuture(
        Message.valueOf(UnsafeByteOperations.unsafeWrap(ResultCodec.encode(result))));
  }

  /** A configuration or metadata entry: recorded in the store so its applied index has no holes. */
  @Override
  public void notifyTermIndexUpdated(long term, long index) {
    requireHealthy();
    if (index <= getLastAppliedTermIndex().getIndex()) {
      return;
    }
    applying.lock();
    try {
      applier.advance(term, index);
    } catch (FsException e) {
      throw stop(index, e);
    } finally {
      applying.unlock();
    }
    super.notifyTermIndexUpdated(term, index);
  }

  private IllegalStateException stop(long index, FsException e) {
    failure = e;
    log.atError().addKeyValue("index", index).addKeyValue("error", e.getMessage())
        .log("metadata store failed; stopping this replica");
    return new IllegalStateException("metadata store failed applying log index " + index
        + "; this replica stops: " + e.getMessage(), e);
  }

  private void requireHealthy() {
    FsException f = failure;
    if (f != null) {
      throw new IllegalStateException("metadata store failed earlier; this replica is stopped: " + f.getMessage(), f);
    }
  }

  // ---- reads ------------------------------------------------------------------------------------

  /** A {@link MetaQuery} in {@link QueryCodec} form, answered from this replica's store. */
  @Override
  public CompletableFuture<Message> query(Message request) {
    byte[] answer;
    lock.readLock().lock();
    try {
      if (store == null) {
        throw new FsException(Errno.EIO, "metadata replica is closed");
      }
      MetaQuery<?> q = QueryCodec.decodeQuery(request.getContent().toByteArray());
      Object value = q instanceof MetaQuery.LastChange ? lastChange() : QueryHandler.answer(store, q);
      answer = QueryCodec.answer(q, value);
    } catch (FsException e) {
      answer = QueryCodec.failure(e);
    } finally {
      lock.readLock().unlock();
    }
    return CompletableFuture.completedFuture(Message.valueOf(UnsafeByteOperations.unsafeWrap(answer)));
  }

  /** Runs {@code reader} on this replica's store (local, possibly stale: for the node itself and tests). */
  public <T> T read(StoreReader<T> reader) throws FsException {
    lock.readLock().lock();
    try {
      if (store == null) {
        throw new FsException(Errno.EIO, "metadata replica is closed");
      }
      return reader.read(store);
    } finally {
      lock.readLock().unlock();
    }
  }

  /**
   * Where this replica applied its last operation; before any since it started (or installed a snapshot),
   * its applied position, which is never earlier.
   */
  private MetaQuery.Position lastChange() {
    TermIndex c = lastChange;
    TermIndex applied = getLastAppliedTermIndex();
    TermIndex t = c != null ? c : applied;
    return t == null ? new MetaQuery.Position(0, 0) : new MetaQuery.Position(t.getTerm(), Math.max(0, t.getIndex()));
  }

  /** The last log index this replica has applied (operations and configuration entries alike). */
  public long appliedIndex() {
    return Math.max(0, getLastAppliedTermIndex().getIndex());
  }

  // ---- snapshots --------------------------------------------------------------------------------

  /** Checkpoints RocksDB at the applied position; Ratis calls it between applies, on the updater thread. */
  @Override
  public long takeSnapshot() throws IOException {
    requireHealthy();
    long index = applier.appliedIndex();
    long term = applier.appliedTerm();
    if (index <= 0) {
      return RaftLog.INVALID_LOG_INDEX;
    }
    try {
      storage.take(store, term, index);
    } catch (IOException e) {
      throw new IOException("checkpoint of metadata at term " + term + " index " + index + " failed", e);
    }
    snapshots.taken();
    log.atInfo().addKeyValue("term", term).addKeyValue("index", index).log("metadata checkpoint taken");
    return index;
  }

  void snapshotTrigger(SnapshotTrigger trigger) {
    this.snapshots = trigger;
  }

  /** Ratis calls this before writing an installed snapshot's first chunk. */
  @Override
  public void pause() {
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.RUNNING) {
      lc.transition(LifeCycle.State.PAUSING);
      lc.transition(LifeCycle.State.PAUSED);
    }
  }

  /** After Ratis installed a leader's checkpoint in the snapshot directory: it becomes the live DB. */
  @Override
  public void reinitialize() throws IOException {
    FileListSnapshotInfo installed = storage.reload();
    applying.lock();
    lock.writeLock().lock();
    try {
      if (installed != null && installed.getIndex() > applier.appliedIndex()) {
        swapIn(installed);
      }
    } finally {
      lock.writeLock().unlock();
      applying.unlock();
    }
    LifeCycle lc = getLifeCycle();
    if (lc.getCurrentState() == LifeCycle.State.PAUSED) {
      lc.transition(LifeCycle.State.STARTING);
      lc.transition(LifeCycle.State.RUNNING);
    }
  }

  /**
   * Makes {@code snapshot} the live DB in place ({@link MetadataStore#replace}): whoever holds the store (a
   * mount's engine reading its replica) keeps the same object and reads the installed contents next.
   * Caller holds the write lock.
   */
  private void swapIn(FileListSnapshotInfo snapshot) throws IOException {
    store.replace(() -> storage.swapIn(snapshot));
    applier.reload();
    if (applier.appliedIndex() != snapshot.getIndex()) {
      throw FsException.of(Errno.EIO, "checkpoint %s holds applied index %d", snapshot.getTermIndex(),
          applier.appliedIndex());
    }
    setLastAppliedTermIndex(snapshot.getTermIndex());
    speculation.forgetAll();
    lastChange = null; // the checkpoint's operations are all at or before its index
    snapshots.taken();
    log.atInfo().addKeyValue("snapshot", snapshot.getTermIndex().toString()).log("installed metadata checkpoint");
  }

  @Override
  public void close() throws IOException {
    lock.writeLock().lock();
    try {
      if (store != null) {
        store.close();
        store = null;
      }
    } finally {
      lock.writeLock().unlock();
    }
  }
}
