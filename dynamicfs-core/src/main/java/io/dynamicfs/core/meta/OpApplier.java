package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.meta.MetaOp.ChunkChange;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of metadata: {@link #apply} turns an operation into one atomic batch. It validates first
 * (every errno a caller can see is raised before anything is written), reads only the store and the
 * operation (never a clock, never the proposer's state), allocates new inode numbers from a counter kept
 * in the store, and records the log index in the same batch. A failed operation is an answer, not an
 * exception: its errno is returned and its index is still recorded (alone), so the applied index follows
 * the log one entry at a time on every replica, and replaying a log after a crash is idempotent (entries
 * at or below the stored index are skipped).
 *
 * <p>Not thread-safe: the caller serialises {@code apply} (one lock on a single node, the Raft log in a
 * cluster).
 */
public final class OpApplier {
  private static final Logger log = LoggerFactory.getLogger(OpApplier.class);
  /** Largest link count of a file (as ext4). */
  static final int LINK_MAX = 65000;
  static final int XATTR_SIZE_MAX = 65536;
  private static final int S_ISGID = 02000;

  private final MetadataStore store;
  private long applied;
  private long appliedTerm;
  private long nextIno;
  /** The position this applier last wrote to the store, so a write leaves out what did not change. */
  private final Tx.Written written = new Tx.Written();
  /**
   * Read-through memos of what the store holds, for the reads every op of a mount's batch repeats: a session
   * known to exist (0: none), and the ranges granted to one session (null: none). Each is dropped by the op
   * that changes what it remembers ({@link #closeSession}, {@link #grant}) and when the store is replaced;
   * filled only from the store, so an op that fails never leaves its own changes in them.
   */
  private long liveSession;
  private long grantsSession;
  private List<long[]> grantsMemo;

  public OpApplier(MetadataStore store) throws FsException {
    this.store = store;
    reload();
  }

  /**
   * The answer to one log entry: its index, the errno it failed with (null when it succeeded), the inode
   * a create made, the blocks that lost their last reference (now pending deletion), the blocks a
   * {@link MetaOp.PurgeBlocks} removed for good (their bytes may go now) and the inodes whose records it
   * changed or removed (for cache invalidation).
   */
  public record Result(long index, Errno errno, String message, long ino, List<BlockId> freed,
      List<BlockId> purged, Set<Long> touched) {
    public boolean ok() {
      return errno == null;
    }

    /** This result, or its failure as the FsException the caller would have seen on a local filesystem. */
    public Result orThrow() throws FsException {
      if (errno != null) {
        throw new FsException(errno, message);
      }
      return this;
    }

    static Result failed(long index, Errno errno, String message) {
      return new Result(index, errno, message, 0, List.of(), List.of(), Set.of());
    }

    /**
     * For a failure with EBUSY (an inode under another session's lease, see {@link MetaOp.AsSession}): the
     * leased directory to recall; else 0.
     */
    public long leasedDir() {
      return errno == Errno.EBUSY ? ino : 0;
    }
  }

  public long appliedIndex() {
    return applied;
  }

  /** The Raft term of the last applied entry (0 on a single node). */
  public long appliedTerm() {
    return appliedTerm;
  }

  /** Re-reads the applied position and inode counter, after the store under this applier was replaced. */
  public void reload() throws FsException {
    this.applied = store.appliedIndex();
    this.appliedTerm = store.appliedTerm();
    this.nextIno = store.nextIno();
    written.forget();
    liveSession = 0;
    grantsMemo = null;
  }

  /** {@link #apply(long, long, MetaOp)} at term 0: a single node's own log. */
  public Result apply(long index, MetaOp op) throws FsException {
    return apply(0, index, op);
  }

  /**
   * Records a log entry that carries no operation (a Raft configuration change or a leader's no-op) as
   * applied, so the stored position follows the log without holes. An index at or below the applied one
   * is ignored.
   */
  public void advance(long term, long index) throws FsException {
    if (index > applied) {
      recordFailure(term, index, null, null);
    }
  }

  /**
   * Applies the log entry at {@code index} (of Raft term {@code term}), recording both with its effects. Validation failures come back as a failed {@link Result}
   * (index recorded); an entry at or below the applied index is not applied again and comes back failed
   * with EALREADY-like EINVAL. Throws only when the store cannot write the batch: then this replica must
   * stop, not go on with a hole in its history.
   */
  public Result apply(long term, long index, MetaOp op) throws FsException {
    return apply(term, index, op, inner -> false);
  }

  /**
   * {@link #apply(long, long, MetaOp)}; for a {@link MetaOp.Batch}, inner ops for which {@code appliedAhead}
   * says true were applied to this store already ({@link #speculate}) and are only counted.
   */
  public Result apply(long term, long index, MetaOp op, java.util.function.Predicate<MetaOp> appliedAhead)
      throws FsException {
    if (index <= applied) {
      return Result.failed(index, Errno.EINVAL, "log index " + index + " is at or below the applied index " + applied);
    }
    if (op instanceof MetaOp.Batch b) {
      return applyBatch(term, index, b, appliedAhead);
    }
    long inoBefore = nextIno;
    try (Tx tx = new Tx(store)) {
      long ino = dispatch(tx, op);
      List<BlockId> freed = tx.commit(term, index, nextIno, written);
      applied = index;
      appliedTerm = term;
      return new Result(index, null, null, ino, freed, tx.purged(), tx.touchedInodes());
    } catch (FsException e) {
      nextIno = inoBefore;
      if (e.getCause() instanceof org.rocksdb.RocksDBException) {
        throw e; // the store itself failed
      }
      Result failed = recordFailure(term, index, e.errno(), e.getMessage());
      return e instanceof Tx.Leased l ? leased(failed, l) : failed;
    } catch (RuntimeException e) {
      nextIno = inoBefore;
      // A malformed operation (a bug in some proposer); deterministic, so every replica answers the same.
      log.atError().addKeyValue("index", index).addKeyValue("op", op.getClass().getSimpleName())
          .addKeyValue("error", String.valueOf(e)).log("operation could not be applied");
      return recordFailure(term, index, Errno.EIO, "operation could not be applied: " + e);
    }
  }

  private static Result leased(Result failed, Tx.Leased l) {
    return new Result(failed.index(), failed.errno(), failed.message(), l.root(), List.of(), List.of(), Set.of());
  }

  /**
   * Applies {@code op} to the store ahead of the log, without moving the applied position: a cluster mount's
   * own op, whose outcome its leases make certain, so its engine reads the effect at once; the mount's
   * replica does not apply the op again when its log entry comes (see MetadataStateMachine). Same validation
   * and answer as {@link #apply}; a failure changes nothing.
   */
  public Result speculate(MetaOp op) throws FsException {
    long inoBefore = nextIno;
    try (Tx tx = new Tx(store)) {
      long ino = dispatch(tx, op);
      List<BlockId> freed = tx.commit(appliedTerm, applied, nextIno, written);
      return new Result(applied, null, null, ino, freed, tx.purged(), tx.touchedInodes());
    } catch (FsException e) {
      nextIno = inoBefore;
      if (e.getCause() instanceof org.rocksdb.RocksDBException) {
        throw e;
      }
      Result failed = Result.failed(applied, e.errno(), e.getMessage());
      return e instanceof Tx.Leased l ? leased(failed, l) : failed;
    }
  }

  /**
   * A batch entry: each inner op in its own atomic write, all but the last leaving the applied position
   * where it was and recording how far the entry went, so a crash in between replays the entry and resumes
   * after the last inner op written. The answer is the first inner failure, or success (freed, purged and
   * touched gathered over all).
   */
  private Result applyBatch(long term, long index, MetaOp.Batch b, java.util.function.Predicate<MetaOp> appliedAhead)
      throws FsException {
    List<MetaOp> ops = b.ops();
    if (ops.isEmpty()) {
      return recordFailure(term, index, null, null);
    }
    long done = store.batchProgress(index);
    Result failure = null;
    List<BlockId> freed = new java.util.ArrayList<>();
    List<BlockId> purged = new java.util.ArrayList<>();
    Set<Long> touched = new java.util.HashSet<>();
    for (int k = 0; k < ops.size(); k++) {
      if (k <= done) {
        continue;
      }
      boolean last = k == ops.size() - 1;
      MetaOp op = ops.get(k);
      long inoBefore = nextIno;
      Result r;
      boolean ahead = appliedAhead.test(op);
      if (ahead && !last) {
        // already in this store (a mount's own op): nothing to write; a mount's replica is never replayed
        continue;
      }
      try (Tx tx = new Tx(store)) {
        long ino = ahead ? 0 : dispatch(tx, op);
        List<BlockId> f = commitStep(tx, term, index, k, last);
        r = new Result(index, null, null, ino, f, tx.purged(), tx.touchedInodes());
      } catch (FsException | RuntimeException e) {
        nextIno = inoBefore;
        if (e instanceof FsException fe && fe.getCause() instanceof org.rocksdb.RocksDBException) {
          throw fe; // the store itself failed
        }
        // a malformed op (RuntimeException) is answered EIO, as by apply: deterministic on every replica
        r = e instanceof FsException fe ? Result.failed(index, fe.errno(), fe.getMessage())
            : Result.failed(index, Errno.EIO, "operation could not be applied: " + e);
        r = e instanceof Tx.Leased l ? leased(r, l) : r;
        try (Tx tx = new Tx(store)) {
          commitStep(tx, term, index, k, last);
        }
      }
      if (!r.ok() && failure == null) {
        failure = r;
      }
      freed.addAll(r.freed());
      purged.addAll(r.purged());
      touched.addAll(r.touched());
    }
    applied = index;
    appliedTerm = term;
    return failure != null ? failure : new Result(index, null, null, 0, freed, purged, touched);
  }

  /**
   * Writes inner op {@code k} of batch entry {@code index} with how far the entry went; only the last moves
   * the applied position (to the entry).
   */
  private List<BlockId> commitStep(Tx tx, long term, long index, int k, boolean last) throws FsException {
    tx.batchProgress(index, last ? -1 : k);
    return last ? tx.commit(term, index, nextIno, written) : tx.commit(appliedTerm, applied, nextIno, written);
  }

  /** Writes the new applied position alone (a failed or empty entry). */
  private Result recordFailure(long term, long index, Errno errno, String message) throws FsException {
    try (Tx tx = new Tx(store)) {
      tx.commit(term, index, nextIno, written);
    }
    applied = index;
    appliedTerm = term;
    return Result.failed(index, errno, message);
  }

  // Java 17 has no pattern switch; the sealed interface keeps this list complete by review.
  /** Applies {@code op} to {@code tx}; returns the inode a create made, else 0. */
  private long dispatch(Tx tx, MetaOp op) throws FsException {
    if (op instanceof MetaOp.AsSession a) {
      if (!sessionLives(a.session())) {
        throw FsException.of(Errno.ESTALE, "session %x has ended", a.session());
      }
      tx.actAs(a.session());
      return dispatch(tx, a.op());
    } else if (op instanceof MetaOp.CreateNode c) {
      return create(tx, c, 0);
    } else if (op instanceof MetaOp.CreateGranted c) {
      return createGranted(tx, c);
    } else if (op instanceof MetaOp.GrantInodes g) {
      return grant(tx, g);
    } else if (op instanceof MetaOp.AcquireDirLease a) {
      acquireLease(tx, a.dir());
    } else if (op instanceof MetaOp.RecallDirLease r) {
      recallLease(tx, r.dir());
    } else if (op instanceof MetaOp.ReleaseDirLease r) {
      MetadataStore.Lease l = store.lease(r.dir());
      if (tx.session() != 0 && l != null && l.session() == tx.session() && l.root() == r.dir()) {
        dropLease(tx, r.dir());
      }
    } else if (op instanceof MetaOp.Link l) {
      link(tx, l);
    } else if (op instanceof MetaOp.Remove r) {
      remove(tx, r);
    } else if (op instanceof MetaOp.Rename r) {
      rename(tx, r);
    } else if (op instanceof MetaOp.SetAttrs s) {
      setAttrs(tx, s);
    } else if (op instanceof MetaOp.SetXattr s) {
      setXattr(tx, s);
    } else if (op instanceof MetaOp.RemoveXattr r) {
      removeXattr(tx, r);
    } else if (op instanceof MetaOp.CommitBlocks c) {
      commitBlocks(tx, c);
    } else if (op instanceof MetaOp.LogIntents l) {
      logIntents(tx, l);
    } else if (op instanceof MetaOp.Reserve r) {
      reserve(tx, r);
    } else if (op instanceof MetaOp.ReclaimInode r) {
      reclaim(tx, r);
    } else if (op instanceof MetaOp.MoveBlock m) {
      tx.moveBlock(m.id(), m.fromTier(), m.to());
    } else if (op instanceof MetaOp.ReplaceBlockPlacement r) {
      tx.replacePlacement(r.id(), r.expected(), r.to());
    } else if (op instanceof MetaOp.OpenSession o) {
      openSession(tx, o);
    } else if (op instanceof MetaOp.Noop) {
      // only the applied index moves
    } else if (op instanceof MetaOp.Unreserve u) {
      unreserve(tx, u);
    } else if (op instanceof MetaOp.CloneBlocks c) {
      cloneBlocks(tx, c);
    } else if (op instanceof MetaOp.RenewSession r) {
      MetadataStore.Session live = store.session(r.id());
      if (live == null) {
        throw FsException.of(Errno.ENOENT, "session %x has ended", r.id());
      }
      tx.put(store.sessions, Keys.ino(r.id()),
          new MetadataStore.Session(r.id(), live.client(), r.expiresNs()).encodeValue());
    } else if (op instanceof MetaOp.CloseSession c) {
      if (store.session(c.id()) == null) {
        throw FsException.of(Errno.ENOENT, "session %x has ended", c.id());
      }
      closeSession(tx, c.id());
    } else if (op instanceof MetaOp.ExpireSessions e) {
      for (MetadataStore.Session s : store.sessions()) {
        if (s.expiresNs() <= e.nowNs()) {
          closeSession(tx, s.id());
        }
      }
    } else if (op instanceof MetaOp.SetClusterConfig c) {
      if (store.clusterConfig() != null) {
        throw new FsException(Errno.EEXIST, "the cluster settings are written once, at cluster-init");
      }
      if (c.blockSize() < 4096 || Integer.bitCount(c.blockSize()) != 1 || c.inlineMax() < 0) {
        throw FsException.of(Errno.EINVAL, "bad block size %d or inline maximum %d", c.blockSize(), c.inlineMax());
      }
      io.dynamicfs.core.codec.Codec.byId(c.codecId());
      tx.put(store.meta, MetadataStore.CLUSTER_KEY, OpCodec.encode(c));
    } else if (op instanceof MetaOp.AddNode a) {
      return addNode(tx, a);
    } else if (op instanceof MetaOp.SetNodeState n) {
      MetadataStore.Node node = store.node(n.nodeId());
      if (node == null) {
        throw FsException.of(Errno.ENOENT, "no node '%s' in the cluster", n.nodeId());
      }
      if (!java.util.Set.of("ACTIVE", "DRAINING", "REMOVED").contains(n.state())) {
        throw FsException.of(Errno.EINVAL, "unknown node state '%s'", n.state());
      }
      tx.put(store.nodes, n.nodeId().getBytes(StandardCharsets.UTF_8), new MetadataStore.Node(node.number(),
          node.nodeId(), node.raftAddress(), node.blockAddress(), n.state()).encodeValue());
    } else if (op instanceof MetaOp.PurgeBlocks p) {
      for (BlockId id : p.ids()) {
        tx.purge(id);
      }
    } else {
      throw new IllegalArgumentException("unknown operation " + op.getClass());
    }
    return 0;
  }

  /** True when session {@code id} (not 0) exists in the store. */
  private boolean sessionLives(long id) throws FsException {
    if (id == 0) {
      return false;
    }
    if (id != liveSession) {
      if (store.session(id) == null) {
        return false;
      }
      liveSession = id;
    }
    return true;
  }

  /** The inode ranges granted to {@code session}, as stored. */
  private List<long[]> grants(long session) throws FsException {
    if (grantsMemo == null || grantsSession != session) {
      grantsMemo = store.grants(session);
      grantsSession = session;
    }
    return grantsMemo;
  }

  /**
   * {@link MetaOp.GrantInodes}: the next {@code count} numbers. A session holds its two newest ranges: a
   * mount asks for the next range while it still numbers creates from the current one.
   */
  private long grant(Tx tx, MetaOp.GrantInodes g) throws FsException {
    grantsMemo = null;
    if (tx.session() == 0) {
      throw new FsException(Errno.EINVAL, "inode numbers are granted to a session only");
    }
    if (g.count() < 1 || g.count() > 65536) {
      throw FsException.of(Errno.EINVAL, "cannot grant %d inode numbers", g.count());
    }
    List<long[]> granted = store.grants(tx.session());
    long newest = Long.MIN_VALUE;
    for (long[] old : granted) {
      newest = Math.max(newest, old[0]);
    }
    for (long[] old : granted) {
      if (old[0] != newest) {
        tx.delete(store.meta, Keys.meta(MetadataStore.GRANT_PREFIX, tx.session(), old[0]));
      }
    }
    long from = nextIno;
    nextIno = from + g.count();
    tx.put(store.meta, Keys.meta(MetadataStore.GRANT_PREFIX, tx.session(), from), Keys.ino(nextIno));
    return from;
  }

  private long createGranted(Tx tx, MetaOp.CreateGranted c) throws FsException {
    boolean granted = false;
    if (tx.session() != 0) {
      for (long[] range : grants(tx.session())) {
        granted |= c.ino() >= range[0] && c.ino() < range[1];
      }
    }
    if (!granted || c.create().parent() == 0) {
      throw FsException.of(Errno.EINVAL, "inode number %d was not granted to session %x", c.ino(), tx.session());
    }
    if (store.inode(c.ino()) != null) {
      throw FsException.of(Errno.EINVAL, "granted inode number %d is already in use", c.ino());
    }
    return create(tx, c.create(), c.ino());
  }

  /** {@link MetaOp.AcquireDirLease}: the directory must be free of other sessions' leases (the guard in Tx). */
  private void acquireLease(Tx tx, long dir) throws FsException {
    if (tx.session() == 0) {
      throw new FsException(Errno.EINVAL, "only a session can hold a lease");
    }
    Inode d = tx.directory(dir); // EBUSY when another session's lease covers it
    if (d.nlink() == 0) {
      throw FsException.of(Errno.ENOENT, "directory %d was removed", dir);
    }
    if (store.lease(dir) != null) {
      return; // this session's already, as a root or under one of its roots
    }
    tx.putLease(dir, new MetadataStore.Lease(tx.session(), dir, false));
    tx.put(store.meta, Keys.meta(MetadataStore.COVER_PREFIX, dir, dir), new byte[0]);
  }

  private void recallLease(Tx tx, long dir) throws FsException {
    MetadataStore.Lease l = store.lease(dir);
    if (l == null) {
      return;
    }
    MetadataStore.Lease root = l.root() == dir ? l : store.lease(l.root());
    if (root != null && !root.recalled()) {
      tx.putLease(l.root(), new MetadataStore.Lease(root.session(), root.root(), true));
    }
  }

  /** Ends the lease rooted at {@code root} and every cover it has. */
  private void dropLease(Tx tx, long root) throws FsException {
    for (long ino : store.leaseCovered(root)) {
      tx.delete(store.meta, Keys.meta(MetadataStore.COVER_PREFIX, root, ino));
      tx.deleteLease(ino);
    }
  }

  /** A new inode made by the holder of a lease on its parent is covered by that lease. */
  private void coverIfLeased(Tx tx, long parent, long ino) throws FsException {
    if (tx.session() == 0) {
      return;
    }
    MetadataStore.Lease l = store.lease(parent);
    if (l != null && l.session() == tx.session()) {
      tx.putLease(ino, new MetadataStore.Lease(tx.session(), l.root(), false));
      tx.put(store.meta, Keys.meta(MetadataStore.COVER_PREFIX, l.root(), ino), new byte[0]);
    }
  }

  /** {@code fixedIno} 0: the next number from the counter; else a number granted to the op's session. */
  private long create(Tx tx, MetaOp.CreateNode c, long fixedIno) throws FsException {
    FileType type = FileType.ofMode(c.mode());
    if (c.parent() == 0 && c.name().isEmpty()) {
      if (store.inode(FileSystem.ROOT_INO) != null) {
        throw new FsException(Errno.EEXIST, "the root directory exists");
      }
      tx.put(new Inode(FileSystem.ROOT_INO, FileType.DIRECTORY.bits() | (c.mode() & 07777), c.uid(), c.gid(), 2,
          0, 0, 0, c.timeNs(), c.timeNs(), c.timeNs(), FileSystem.ROOT_INO));
      nextIno = Math.max(nextIno, FileSystem.ROOT_INO + 1);
      return FileSystem.ROOT_INO;
    }
    Names.requireValid(c.name());
    Inode parent = tx.directory(c.parent());
    if (parent.nlink() == 0) {
      throw FsException.of(Errno.ENOENT, "directory %d was removed", c.parent());
    }
    if (tx.dirent(c.parent(), c.name()) != null) {
      throw FsException.of(Errno.EEXIST, "'%s' exists in directory %d", c.name(), c.parent());
    }
    boolean dir = type == FileType.DIRECTORY;
    int mode = type.bits() | (c.mode() & 07777);
    int gid = c.gid();
    if ((parent.mode() & S_ISGID) != 0) {
      gid = parent.gid();
      if (dir) {
        mode |= S_ISGID;
      }
    }
    if (!dir && (mode & S_ISGID) != 0 && !c.privileged() && gid != c.gid()) {
      mode &= ~S_ISGID;
    }
    long ino = fixedIno != 0 ? fixedIno : nextIno;
    if (fixedIno == 0) {
      if (store.inode(ino) != null) {
        throw FsException.of(Errno.EIO, "inode number %d is already in use (damaged counter)", ino);
      }
      nextIno = ino + 1;
    }
    coverIfLeased(tx, c.parent(), ino);
    long size = 0;
    if (type == FileType.SYMLINK) {
      byte[] target = Names.requireValidTarget(c.target()).getBytes(StandardCharsets.UTF_8);
      size = target.length;
      tx.put(store.symlinks, Keys.ino(ino), target);
    }
    tx.put(new Inode(ino, mode, c.uid(), gid, dir ? 2 : 1, c.rdev(), size, 0, c.timeNs(), c.timeNs(),
        c.timeNs(), dir ? c.parent() : 0));
    tx.putDirent(c.parent(), c.name(), new Dirent(ino, type));
    Inode p = tx.inode(c.parent());
    tx.put(p.withNlink(p.nlink() + (dir ? 1 : 0)).withTimes(p.atimeNs(), c.timeNs(), c.timeNs()));
    return ino;
  }

  private void link(Tx tx, MetaOp.Link l) throws FsException {
    Names.requireValid(l.newName());
    Inode target = tx.inode(l.ino());
    if (target.isDirectory()) {
      throw FsException.of(Errno.EPERM, "cannot hard-link directory %d", l.ino());
    }
    if (target.nlink() == 0) {
      throw FsException.of(Errno.ENOENT, "inode %d has been unlinked", l.ino());
    }
    if (target.nlink() >= LINK_MAX) {
      throw FsException.of(Errno.EMLINK, "inode %d has %d links", l.ino(), target.nlink());
    }
    Inode parent = tx.directory(l.newParent());
    if (parent.nlink() == 0) {
      throw FsException.of(Errno.ENOENT, "directory %d was removed", l.newParent());
    }
    if (tx.dirent(l.newParent(), l.newName()) != null) {
      throw FsException.of(Errno.EEXIST, "'%s' exists in directory %d", l.newName(), l.newParent());
    }
    tx.putDirent(l.newParent(), l.newName(), new Dirent(l.ino(), target.type()));
    tx.put(target.withNlink(target.nlink() + 1).withCtime(l.timeNs()));
    touchDir(tx, l.newParent(), l.timeNs());
  }

  private void remove(Tx tx, MetaOp.Remove r) throws FsException {
    tx.directory(r.parent());
    Dirent d = tx.dirent(r.parent(), r.name());
    if (d == null) {
      throw FsException.of(Errno.ENOENT, "no '%s' in directory %d", r.name(), r.parent());
    }
    Inode victim = tx.inode(d.ino());
    if (r.directory()) {
      if (!victim.isDirectory()) {
        throw FsException.of(Errno.ENOTDIR, "'%s' is not a directory", r.name());
      }
      if (tx.hasEntries(victim.ino())) {
        throw FsException.of(Errno.ENOTEMPTY, "directory '%s' is not empty", r.name());
      }
    } else if (victim.isDirectory()) {
      throw FsException.of(Errno.EISDIR, "'%s' is a directory", r.name());
    }
    tx.deleteDirent(r.parent(), r.name());
    dropName(tx, victim, r.parent(), r.session(), r.timeNs());
    touchDir(tx, r.parent(), r.timeNs());
  }

  private void rename(Tx tx, MetaOp.Rename r) throws FsException {
    if ((r.flags() & ~(FileSystem.RENAME_NOREPLACE | FileSystem.RENAME_EXCHANGE)) != 0
        || r.flags() == (FileSystem.RENAME_NOREPLACE | FileSystem.RENAME_EXCHANGE)) {
      throw FsException.of(Errno.EINVAL, "bad rename flags %d", r.flags());
    }
    Names.requireValid(r.newName());
    tx.directory(r.parent());
    Inode newParent = tx.directory(r.newParent());
    Dirent src = tx.dirent(r.parent(), r.name());
    if (src == null) {
      throw FsException.of(Errno.ENOENT, "no '%s' in directory %d", r.name(), r.parent());
    }
    Dirent dst = tx.dirent(r.newParent(), r.newName());
    Inode moving = tx.inode(src.ino());
    boolean exchange = (r.flags() & FileSystem.RENAME_EXCHANGE) != 0;
    if (dst != null && dst.ino() == src.ino()) {
      return; // two names of one inode: POSIX says do nothing
    }
    if (moving.isDirectory() && r.parent() != r.newParent()) {
      requireNotAncestor(tx, moving.ino(), r.newParent());
    }
    if (exchange) {
      if (dst == null) {
        throw FsException.of(Errno.ENOENT, "no '%s' to exchange with", r.newName());
      }
      Inode other = tx.inode(dst.ino());
      if (other.isDirectory() && r.parent() != r.newParent()) {
        requireNotAncestor(tx, other.ino(), r.parent());
      }
      tx.putDirent(r.newParent(), r.newName(), src);
      tx.putDirent(r.parent(), r.name(), dst);
      reparent(tx, moving, r.parent(), r.newParent(), r.timeNs());
      reparent(tx, tx.inode(other.ino()), r.newParent(), r.parent(), r.timeNs());
      touchDir(tx, r.parent(), r.timeNs());
      touchDir(tx, r.newParent(), r.timeNs());
      return;
    }
    if (dst != null) {
      if ((r.flags() & FileSystem.RENAME_NOREPLACE) != 0) {
        throw FsException.of(Errno.EEXIST, "'%s' exists", r.newName());
      }
      Inode victim = tx.inode(dst.ino());
      if (moving.isDirectory()) {
        if (!victim.isDirectory()) {
          throw FsException.of(Errno.ENOTDIR, "'%s' is not a directory", r.newName());
        }
        if (tx.hasEntries(victim.ino())) {
          throw FsException.of(Errno.ENOTEMPTY, "directory '%s' is not empty", r.newName());
        }
      } else if (victim.isDirectory()) {
        throw FsException.of(Errno.EISDIR, "'%s' is a directory", r.newName());
      }
      tx.deleteDirent(r.newParent(), r.newName());
      dropName(tx, victim, r.newParent(), r.session(), r.timeNs());
    }
    if (newParent.nlink() == 0) {
      throw FsException.of(Errno.ENOENT, "directory %d was removed", r.newParent());
    }
    tx.deleteDirent(r.parent(), r.name());
    tx.putDirent(r.newParent(), r.newName(), src);
    reparent(tx, tx.inode(moving.ino()), r.parent(), r.newParent(), r.timeNs());
    touchDir(tx, r.parent(), r.timeNs());
    touchDir(tx, r.newParent(), r.timeNs());
  }

  private static void reparent(Tx tx, Inode node, long from, long to, long timeNs) throws FsException {
    if (node.isDirectory() && from != to) {
      Inode f = tx.inode(from);
      tx.put(f.withNlink(f.nlink() - 1));
      Inode t = tx.inode(to);
      tx.put(t.withNlink(t.nlink() + 1));
      node = node.withParent(to);
    }
    tx.put(node.withCtime(timeNs));
  }

  /** EINVAL when {@code dir} is {@code start} or one of its ancestors (a move into its own subtree). */
  private static void requireNotAncestor(Tx tx, long dir, long start) throws FsException {
    long cur = start;
    for (int depth = 0; depth < 1_000_000; depth++) {
      if (cur == dir) {
        throw FsException.of(Errno.EINVAL, "cannot move directory %d into its own subtree", dir);
      }
      if (cur == FileSystem.ROOT_INO) {
        return;
      }
      cur = tx.inode(cur).parent();
    }
    throw FsException.of(Errno.EIO, "directory parent chain from %d does not reach the root", start);
  }

  /**
   * One name of {@code victim} is gone: update links and reclaim or orphan when none remain. An (empty)
   * directory has one name; one that {@code session} holds open becomes an orphan like a file, so fstat
   * on its descriptor still answers (nlink 0) until the last close.
   */
  private void dropName(Tx tx, Inode victim, long parent, long session, long timeNs) throws FsException {
    if (victim.isDirectory()) {
      Inode p = tx.inode(parent);
      tx.put(p.withNlink(p.nlink() - 1));
      if (sessionLives(session)) {
        tx.put(victim.withNlink(0).withCtime(timeNs));
        tx.put(store.orphans, Keys.ino(victim.ino()), Keys.ino(session));
      } else {
        deleteInode(tx, victim.ino());
      }
      return;
    }
    int n = victim.nlink() - 1;
    if (n > 0) {
      tx.put(victim.withNlink(n).withCtime(timeNs));
    } else if (sessionLives(session)) {
      tx.put(victim.withNlink(0).withCtime(timeNs));
      tx.put(store.orphans, Keys.ino(victim.ino()), Keys.ino(session));
    } else {
      deleteInode(tx, victim.ino());
    }
  }

  private void deleteInode(Tx tx, long ino) throws FsException {
    java.util.Map<Long, Integer> lengths = new java.util.HashMap<>();
    for (Chunk c : store.chunks(ino, 0, Long.MAX_VALUE)) {
      unref(tx, c);
      tx.deleteChunk(ino, c.index());
      lengths.put(c.index(), c.length());
    }
    for (long idx : store.reservedIndexes(ino, 0, Long.MAX_VALUE)) {
      tx.addReserved(-(store.blockSize() - lengths.getOrDefault(idx, 0)));
      tx.unreserve(ino, idx);
    }
    for (String x : store.xattrNames(ino)) {
      tx.delete(store.xattrs, Keys.named(ino, x));
    }
    dropOverlays(tx, ino, 0, Long.MAX_VALUE);
    tx.delete(store.symlinks, Keys.ino(ino));
    tx.delete(store.orphans, Keys.ino(ino));
    MetadataStore.Lease l = store.lease(ino);
    if (l != null) {
      if (l.root() == ino) {
        dropLease(tx, ino);
      } else {
        tx.deleteLease(ino);
        tx.delete(store.meta, Keys.meta(MetadataStore.COVER_PREFIX, l.root(), ino));
      }
    }
    tx.deleteInode(ino);
  }

  private static void unref(Tx tx, Chunk c) throws FsException {
    if (!c.isInline()) {
      tx.addRef(c.id(), -1, null);
    }
  }

  private static void touchDir(Tx tx, long dir, long timeNs) throws FsException {
    Inode d = tx.inode(dir);
    tx.put(d.withTimes(d.atimeNs(), timeNs, timeNs));
  }

  private void setAttrs(Tx tx, MetaOp.SetAttrs s) throws FsException {
    Inode i = tx.inode(s.ino());
    int mode = i.mode();
    if (s.mode() != null) {
      mode = (mode & FileType.S_IFMT) | (s.mode() & 07777);
    }
    int uid = i.uid();
    int gid = i.gid();
    if (s.uid() != null || s.gid() != null) {
      uid = s.uid() != null ? s.uid() : uid;
      gid = s.gid() != null ? s.gid() : gid;
      if (!i.isDirectory()) {
        // Linux clears set-user-ID on chown, and set-group-ID when group-executable, even for root.
        mode &= ~04000;
        if ((mode & 00010) != 0) {
          mode &= ~02000;
        }
      }
    }
    long atime = s.atimeNs() != null ? s.atimeNs() : i.atimeNs();
    long mtime = s.mtimeNs() != null ? s.mtimeNs() : i.mtimeNs();
    tx.put(i.withMode(mode).withOwner(uid, gid).withTimes(atime, mtime, s.timeNs()));
  }

  private void setXattr(Tx tx, MetaOp.SetXattr s) throws FsException {
    Names.requireValidXattr(s.name());
    Inode i = tx.inode(s.ino());
    if (s.value().length > XATTR_SIZE_MAX) {
      throw FsException.of(Errno.E2BIG, "xattr value of %d bytes exceeds %d", s.value().length, XATTR_SIZE_MAX);
    }
    boolean exists = store.xattr(s.ino(), s.name()) != null;
    if ((s.flags() & FileSystem.XATTR_CREATE) != 0 && exists) {
      throw FsException.of(Errno.EEXIST, "xattr '%s' exists", s.name());
    }
    if ((s.flags() & FileSystem.XATTR_REPLACE) != 0 && !exists) {
      throw FsException.of(Errno.ENODATA, "no xattr '%s'", s.name());
    }
    tx.put(store.xattrs, Keys.named(s.ino(), s.name()), s.value());
    tx.put(i.withCtime(s.timeNs()));
  }

  private void removeXattr(Tx tx, MetaOp.RemoveXattr r) throws FsException {
    Names.requireValidXattr(r.name());
    Inode i = tx.inode(r.ino());
    if (store.xattr(r.ino(), r.name()) == null) {
      throw FsException.of(Errno.ENODATA, "no xattr '%s'", r.name());
    }
    tx.delete(store.xattrs, Keys.named(r.ino(), r.name()));
    tx.put(i.withCtime(r.timeNs()));
  }

  /**
   * Accounted bytes ({@link Inode#storedBytes}, st_blocks): each block-list entry's length, except that a
   * reserved index counts a whole block written or not; the part of a reserved block not written yet is
   * also in the filesystem's reserved total.
   */
  private void commitBlocks(Tx tx, MetaOp.CommitBlocks c) throws FsException {
    Inode i = tx.inode(c.ino());
    if (!i.isRegular()) {
      throw FsException.of(Errno.EINVAL, "inode %d is not a regular file", c.ino());
    }
    if (c.size() < 0) {
      throw FsException.of(Errno.EINVAL, "negative size %d", c.size());
    }
    long bs = store.blockSize();
    if (c.size() > FileSystem.maxFileSize((int) bs)) {
      throw FsException.of(Errno.EFBIG, "size %d exceeds the largest file size %d", c.size(),
          FileSystem.maxFileSize((int) bs));
    }
    long end = (c.size() + bs - 1) / bs;
    long cut = c.truncatedTo() >= 0 ? Math.min(c.truncatedTo(), c.size()) : c.size();
    long cutIndex = (cut + bs - 1) / bs;
    long stored = i.storedBytes();
    java.util.Set<Long> dropped = new java.util.HashSet<>();
    // A truncate (even to the same size, as ext4) also releases reservations past the new end of file.
    if (cut < i.size() || c.truncatedTo() >= 0) {
      for (Chunk old : store.chunks(c.ino(), cutIndex, Long.MAX_VALUE)) {
        unref(tx, old);
        tx.deleteChunk(c.ino(), old.index());
        if (tx.isReserved(c.ino(), old.index())) {
          tx.unreserve(c.ino(), old.index());
          tx.addReserved(-(bs - old.length()));
          stored -= bs;
        } else {
          stored -= old.length();
        }
        dropped.add(old.index());
      }
      for (long idx : store.reservedIndexes(c.ino(), cutIndex, Long.MAX_VALUE)) {
        if (!dropped.contains(idx)) { // a reserved index with nothing written
          tx.unreserve(c.ino(), idx);
          tx.addReserved(-bs);
          stored -= bs;
        }
      }
    }
    if (cut < i.size() || c.truncatedTo() >= 0) {
      dropOverlays(tx, c.ino(), cutIndex, Long.MAX_VALUE);
    }
    for (ChunkChange ch : c.changes()) {
      if (ch.index() < 0 || ch.index() >= end) {
        continue;
      }
      dropOverlays(tx, c.ino(), ch.index(), ch.index() + 1); // the new block has them folded in
      if (!ch.isHole() && (ch.length() <= 0 || ch.length() > bs)) {
        throw FsException.of(Errno.EINVAL, "block length %d out of range", ch.length());
      }
      Chunk old = dropped.contains(ch.index()) ? null : store.chunk(c.ino(), ch.index());
      int oldLength = 0;
      if (old != null) {
        unref(tx, old);
        oldLength = old.length();
        tx.deleteChunk(c.ino(), ch.index());
      }
      int newLength = 0;
      if (ch.inline() != null) {
        tx.putChunk(c.ino(), new Chunk(ch.index(), null, ch.length(), ch.inline()));
        newLength = ch.length();
      } else if (ch.id() != null) {
        tx.addRef(ch.id(), 1, new BlockRecord(0, ch.length(), ch.storedLength(), ch.codec(), ch.placement()));
        tx.putChunk(c.ino(), new Chunk(ch.index(), ch.id(), ch.length(), null));
        newLength = ch.length();
      }
      if (tx.isReserved(c.ino(), ch.index())) {
        tx.addReserved(oldLength - newLength); // written bytes use the reservation up; st_blocks stays
      } else {
        stored += newLength - oldLength;
      }
    }
    tx.put(i.withSize(c.size(), stored).withTimes(i.atimeNs(), c.mtimeNs(), c.ctimeNs()));
    if (c.attrs() != null) {
      if (c.attrs().ino() != c.ino()) {
        throw FsException.of(Errno.EINVAL, "attributes for inode %d in a commit of %d", c.attrs().ino(), c.ino());
      }
      setAttrs(tx, c.attrs());
    }
  }

  /**
   * Shares the source's blocks with the destination: each source chunk of the range is put at the matching
   * destination index (a stored block gains a reference, inline bytes are copied, a missing chunk is a hole);
   * the destination's chunk there is released. Accounting as {@link #commitBlocks}: a reserved destination
   * index uses its reservation up, any other counts the new length less the old in st_blocks. Inline bytes
   * only go to block 0 (EAGAIN otherwise, before anything changed: checked in the loop before any write
   * since a source's inline chunk can only be its block 0, the first of the range).
   */
  private void cloneBlocks(Tx tx, MetaOp.CloneBlocks c) throws FsException {
    Inode src = tx.inode(c.srcIno());
    Inode dst = tx.inode(c.dstIno());
    if (!src.isRegular() || !dst.isRegular()) {
      throw FsException.of(Errno.EINVAL, "clone from %d to %d: both must be regular files", c.srcIno(), c.dstIno());
    }
    long bs = store.blockSize();
    long max = FileSystem.maxFileSize((int) bs) / bs;
    if (c.count() <= 0 || c.srcIndex() < 0 || c.dstIndex() < 0 || c.srcIndex() > max - c.count()
        || c.dstIndex() > max - c.count() || c.minSize() < 0 || c.minSize() > (c.dstIndex() + c.count()) * bs) {
      throw FsException.of(Errno.EINVAL, "bad clone range %d+%d to %d (size %d)", c.srcIndex(), c.count(),
          c.dstIndex(), c.minSize());
    }
    if (c.srcIno() == c.dstIno() && c.srcIndex() < c.dstIndex() + c.count()
        && c.dstIndex() < c.srcIndex() + c.count()) {
      throw FsException.of(Errno.EINVAL, "clone ranges of inode %d overlap", c.srcIno());
    }
    if (!store.overlays(c.srcIno(), c.srcIndex(), c.srcIndex() + c.count()).isEmpty()) {
      // intent-log overlays are not in the block ids: sharing those would copy the content before them
      throw FsException.of(Errno.EAGAIN, "source %d has intent-log overlays in the range", c.srcIno());
    }
    dropOverlays(tx, c.dstIno(), c.dstIndex(), c.dstIndex() + c.count()); // the copy replaces those blocks
    long srcBlocks = (src.size() + bs - 1) / bs;
    if (c.srcIndex() + c.count() > srcBlocks) {
      throw FsException.of(Errno.EAGAIN, "source %d has %d blocks now, fewer than the clone's end %d", c.srcIno(),
          srcBlocks, c.srcIndex() + c.count());
    }
    boolean shortTail = src.size() < (c.srcIndex() + c.count()) * bs;
    if (shortTail && dst.size() > c.minSize()) {
      throw FsException.of(Errno.EAGAIN, "destination %d reaches past the source's last block", c.dstIno());
    }
    long stored = dst.storedBytes();
    for (long k = 0; k < c.count(); k++) {
      long si = c.srcIndex() + k;
      long di = c.dstIndex() + k;
      Chunk from = store.chunk(c.srcIno(), si);
      Chunk old = store.chunk(c.dstIno(), di);
      int oldLength = 0;
      if (old != null) {
        unref(tx, old);
        oldLength = old.length();
        tx.deleteChunk(c.dstIno(), di);
      }
      int newLength = 0;
      if (from != null && from.isInline() && di != 0) {
        throw FsException.of(Errno.EAGAIN, "inline bytes of inode %d stay at block 0", c.srcIno());
      }
      if (from != null) {
        if (!from.isInline()) {
          tx.addRef(from.id(), 1, null);
        }
        tx.putChunk(c.dstIno(), new Chunk(di, from.id(), from.length(), from.inline()));
        newLength = from.length();
      }
      if (tx.isReserved(c.dstIno(), di)) {
        tx.addReserved(oldLength - newLength);
      } else {
        stored += newLength - oldLength;
      }
    }
    Inode now = tx.inode(c.dstIno());
    tx.put(now.withSize(Math.max(now.size(), c.minSize()), stored).withTimes(now.atimeNs(), c.timeNs(), c.timeNs()));
  }

  /**
   * The commit part first (it drops the overlays of blocks it replaces), then the new overlays, each inside
   * the new size and inside one block; an older overlay of the block that a new one covers entirely is
   * dropped (it can never show again).
   */
  private void logIntents(Tx tx, MetaOp.LogIntents l) throws FsException {
    MetaOp.CommitBlocks c = l.commit();
    commitBlocks(tx, c);
    long bs = store.blockSize();
    for (MetaOp.Overlay o : l.overlays()) {
      if (o.index() < 0 || o.offset() < 0 || o.length() <= 0 || (long) o.offset() + o.length() > bs
          || o.index() * bs + o.offset() + o.length() > c.size() || o.logFile() < 0 || o.logPos() < 0) {
        throw FsException.of(Errno.EINVAL, "overlay %d+%d of block %d outside file %d of size %d", o.offset(),
            o.length(), o.index(), c.ino(), c.size());
      }
      for (MetaOp.Overlay old : store.overlays(c.ino(), o.index(), o.index() + 1)) {
        if (old.offset() >= o.offset() && old.offset() + old.length() <= o.offset() + o.length()) {
          // hidden under the new one for good: a page rewritten at every fsync keeps one overlay, not thousands
          tx.delete(store.overlays, Keys.overlay(c.ino(), old.index(), old.logFile(), old.logPos()));
        }
      }
      tx.put(store.overlays, Keys.overlay(c.ino(), o.index(), o.logFile(), o.logPos()),
          MetadataStore.encodeOverlay(o));
    }
  }

  private void dropOverlays(Tx tx, long ino, long from, long to) throws FsException {
    for (MetaOp.Overlay o : store.overlays(ino, from, to)) {
      tx.delete(store.overlays, Keys.overlay(ino, o.index(), o.logFile(), o.logPos()));
    }
  }

  /** As a truncate releases reservations past the end: a reserved block counts a whole block until then. */
  private void unreserve(Tx tx, MetaOp.Unreserve u) throws FsException {
    Inode i = tx.inode(u.ino());
    if (!i.isRegular()) {
      throw FsException.of(Errno.EINVAL, "inode %d is not a regular file", u.ino());
    }
    if (u.fromIndex() < 0 || u.toIndex() < u.fromIndex()) {
      throw FsException.of(Errno.EINVAL, "bad block range [%d, %d)", u.fromIndex(), u.toIndex());
    }
    long bs = store.blockSize();
    long stored = i.storedBytes();
    for (long idx : store.reservedIndexes(u.ino(), u.fromIndex(), u.toIndex())) {
      Chunk c = store.chunk(u.ino(), idx);
      long written = c == null ? 0 : c.length();
      tx.unreserve(u.ino(), idx);
      tx.addReserved(-(bs - written));
      stored -= bs - written;
    }
    tx.put(i.withSize(i.size(), stored));
  }

  private void reserve(Tx tx, MetaOp.Reserve r) throws FsException {
    Inode i = tx.inode(r.ino());
    if (i.isDirectory()) {
      throw FsException.of(Errno.EISDIR, "inode %d is a directory", r.ino());
    }
    if (!i.isRegular()) {
      throw FsException.of(Errno.ENODEV, "inode %d is not a regular file", r.ino());
    }
    long bs = store.blockSize();
    long max = FileSystem.maxFileSize((int) bs);
    if (r.offset() < 0 || r.length() <= 0) {
      throw FsException.of(Errno.EINVAL, "fallocate range %d+%d", r.offset(), r.length());
    }
    if (r.offset() > max - r.length()) {
      throw FsException.of(Errno.EFBIG, "fallocate to %d+%d: files end at %d bytes", r.offset(), r.length(), max);
    }
    long from = r.offset() / bs;
    long to = (r.offset() + r.length() + bs - 1) / bs;
    long available = Math.max(0, r.availableBytes());
    java.util.Set<Long> already = new java.util.HashSet<>(store.reservedIndexes(r.ino(), from, to));
    java.util.Map<Long, Integer> lengths = new java.util.HashMap<>();
    for (Chunk c : store.chunks(r.ino(), from, to)) {
      lengths.put(c.index(), c.length());
    }
    java.util.Set<Long> known = new java.util.HashSet<>(already);
    known.addAll(lengths.keySet());
    // Each index neither reserved nor written needs a whole block: more of them than fit is ENOSPC before
    // any per-index work, so the loops below are bounded by what exists plus what the free space holds.
    if (to - from - known.size() > available / bs) {
      throw FsException.of(Errno.ENOSPC, "fallocate of %d bytes: %d bytes free", r.length(), available);
    }
    long added = 0;
    for (long idx = from; idx < to; idx++) {
      if (!already.contains(idx)) {
        added += bs - lengths.getOrDefault(idx, 0);
      }
    }
    long reserved = store.reservedBytes();
    if (reserved + added > available) {
      throw FsException.of(Errno.ENOSPC, "fallocate needs %d more bytes; %d free, %d of them reserved already",
          added, available, reserved);
    }
    for (long idx = from; idx < to; idx++) {
      if (!already.contains(idx)) {
        tx.reserve(r.ino(), idx);
      }
    }
    tx.addReserved(added);
    long size = r.keepSize() ? i.size() : Math.max(i.size(), r.offset() + r.length());
    long mtime = size != i.size() ? r.timeNs() : i.mtimeNs();
    tx.put(i.withSize(size, i.storedBytes() + added).withTimes(i.atimeNs(), mtime, r.timeNs()));
    if (r.attrs() != null) {
      if (r.attrs().ino() != r.ino()) {
        throw FsException.of(Errno.EINVAL, "attributes for inode %d in a reservation of %d", r.attrs().ino(), r.ino());
      }
      setAttrs(tx, r.attrs());
    }
  }

  private long addNode(Tx tx, MetaOp.AddNode a) throws FsException {
    if (a.nodeId().isEmpty() || a.nodeId().length() > 64 || !a.nodeId().matches("[A-Za-z0-9._-]+")) {
      throw FsException.of(Errno.EINVAL, "node id '%s' must be 1-64 letters, digits, '.', '_' or '-'", a.nodeId());
    }
    MetadataStore.Node known = store.node(a.nodeId());
    if (known != null) {
      throw FsException.of(Errno.EEXIST, "node id '%s' is already in use (node %d)", a.nodeId(), known.number());
    }
    long number = store.nextNodeNumber();
    tx.put(store.meta, MetadataStore.NEXT_NODE_KEY, java.nio.ByteBuffer.allocate(8).putLong(number + 1).array());
    tx.put(store.nodes, a.nodeId().getBytes(StandardCharsets.UTF_8),
        new MetadataStore.Node((int) number, a.nodeId(), a.raftAddress(), a.blockAddress(), "ACTIVE").encodeValue());
    return number;
  }

  private void openSession(Tx tx, MetaOp.OpenSession o) throws FsException {
    if (o.id() == 0) {
      throw new FsException(Errno.EINVAL, "session id 0 means no session");
    }
    if (o.client().length() > 1024) {
      throw FsException.of(Errno.EINVAL, "client name of %d characters", o.client().length());
    }
    if (store.session(o.id()) != null) {
      throw FsException.of(Errno.EEXIST, "session %x exists", o.id());
    }
    tx.put(store.sessions, Keys.ino(o.id()), new MetadataStore.Session(o.id(), o.client(), o.expiresNs()).encodeValue());
  }

  /** Ends a session: its record goes, and every inode it kept open past its last name is reclaimed. */
  private void closeSession(Tx tx, long id) throws FsException {
    liveSession = 0;
    grantsMemo = null;
    tx.delete(store.sessions, Keys.ino(id));
    for (var e : store.leaseRoots().entrySet()) {
      if (e.getValue().session() == id) {
        dropLease(tx, e.getKey());
      }
    }
    for (long[] range : store.grants(id)) {
      tx.delete(store.meta, Keys.meta(MetadataStore.GRANT_PREFIX, id, range[0]));
    }
    for (var e : store.orphanSessions().entrySet()) {
      if (e.getValue() == id) {
        Inode i = store.inode(e.getKey());
        if (i == null || i.nlink() > 0) {
          tx.delete(store.orphans, Keys.ino(e.getKey()));
        } else {
          deleteInode(tx, e.getKey());
        }
      }
    }
  }

  private void reclaim(Tx tx, MetaOp.ReclaimInode r) throws FsException {
    Inode i = store.inode(r.ino());
    if (i == null) {
      tx.delete(store.orphans, Keys.ino(r.ino()));
      return;
    }
    if (i.nlink() > 0) {
      tx.delete(store.orphans, Keys.ino(r.ino()));
      return;
    }
    deleteInode(tx, r.ino());
  }
}
