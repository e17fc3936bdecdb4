package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;

/**
 * The working set of one operation: reads see the store plus this operation's own earlier changes, and
 * every change lands in one {@link WriteBatch} written at {@link #commit}. Nothing is written if the
 * operation throws, so an operation happens entirely or not at all.
 */
final class Tx implements AutoCloseable {
  private static final Object DELETED = new Object();

  private final MetadataStore store;
  private final WriteBatch batch;
  private final Map<Long, Object> inodes = new LinkedHashMap<>();
  private final Map<String, Object> dirents = new HashMap<>();
  private final Map<BlockId, BlockRecord> blockRecords = new LinkedHashMap<>();
  private final List<BlockId> freed = new ArrayList<>();
  private final List<BlockId> purged = new ArrayList<>();
  private final java.util.Set<BlockId> revived = new java.util.HashSet<>();
  /** This operation's reservation changes: "ino/index" → reserved now. */
  private final Map<String, Boolean> reservations = new HashMap<>();
  private long reservedDelta;
  /** Inodes whose chunk records this operation writes or deletes. */
  private final java.util.Set<Long> chunkInodes = new java.util.HashSet<>();
  /** Block 0 of those whose last write here stores its bytes inline (for the inline cache, write-through). */
  private final Map<Long, Chunk> inlineWritten = new HashMap<>();
  /** Lease records this operation writes (empty: removed), for the store's lease cache. */
  private final Map<Long, java.util.Optional<MetadataStore.Lease>> leaseChanges = new HashMap<>();

  /** The session the operation acts for ({@link MetaOp.AsSession}); 0: none. */
  private long session;

  /** Refusal of an inode under another session's lease; {@code root} is the leased directory to recall. */
  static final class Leased extends FsException {
    private static final long serialVersionUID = 1L;
    private final long root;

    Leased(long ino, MetadataStore.Lease lease) {
      super(Errno.EBUSY, String.format("inode %d is under session %x's lease on directory %d", ino,
          lease.session(), lease.root()));
      this.root = lease.root();
    }

    long root() {
      return root;
    }
  }

  Tx(MetadataStore store) {
    this.store = store;
    this.batch = store.newBatch();
  }

  MetadataStore store() {
    return store;
  }

  void actAs(long session) {
    this.session = session;
  }

  long session() {
    return session;
  }

  Inode inode(long ino) throws FsException {
    Object o = inodes.get(ino);
    if (o == DELETED) {
      throw FsException.of(Errno.ENOENT, "inode %d was removed", ino);
    }
    if (o != null) {
      return (Inode) o;
    }
    Inode i = store.requireInode(ino);
    MetadataStore.Lease lease = store.lease(ino);
    if (lease != null && lease.session() != session) {
      throw new Leased(ino, lease);
    }
    inodes.put(ino, i);
    return i;
  }

  Inode directory(long ino) throws FsException {
    Inode i = inode(ino);
    if (!i.isDirectory()) {
      throw FsException.of(Errno.ENOTDIR, "inode %d is not a directory", ino);
    }
    return i;
  }

  void put(Inode i) {
    inodes.put(i.ino(), i);
  }

  void deleteInode(long ino) {
    inodes.put(ino, DELETED);
  }

  Dirent dirent(long parent, String name) throws FsException {
    String k = parent + "/" + name;
    if (dirents.containsKey(k)) {
      Object o = dirents.get(k);
      return o == DELETED ? null : (Dirent) o;
    }
    return store.dirent(parent, name);
  }

  void putDirent(long parent, String name, Dirent d) throws FsException {
    dirents.put(parent + "/" + name, d);
    put(store.dirents, Keys.named(parent, name), d.encode());
  }

  void deleteDirent(long parent, String name) throws FsException {
    dirents.put(parent + "/" + name, DELETED);
    delete(store.dirents, Keys.named(parent, name));
  }

  /** True if the directory has any entry, counting this operation's own changes. */
  boolean hasEntries(long dir) throws FsException {
    String prefix = dir + "/";
    int removedHere = 0;
    for (Map.Entry<String, Object> e : dirents.entrySet()) {
      if (e.getKey().startsWith(prefix)) {
        if (e.getValue() != DELETED) {
          return true;
        }
        removedHere++;
      }
    }
    if (removedHere == 0) {
      return store.hasEntries(dir);
    }
    for (var entry : store.list(dir)) {
      Object o = dirents.get(prefix + entry.name());
      if (o != DELETED) {
        return true;
      }
    }
    return false;
  }

  /** Adds {@code delta} references to a block; a new block is registered from {@code proto}. */
  void addRef(BlockId id, long delta, BlockRecord proto) throws FsException {
    BlockRecord r = blockRecords.containsKey(id) ? blockRecords.get(id) : store.block(id);
    if (r == null) {
      if (proto == null || delta < 0) {
        throw FsException.of(Errno.EIO, "block %s is referenced but has no record", id);
      }
      r = proto.withRefs(0);
      revived.add(id); // it may be waiting in pending_deletes
    }
    blockRecords.put(id, r.withRefs(r.refs() + delta));
  }

  /** Purges a block pending deletion, unless this operation or an earlier one referenced it again. */
  void purge(BlockId id) throws FsException {
    byte[] key = id.toBytes();
    if (!blockRecords.containsKey(id) && store.block(id) == null && store.get(MetadataStore.Family.PENDING_DELETES, key) != null
        && !purged.contains(id)) {
      delete(store.pendingDeletes, key);
      purged.add(id);
    }
  }

  List<BlockId> purged() {
    return List.copyOf(purged);
  }

  /** Records that a block moved from one tier to another, when its record still names {@code from}. */
  void moveBlock(BlockId id, int from, io.dynamicfs.core.block.Placement to) throws FsException {
    BlockRecord r = blockRecords.containsKey(id) ? blockRecords.get(id) : store.block(id);
    if (r != null && r.refs() > 0 && r.tier() == from) {
      blockRecords.put(id, r.withPlacement(to));
    }
  }

  /** Compare-and-set of a referenced block's placement; EAGAIN when the record is gone or says otherwise. */
  void replacePlacement(BlockId id, io.dynamicfs.core.block.Placement expected,
      io.dynamicfs.core.block.Placement to) throws FsException {
    BlockRecord r = blockRecords.containsKey(id) ? blockRecords.get(id) : store.block(id);
    if (r == null || r.refs() <= 0) {
      throw FsException.of(Errno.EAGAIN, "block %s is no longer referenced", id.toHex());
    }
    if (!r.placement().equals(expected)) {
      throw FsException.of(Errno.EAGAIN, "block %s is at %s, not the expected %s", id.toHex(), r.placement(),
          expected);
    }
    blockRecords.put(id, r.withPlacement(to));
  }

  /** Whether block {@code index} of the file is reserved, counting this operation's own changes. */
  boolean isReserved(long ino, long index) throws FsException {
    Boolean r = reservations.get(ino + "/" + index);
    return r != null ? r : store.isReserved(ino, index);
  }

  void reserve(long ino, long index) throws FsException {
    reservations.put(ino + "/" + index, true);
    put(store.reservations, Keys.chunk(ino, index), new byte[0]);
  }

  void unreserve(long ino, long index) throws FsException {
    reservations.put(ino + "/" + index, false);
    delete(store.reservations, Keys.chunk(ino, index));
  }

  /** Changes the filesystem's promised-but-unwritten total (written at commit). */
  void addReserved(long delta) {
    reservedDelta += delta;
  }

  void put(org.rocksdb.ColumnFamilyHandle cf, byte[] key, byte[] value) throws FsException {
    try {
      batch.put(cf, key, value);
    } catch (RocksDBException e) {
      throw new FsException(Errno.EIO, "metadata batch: " + e.getMessage(), e);
    }
  }

  void delete(org.rocksdb.ColumnFamilyHandle cf, byte[] key) throws FsException {
    try {
      batch.delete(cf, key);
    } catch (RocksDBException e) {
      throw new FsException(Errno.EIO, "metadata batch: " + e.getMessage(), e);
    }
  }

  /**
   * The applied position and inode counter as last written through one applier. A value equal to the
   * stored one is left out of the next batch: an inner op of a batch entry moves neither the position nor,
   * mostly, the counter, and three meta records per op were about a third of the records a create wrote.
   */
  static final class Written {
    private long term;
    private long index;
    private long nextIno;

    Written() {
      forget();
    }

    /** Unknown (a new applier, or its store replaced): the next commit writes all three. */
    void forget() {
      term = Long.MIN_VALUE;
      index = Long.MIN_VALUE;
      nextIno = Long.MIN_VALUE;
    }
  }

  /**
   * Writes everything in one atomic batch with the new applied index (each of the position's records only
   * when it differs from what {@code written} says is stored); returns blocks that lost their last reference.
   */
  List<BlockId> commit(long appliedTerm, long appliedIndex, long nextIno, Written written) throws FsException {
    Map<Long, java.util.Optional<Inode>> inodesWritten = new HashMap<>();
    for (Map.Entry<Long, Object> e : inodes.entrySet()) {
      byte[] key = Keys.ino(e.getKey());
      if (e.getValue() == DELETED) {
        delete(store.inodes, key);
        inodesWritten.put(e.getKey(), java.util.Optional.empty());
      } else {
        Inode i = (Inode) e.getValue();
        put(store.inodes, key, i.encode());
        inodesWritten.put(e.getKey(), java.util.Optional.of(i));
      }
    }
    for (Map.Entry<BlockId, BlockRecord> e : blockRecords.entrySet()) {
      BlockRecord r = e.getValue();
      if (r.refs() < 0) {
        throw FsException.of(Errno.EIO, "block %s would have %d references", e.getKey(), r.refs());
      }
      byte[] key = e.getKey().toBytes();
      if (r.refs() == 0) {
        delete(store.blocks, key);
        put(store.pendingDeletes, key, ByteBuffer.allocate(8).putLong(appliedIndex).array());
        freed.add(e.getKey());
      } else {
        put(store.blocks, key, r.encode());
        if (revived.contains(e.getKey())) {
          delete(store.pendingDeletes, key);
        }
      }
    }
    if (reservedDelta != 0) {
      // Never below zero: a damaged total must not make every later unlink fail (fsck reports it).
      long total = Math.max(0, store.reservedBytes() + reservedDelta);
      put(store.meta, MetadataStore.RESERVED_KEY, ByteBuffer.allocate(8).putLong(total).array());
    }
    if (appliedIndex != written.index) {
      put(store.meta, MetadataStore.APPLIED_KEY, ByteBuffer.allocate(8).putLong(appliedIndex).array());
    }
    if (appliedTerm != written.term) {
      put(store.meta, MetadataStore.APPLIED_TERM_KEY, ByteBuffer.allocate(8).putLong(appliedTerm).array());
    }
    if (nextIno != written.nextIno) {
      put(store.meta, MetadataStore.NEXT_INO_KEY, ByteBuffer.allocate(8).putLong(nextIno).array());
    }
    store.write(batch, inodesWritten, chunkInodes, inlineWritten, leaseChanges);
    written.index = appliedIndex;
    written.term = appliedTerm;
    written.nextIno = nextIno;
    return freed;
  }

  /** Records that inner op {@code k} of batch entry {@code index} is applied; k &lt; 0 clears the record. */
  void batchProgress(long index, long k) throws FsException {
    if (k < 0) {
      delete(store.meta, MetadataStore.BATCH_PROGRESS_KEY);
    } else {
      put(store.meta, MetadataStore.BATCH_PROGRESS_KEY, ByteBuffer.allocate(16).putLong(index).putLong(k).array());
    }
  }

  /** Sets block-list entry {@code c} of {@code ino} (noted for the store's inline cache). */
  void putChunk(long ino, Chunk c) throws FsException {
    chunkInodes.add(ino);
    if (c.index() == 0) {
      if (c.isInline()) {
        inlineWritten.put(ino, c);
      } else {
        inlineWritten.remove(ino);
      }
    }
    put(store.chunks, Keys.chunk(ino, c.index()), c.encodeValue());
  }

  /** Removes block-list entry {@code index} of {@code ino} (noted for the store's inline cache). */
  void deleteChunk(long ino, long index) throws FsException {
    chunkInodes.add(ino);
    if (index == 0) {
      inlineWritten.remove(ino);
    }
    delete(store.chunks, Keys.chunk(ino, index));
  }

  /** Sets the lease record of {@code ino} (noted for the store's lease cache). */
  void putLease(long ino, MetadataStore.Lease lease) throws FsException {
    store.leaseWritten();
    leaseChanges.put(ino, java.util.Optional.of(lease));
    put(store.meta, Keys.meta(MetadataStore.LEASE_PREFIX, ino), lease.encodeValue());
  }

  /** Removes the lease record of {@code ino} (noted for the store's lease cache). */
  void deleteLease(long ino) throws FsException {
    leaseChanges.put(ino, java.util.Optional.empty());
    delete(store.meta, Keys.meta(MetadataStore.LEASE_PREFIX, ino));
  }

  /** The inodes this operation changed or removed. */
  java.util.Set<Long> touchedInodes() {
    return java.util.Set.copyOf(inodes.keySet());
  }

  @Override
  public void close() {
    batch.close();
  }
}
