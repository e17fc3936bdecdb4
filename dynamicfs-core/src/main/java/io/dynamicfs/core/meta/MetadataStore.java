package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Consumer;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.ReadOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RocksDB that holds all metadata, one column family per kind of record. This class owns every
 * native object it creates and closes them in reverse order (handles before the DB). It reads; the only
 * writer is {@link OpApplier}, through {@link #write(WriteBatch)}.
 *
 * <p>A block whose reference count reaches zero leaves {@code blocks} for {@code pending_deletes} (keyed
 * by id, valued by the log index where that happened); a later commit that references it revives it, and a
 * {@link MetaOp.PurgeBlocks} removes it for good, after which its bytes may go.
 */
public final class MetadataStore implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(MetadataStore.class);
  static final byte[] APPLIED_KEY = "applied-index".getBytes(StandardCharsets.US_ASCII);
  static final byte[] APPLIED_TERM_KEY = "applied-term".getBytes(StandardCharsets.US_ASCII);
  static final byte[] CLUSTER_KEY = "cluster".getBytes(StandardCharsets.US_ASCII);
  static final byte[] NEXT_NODE_KEY = "next-node".getBytes(StandardCharsets.US_ASCII);
  static final byte[] NEXT_INO_KEY = "next-ino".getBytes(StandardCharsets.US_ASCII);
  /** Bytes that fallocate reservations promise and writes have not used yet (see {@link MetaOp.Reserve}). */
  /** (log index, inner op number): how far a {@link MetaOp.Batch} entry not yet wholly applied went. */
  static final byte[] BATCH_PROGRESS_KEY = "batch-progress".getBytes(StandardCharsets.US_ASCII);
  /**
   * The write-ahead log RocksDB keeps before it flushes the column families that hold its oldest file. A WAL
   * file lives until every family with data in it has flushed, and a family written rarely (xattrs, nodes,
   * sessions) can sit on a few bytes for hours: left to RocksDB's default (four times all memtables, 13 × 48
   * MiB here), a node kept 1.2 GB of WAL after writing 100 MB of small files, and replayed it all at start.
   */
  static final long MAX_WAL_BYTES = 64L << 20;
  static final byte[] RESERVED_KEY = "reserved-bytes".getBytes(StandardCharsets.US_ASCII);

  static {
    RocksDB.loadLibrary();
  }

  private final int blockSize;
  private final ColumnFamilyOptions cfOptions;
  private final DBOptions dbOptions;
  private final WriteOptions writeOptions;
  private final ReadOptions readOptions;
  private final Path dir;
  /**
   * Readers and writers hold the read side while they use the database; {@link #replace} and
   * {@link #close} take the write side to close it (and reopen it in place).
   */
  private final ReentrantReadWriteLock open = new ReentrantReadWriteLock();
  // the database and its column families: replaced only under open's write lock, null once closed
  private RocksDB db;
  private final List<ColumnFamilyHandle> handles = new ArrayList<>();
  ColumnFamilyHandle meta;
  ColumnFamilyHandle inodes;
  ColumnFamilyHandle dirents;
  ColumnFamilyHandle xattrs;
  ColumnFamilyHandle symlinks;
  ColumnFamilyHandle chunks;
  ColumnFamilyHandle blocks;
  ColumnFamilyHandle orphans;
  ColumnFamilyHandle pendingDeletes;
  ColumnFamilyHandle sessions;
  ColumnFamilyHandle nodes;
  /** (ino, block index) → empty: block indexes a fallocate reserved. */
  ColumnFamilyHandle reservations;
  /** (ino, block index, log file, log position) → offset, length, CRC32C: intent-log overlays of blocks. */
  ColumnFamilyHandle overlays;

  private MetadataStore(Path dir, int blockSize, boolean wal) throws IOException {
    this.blockSize = blockSize;
    this.dir = dir;
    try {
      Files.createDirectories(dir);
      // One immutable memtable is enough to flush: with RocksDB's "merge two" (which the level-style preset sets),
      // a manual flush (every checkpoint) racing with a background one can wait forever for a memtable no
      // flush picks (facebook/rocksdb#12094, #13280). A node's apply thread hung so, and its cluster with it.
      cfOptions = tableOptions().optimizeLevelStyleCompaction(32L << 20).setMinWriteBufferNumberToMerge(1);
      dbOptions = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true)
          .setMaxBackgroundJobs(2).setKeepLogFileNum(4).setMaxTotalWalSize(MAX_WAL_BYTES);
      writeOptions = new WriteOptions().setDisableWAL(!wal);
      readOptions = new ReadOptions();
      openDb();
    } catch (FsException e) {
      closeNatives();
      throw e;
    }
  }

  /**
   * Every column family shares one table factory, so one 64 MiB block cache and a 10-bit Bloom filter.
   * {@code prepopulate_block_cache=kFlushOnly}: a memtable flush puts the blocks it writes into that cache, so
   * metadata written recently is read from the daemon's memory and not from the SST files through the page
   * cache (which the kernel may drop: `drop_caches`, memory pressure). RocksJava's {@code BlockBasedTableConfig}
   * cannot set that field, hence the options string.
   */
  private static ColumnFamilyOptions tableOptions() throws FsException {
    java.util.Properties p = new java.util.Properties();
    p.setProperty("block_based_table_factory",
        "{block_cache=64M;prepopulate_block_cache=kFlushOnly;filter_policy=bloomfilter:10:false}");
    try (org.rocksdb.ConfigOptions c = new org.rocksdb.ConfigOptions()) {
      ColumnFamilyOptions o = ColumnFamilyOptions.getColumnFamilyOptionsFromProps(c, p);
      if (o == null) {
        throw new FsException(Errno.EIO, "rocksdb refused the table options");
      }
      return o;
    }
  }

  /** Opens the database in {@code dir} and takes its column families; caller holds the write lock or owns this. */
  private void openDb() throws FsException {
    List<ColumnFamilyDescriptor> cfs = new ArrayList<>();
    for (String name : List.of("default", "inodes", "dirents", "xattrs", "symlinks", "chunks", "blocks",
        "orphans", "pending_deletes", "sessions", "nodes", "reservations", "overlays")) {
      cfs.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.US_ASCII), cfOptions));
    }
    handles.clear();
    try {
      db = RocksDB.open(dbOptions, dir.toString(), cfs, handles);
    } catch (RocksDBException e) {
      throw new FsException(Errno.EIO, "cannot open metadata at " + dir + ": " + e.getMessage(), e);
    }
    meta = handles.get(0);
    inodes = handles.get(1);
    dirents = handles.get(2);
    xattrs = handles.get(3);
    symlinks = handles.get(4);
    chunks = handles.get(5);
    blocks = handles.get(6);
    orphans = handles.get(7);
    pendingDeletes = handles.get(8);
    sessions = handles.get(9);
    nodes = handles.get(10);
    reservations = handles.get(11);
    overlays = handles.get(12);
    leasesSeen = anyMeta(Keys.meta(LEASE_PREFIX));
  }

  /** Syncs the WAL and closes the database (not the options, which a reopen uses); caller holds the write lock. */
  private void closeDb() {
    if (db == null) {
      return;
    }
    try {
      db.flushWal(true);
    } catch (RocksDBException e) {
      log.atWarn().addKeyValue("error", e.getMessage()).log("metadata WAL sync at close failed");
    }
    for (ColumnFamilyHandle h : handles) {
      h.close();
    }
    handles.clear();
    db.close();
    db = null;
  }

  /** The read side of the open lock, released by close; EIO when the store is closed. */
  private Reading reading() throws FsException {
    ReentrantReadWriteLock.ReadLock r = open.readLock();
    r.lock();
    if (db == null) {
      r.unlock();
      throw new FsException(Errno.EIO, "metadata store at " + dir + " is closed");
    }
    return r::unlock;
  }

  /** A held read lock. */
  private interface Reading extends AutoCloseable {
    @Override
    void close();
  }

  /** What {@link #replace} runs while the database is closed. */
  @FunctionalInterface
  public interface FileSwap {
    void run() throws IOException;
  }

  /**
   * Closes the database, runs {@code swap} (which replaces the files in this store's directory, e.g. with
   * a Raft snapshot's checkpoint) and reopens it in place: readers holding this object wait meanwhile and
   * then see the new contents, so an engine reading a mount's replica keeps its reference across a
   * snapshot install. If the swap fails and leaves no database behind, or the reopen fails, the store
   * stays closed (every call answers EIO).
   */
  public void replace(FileSwap swap) throws IOException {
    open.writeLock().lock();
    try {
      if (db == null) {
        throw new FsException(Errno.EIO, "metadata store at " + dir + " is closed");
      }
      closeDb();
      InodeCache<Chunk> c = inlineChunks;
      if (c != null) {
        c.clear();
      }
      leases.clear();
      inodeRecords.clear();
      try {
        swap.run();
      } catch (IOException | RuntimeException e) {
        // the old files may still be in place; never open an empty database where they were
        if (Files.exists(dir.resolve("CURRENT"))) {
          openDb();
        }
        throw e;
      }
      openDb();
    } finally {
      open.writeLock().unlock();
    }
  }

  /** Opens or creates the metadata database in {@code dir}. */
  public static MetadataStore open(Path dir, int blockSize) throws IOException {
    return new MetadataStore(dir, blockSize, true);
  }

  /**
   * Opens or creates a store thrown away with its process (a cluster mount's replica, rebuilt from the log or
   * a checkpoint at every mount): its writes skip RocksDB's write-ahead log, so a crash loses what no flush
   * wrote. {@link #checkpoint} still flushes first, so a checkpoint of it is whole.
   */
  public static MetadataStore openEphemeral(Path dir, int blockSize) throws IOException {
    return new MetadataStore(dir, blockSize, false);
  }

  public int blockSize() {
    return blockSize;
  }

  // ---- reads ------------------------------------------------------------------------------------

  /** The inode, or null. */
  public Inode inode(long ino) throws FsException {
    return inodeRecords.getOrLoad(ino, () -> {
      byte[] v = get(Family.INODES, Keys.ino(ino));
      return java.util.Optional.ofNullable(v == null ? null : Inode.decode(ino, v));
    }, java.util.Optional::isPresent).orElse(null); // an absent number read is mostly one a create is about to use
  }

  /**
   * Inode records by number, up to this many: nearly every request reads one or more (getattr, the parent of
   * a lookup or create, release, each inode an op loads), a RocksDB read each. Absent ones (empty) are kept
   * when a write removes them, not when a read finds none: the number a create checks is free is written a
   * moment later, and keeping its absence first was one more cache write per create.
   */
  static final int INODE_CACHE_ENTRIES = 100_000;
  private final InodeCache<java.util.Optional<Inode>> inodeRecords =
      new InodeCache<>(INODE_CACHE_ENTRIES, i -> 1, java.util.function.UnaryOperator.identity());

  /** The inode; ENOENT if missing. */
  public Inode requireInode(long ino) throws FsException {
    Inode i = inode(ino);
    if (i == null) {
      throw FsException.of(Errno.ENOENT, "no inode %d", ino);
    }
    return i;
  }

  Dirent dirent(long parent, String name) throws FsException {
    byte[] v = get(Family.DIRENTS, Keys.named(parent, name));
    return v == null ? null : Dirent.decode(v);
  }

  /** The inode number a name in a directory refers to, or -1. */
  public long lookup(long parent, String name) throws FsException {
    Dirent d = dirent(parent, name);
    return d == null ? -1 : d.ino();
  }

  public List<DirEntry> list(long dir) throws FsException {
    List<DirEntry> out = new ArrayList<>();
    byte[] prefix = Keys.ino(dir);
    try (Reading r = reading(); RocksIterator it = db.newIterator(dirents, readOptions)) {
      for (it.seek(prefix); it.isValid() && Keys.hasPrefix(it.key(), prefix); it.next()) {
        Dirent d = Dirent.decode(it.value());
        out.add(new DirEntry(Keys.nameOf(it.key()), d.ino(), d.type()));
      }
      check(it);
    }
    return out;
  }

  boolean hasEntries(long dir) throws FsException {
    byte[] prefix = Keys.ino(dir);
    try (Reading r = reading(); RocksIterator it = db.newIterator(dirents, readOptions)) {
      it.seek(prefix);
      boolean any = it.isValid() && Keys.hasPrefix(it.key(), prefix);
      check(it);
      return any;
    }
  }

  public String symlink(long ino) throws FsException {
    byte[] v = get(Family.SYMLINKS, Keys.ino(ino));
    if (v == null) {
      throw FsException.of(Errno.EINVAL, "inode %d is not a symlink", ino);
    }
    return new String(v, StandardCharsets.UTF_8);
  }

  /** The xattr value, or null. */
  public byte[] xattr(long ino, String name) throws FsException {
    return get(Family.XATTRS, Keys.named(ino, name));
  }

  public List<String> xattrNames(long ino) throws FsException {
    List<String> out = new ArrayList<>();
    byte[] prefix = Keys.ino(ino);
    try (Reading r = reading(); RocksIterator it = db.newIterator(xattrs, readOptions)) {
      for (it.seek(prefix); it.isValid() && Keys.hasPrefix(it.key(), prefix); it.next()) {
        out.add(Keys.nameOf(it.key()));
      }
      check(it);
    }
    return out;
  }

  /** The block-list entry at {@code index}, or null for a hole. */
  public Chunk chunk(long ino, long index) throws FsException {
    InodeCache<Chunk> cache = inlineChunks;
    if (cache == null || index != 0) {
      return readChunk(ino, index);
    }
    return cache.getOrLoad(ino, () -> readChunk(ino, 0), Chunk::isInline);
  }

  private Chunk readChunk(long ino, long index) throws FsException {
    byte[] v = get(Family.CHUNKS, Keys.chunk(ino, index));
    return v == null ? null : Chunk.decode(index, v);
  }

  /**
   * Keeps small files' inline bytes in memory, up to {@code maxBytes} ({@link InodeCache}): for a store
   * that serves file reads (a mount's engine), not a node's.
   */
  public void cacheInlineChunks(long maxBytes) {
    inlineChunks = InodeCache.inlineChunks(maxBytes);
  }

  /** Reads of block 0 answered from the inline cache and not, since it was switched on ({0, 0} when off). */
  public long[] inlineCacheCounts() {
    InodeCache<Chunk> c = inlineChunks;
    return c == null ? new long[2] : new long[] {c.hits(), c.misses()};
  }

  /** Block-list entries of a file with {@code from <= index < to}, in order. */
  public List<Chunk> chunks(long ino, long from, long to) throws FsException {
    List<Chunk> out = new ArrayList<>();
    byte[] prefix = Keys.ino(ino);
    try (Reading r = reading(); RocksIterator it = db.newIterator(chunks, readOptions)) {
      for (it.seek(Keys.chunk(ino, from)); it.isValid() && Keys.hasPrefix(it.key(), prefix); it.next()) {
        long idx = Keys.chunkIndex(it.key());
        if (idx >= to) {
          break;
        }
        out.add(Chunk.decode(idx, it.value()));
      }
      check(it);
    }
    return out;
  }

  /** The intent-log overlays of blocks {@code from <= index < to} of a file, by index, then in log order. */
  public List<MetaOp.Overlay> overlays(long ino, long from, long to) throws FsException {
    List<MetaOp.Overlay> out = new ArrayList<>();
    byte[] prefix = Keys.ino(ino);
    try (Reading r = reading(); RocksIterator it = db.newIterator(overlays, readOptions)) {
      for (it.seek(Keys.chunk(ino, from)); it.isValid() && Keys.hasPrefix(it.key(), prefix); it.next()) {
        long idx = Keys.chunkIndex(it.key());
        if (idx >= to) {
          break;
        }
        out.add(decodeOverlay(it.key(), it.value()));
      }
      check(it);
    }
    return out;
  }

  /** Calls {@code action(ino, overlay)} for every intent-log overlay of every file, in key order. */
  public void forEachOverlay(OverlayVisitor action) throws FsException {
    try (Reading r = reading(); RocksIterator it = db.newIterator(overlays, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        action.visit(Keys.readIno(it.key()), decodeOverlay(it.key(), it.value()));
      }
      check(it);
    }
  }

  public interface OverlayVisitor {
    void visit(long ino, MetaOp.Overlay overlay) throws FsException;
  }

  static byte[] encodeOverlay(MetaOp.Overlay o) {
    return ByteBuffer.allocate(12).putInt(o.offset()).putInt(o.length()).putInt(o.crc()).array();
  }

  private static MetaOp.Overlay decodeOverlay(byte[] key, byte[] value) {
    ByteBuffer k = ByteBuffer.wrap(key);
    ByteBuffer v = ByteBuffer.wrap(value);
    return new MetaOp.Overlay(k.getLong(8), v.getInt(0), v.getInt(4), k.getInt(16), k.getLong(20), v.getInt(8));
  }

  /** True if a fallocate reserved block {@code index} of the file. */
  public boolean isReserved(long ino, long index) throws FsException {
    return get(Family.RESERVATIONS, Keys.chunk(ino, index)) != null;
  }

  /** The reserved block indexes of a file with {@code from <= index < to}, in order. */
  public List<Long> reservedIndexes(long ino, long from, long to) throws FsException {
    List<Long> out = new ArrayList<>();
    byte[] prefix = Keys.ino(ino);
    try (Reading r = reading(); RocksIterator it = db.newIterator(reservations, readOptions)) {
      for (it.seek(Keys.chunk(ino, from)); it.isValid() && Keys.hasPrefix(it.key(), prefix); it.next()) {
        long idx = Keys.chunkIndex(it.key());
        if (idx >= to) {
          break;
        }
        out.add(idx);
      }
      check(it);
    }
    return out;
  }

  /** Calls {@code action(ino, index)} for every reserved block index of every file. */
  public void forEachReservation(java.util.function.BiConsumer<Long, Long> action) throws FsException {
    try (Reading r = reading(); RocksIterator it = db.newIterator(reservations, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        action.accept(Keys.readIno(it.key()), Keys.chunkIndex(it.key()));
      }
      check(it);
    }
  }

  /**
   * Bytes fallocate reservations promise that writes have not used yet, over the whole filesystem: the
   * part of each reserved block not yet written. statfs takes them off the free space.
   */
  public long reservedBytes() throws FsException {
    return getLong(Family.META, RESERVED_KEY, 0);
  }

  /** The metadata record of a block, or null if no file references it. */
  public BlockRecord block(BlockId id) throws FsException {
    byte[] v = get(Family.BLOCKS, id.toBytes());
    return v == null ? null : BlockRecord.decode(v);
  }

  /** The last inner op of batch entry {@code index} that was applied, or -1 (none, or another entry's). */
  public long batchProgress(long index) throws FsException {
    byte[] v = get(Family.META, BATCH_PROGRESS_KEY);
    if (v == null || v.length != 16) {
      return -1;
    }
    ByteBuffer b = ByteBuffer.wrap(v);
    return b.getLong() == index ? b.getLong() : -1;
  }

  public long appliedIndex() throws FsException {
    return getLong(Family.META, APPLIED_KEY, 0);
  }

  public long appliedTerm() throws FsException {
    return getLong(Family.META, APPLIED_TERM_KEY, 0);
  }

  public long nextIno() throws FsException {
    return getLong(Family.META, NEXT_INO_KEY, io.dynamicfs.core.api.FileSystem.ROOT_INO + 1);
  }

  /**
   * Blocks that lost their last reference and wait for {@link BlockReclaimer}-style purging, each with the
   * log index at which it became unreferenced, in id order; at most {@code limit}.
   */
  public java.util.Map<BlockId, Long> pendingDeletes(int limit) throws FsException {
    java.util.Map<BlockId, Long> out = new java.util.LinkedHashMap<>();
    try (Reading r = reading(); RocksIterator it = db.newIterator(pendingDeletes, readOptions)) {
      for (it.seekToFirst(); it.isValid() && out.size() < limit; it.next()) {
        out.put(BlockId.of(it.key(), 0), ByteBuffer.wrap(it.value()).getLong());
      }
      check(it);
    }
    return out;
  }

  /** True when the block is unreferenced and waiting to be purged. */
  public boolean isPendingDelete(BlockId id) throws FsException {
    return get(Family.PENDING_DELETES, id.toBytes()) != null;
  }

  /** The cluster's settings ({@link MetaOp.SetClusterConfig}), or null on a single node. */
  public MetaOp.SetClusterConfig clusterConfig() throws FsException {
    byte[] v = get(Family.META, CLUSTER_KEY);
    if (v == null) {
      return null;
    }
    MetaOp op = OpCodec.decode(v);
    if (!(op instanceof MetaOp.SetClusterConfig c)) {
      throw new FsException(Errno.EIO, "cluster settings record is malformed");
    }
    return c;
  }

  /** A member of the cluster: its number (used in placements), id, addresses and state. */
  public record Node(int number, String nodeId, String raftAddress, String blockAddress, String state) {
    byte[] encodeValue() {
      byte[][] f = {nodeId.getBytes(StandardCharsets.UTF_8), raftAddress.getBytes(StandardCharsets.UTF_8),
          blockAddress.getBytes(StandardCharsets.UTF_8), state.getBytes(StandardCharsets.UTF_8)};
      int n = 4;
      for (byte[] b : f) {
        n += 2 + b.length;
      }
      ByteBuffer buf = ByteBuffer.allocate(n).putInt(number);
      for (byte[] b : f) {
        buf.putShort((short) b.length).put(b);
      }
      return buf.array();
    }

    static Node decode(byte[] v) throws FsException {
      try {
        ByteBuffer b = ByteBuffer.wrap(v);
        int number = b.getInt();
        String[] f = new String[4];
        for (int i = 0; i < 4; i++) {
          byte[] s = new byte[b.getShort() & 0xFFFF];
          b.get(s);
          f[i] = new String(s, StandardCharsets.UTF_8);
        }
        if (b.hasRemaining()) {
          throw new IllegalArgumentException("trailing bytes");
        }
        return new Node(number, f[0], f[1], f[2], f[3]);
      } catch (RuntimeException e) {
        throw new FsException(Errno.EIO, "node record is malformed: " + e.getMessage(), e);
      }
    }
  }

  /** The node with this id, or null. */
  public Node node(String nodeId) throws FsException {
    byte[] v = get(Family.NODES, nodeId.getBytes(StandardCharsets.UTF_8));
    return v == null ? null : Node.decode(v);
  }

  /** Every node ever added (REMOVED ones too), by id. */
  public List<Node> nodes() throws FsException {
    List<Node> out = new ArrayList<>();
    try (Reading r = reading(); RocksIterator it = db.newIterator(nodes, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        out.add(Node.decode(it.value()));
      }
      check(it);
    }
    return out;
  }

  long nextNodeNumber() throws FsException {
    return getLong(Family.META, NEXT_NODE_KEY, 1);
  }

  /** A client session: who holds it and when it ends unless renewed. */
  public record Session(long id, String client, long expiresNs) {
    byte[] encodeValue() {
      byte[] c = client.getBytes(StandardCharsets.UTF_8);
      return ByteBuffer.allocate(8 + c.length).putLong(expiresNs).put(c).array();
    }

    static Session decode(long id, byte[] v) throws FsException {
      if (v.length < 8) {
        throw FsException.of(Errno.EIO, "session record %d is malformed (%d bytes)", id, v.length);
      }
      return new Session(id, new String(v, 8, v.length - 8, StandardCharsets.UTF_8), ByteBuffer.wrap(v).getLong());
    }
  }

  /** The session, or null. */
  public Session session(long id) throws FsException {
    byte[] v = get(Family.SESSIONS, Keys.ino(id));
    return v == null ? null : Session.decode(id, v);
  }

  /** Every live session, by id. */
  public List<Session> sessions() throws FsException {
    List<Session> out = new ArrayList<>();
    try (Reading r = reading(); RocksIterator it = db.newIterator(sessions, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        out.add(Session.decode(Keys.readIno(it.key()), it.value()));
      }
      check(it);
    }
    return out;
  }

  /**
   * A lease on an inode ({@link MetaOp.AcquireDirLease}): the session holding it, the leased directory it
   * comes from ({@code root}; the directory itself for its own record) and, on the root's record, whether
   * another client has recalled it.
   */
  public record Lease(long session, long root, boolean recalled) {
    byte[] encodeValue() {
      return ByteBuffer.allocate(17).putLong(session).putLong(root).put((byte) (recalled ? 1 : 0)).array();
    }

    static Lease decode(long ino, byte[] v) throws FsException {
      if (v.length != 17) {
        throw FsException.of(Errno.EIO, "lease record of inode %d is malformed (%d bytes)", ino, v.length);
      }
      ByteBuffer b = ByteBuffer.wrap(v);
      return new Lease(b.getLong(), b.getLong(), b.get() == 1);
    }
  }

  static final String LEASE_PREFIX = "lease/";
  static final String COVER_PREFIX = "lease-cover/";
  static final String GRANT_PREFIX = "grant/";

  /**
   * False while the store holds no lease record and none has been written since it was opened: then no
   * inode is leased and {@link #lease} answers without a read. Leases are a cluster mount's (asynchronous
   * metadata), so a single node never reads them; every inode an op loads is checked against them.
   */
  private volatile boolean leasesSeen;

  /** Small files' inline bytes in memory, or null (off: a node's store). */
  private volatile InodeCache<Chunk> inlineChunks;

  /**
   * Lease records by inode, absent ones too (empty), up to this many: every op a cluster mount or node applies
   * checks the lease of each inode it loads, and a mount checks them again to decide what it may answer
   * ahead, several RocksDB reads per create (about 16 µs of a mount's 240 µs of CPU per create, profiled on
   * a 3-node loopback cluster, session 22).
   */
  static final int LEASE_CACHE_ENTRIES = 100_000;
  private final InodeCache<java.util.Optional<Lease>> leases =
      new InodeCache<>(LEASE_CACHE_ENTRIES, l -> 1, java.util.function.UnaryOperator.identity());

  /** Called before a lease record is written (before the batch commits, so no reader misses it). */
  void leaseWritten() {
    leasesSeen = true;
  }

  /** The lease on {@code ino}, or null. */
  public Lease lease(long ino) throws FsException {
    if (!leasesSeen) {
      return null;
    }
    return leases.getOrLoad(ino, () -> {
      byte[] v = get(Family.META, Keys.meta(LEASE_PREFIX, ino));
      return java.util.Optional.ofNullable(v == null ? null : Lease.decode(ino, v));
    }, present -> true).orElse(null);
  }

  /** Every inode {@code root}'s lease covers, the directory itself included. */
  public List<Long> leaseCovered(long root) throws FsException {
    List<Long> out = new ArrayList<>();
    scanMeta(Keys.meta(COVER_PREFIX, root), (k, v) -> out.add(Keys.metaLong(k, COVER_PREFIX, 1)));
    return out;
  }

  /** The leased directories (lease roots) of every session, root → its lease. */
  public java.util.Map<Long, Lease> leaseRoots() throws FsException {
    java.util.Map<Long, Lease> out = new java.util.LinkedHashMap<>();
    List<FsException> bad = new ArrayList<>();
    scanMeta(Keys.meta(LEASE_PREFIX), (k, v) -> {
      long ino = Keys.metaLong(k, LEASE_PREFIX, 0);
      try {
        Lease l = Lease.decode(ino, v);
        if (l.root() == ino) {
          out.put(ino, l);
        }
      } catch (FsException e) {
        bad.add(e);
      }
    });
    if (!bad.isEmpty()) {
      throw bad.get(0);
    }
    return out;
  }

  /** The inode number ranges {@code [from, to)} granted to {@code session}. */
  public List<long[]> grants(long session) throws FsException {
    List<long[]> out = new ArrayList<>();
    scanMeta(Keys.meta(GRANT_PREFIX, session), (k, v) -> out.add(new long[] {Keys.metaLong(k, GRANT_PREFIX, 1),
        ByteBuffer.wrap(v).getLong()}));
    return out;
  }

  private boolean anyMeta(byte[] prefix) throws FsException {
    try (Reading r = reading(); RocksIterator it = db.newIterator(meta, readOptions)) {
      it.seek(prefix);
      boolean any = it.isValid() && Keys.hasPrefix(it.key(), prefix);
      check(it);
      return any;
    }
  }

  private void scanMeta(byte[] prefix, java.util.function.BiConsumer<byte[], byte[]> action) throws FsException {
    try (Reading r = reading(); RocksIterator it = db.newIterator(meta, readOptions)) {
      for (it.seek(prefix); it.isValid() && Keys.hasPrefix(it.key(), prefix); it.next()) {
        action.accept(it.key(), it.value());
      }
      check(it);
    }
  }

  /** Orphaned inodes with the session that holds each (0: none, as written before sessions existed). */
  public java.util.Map<Long, Long> orphanSessions() throws FsException {
    java.util.Map<Long, Long> out = new java.util.LinkedHashMap<>();
    try (Reading r = reading(); RocksIterator it = db.newIterator(orphans, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        byte[] v = it.value();
        out.put(Keys.readIno(it.key()), v.length == 8 ? ByteBuffer.wrap(v).getLong() : 0L);
      }
      check(it);
    }
    return out;
  }

  public List<Long> orphans() throws FsException {
    List<Long> out = new ArrayList<>();
    try (Reading r = reading(); RocksIterator it = db.newIterator(orphans, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        out.add(Keys.readIno(it.key()));
      }
      check(it);
    }
    return out;
  }

  // ---- full scans (fsck, statistics) -----------------------------------------------------------

  public void forEachInode(Consumer<Inode> action) throws FsException {
    try (Reading r = reading(); RocksIterator it = db.newIterator(inodes, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        action.accept(Inode.decode(Keys.readIno(it.key()), it.value()));
      }
      check(it);
    }
  }

  /** Calls {@code action(parent, name, child)} for every directory entry. */
  public void forEachDirent(DirentVisitor action) throws FsException {
    try (Reading r = reading(); RocksIterator it = db.newIterator(dirents, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        action.visit(Keys.readIno(it.key()), Keys.nameOf(it.key()), Dirent.decode(it.value()).ino());
      }
      check(it);
    }
  }

  /** Calls {@code action(ino, chunk)} for every block-list entry of every file. */
  public void forEachChunk(ChunkVisitor action) throws FsException {
    try (Reading r = reading(); RocksIterator it = db.newIterator(chunks, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        action.visit(Keys.readIno(it.key()), Chunk.decode(Keys.chunkIndex(it.key()), it.value()));
      }
      check(it);
    }
  }

  public void forEachBlock(BlockVisitor action) throws FsException {
    try (Reading r = reading(); RocksIterator it = db.newIterator(blocks, readOptions)) {
      for (it.seekToFirst(); it.isValid(); it.next()) {
        action.visit(BlockId.of(it.key(), 0), BlockRecord.decode(it.value()));
      }
      check(it);
    }
  }

  /**
   * Visits at most {@code limit} block records in id order, after {@code after} (null: from the first), and
   * returns the last id visited, null when none was left: a pass over every block (a cluster scrub) that
   * must neither hold them all in memory nor keep the store open for the whole pass.
   */
  public BlockId forEachBlockAfter(BlockId after, int limit, BlockVisitor action) throws FsException {
    BlockId last = null;
    try (Reading r = reading(); RocksIterator it = db.newIterator(blocks, readOptions)) {
      if (after == null) {
        it.seekToFirst();
      } else {
        it.seek(after.toBytes());
        if (it.isValid() && BlockId.of(it.key(), 0).equals(after)) {
          it.next();
        }
      }
      for (int n = 0; n < limit && it.isValid(); n++, it.next()) {
        last = BlockId.of(it.key(), 0);
        action.visit(last, BlockRecord.decode(it.value()));
      }
      check(it);
    }
    return last;
  }

  /** Inode numbers that own xattrs or symlink targets, for the dangling-record check. */
  public void forEachOwnedRecord(Consumer<long[]> action) throws FsException {
    for (int family = 0; family < 2; family++) {
      try (Reading r = reading(); RocksIterator it = db.newIterator(family == 0 ? xattrs : symlinks, readOptions)) {
        for (it.seekToFirst(); it.isValid(); it.next()) {
          action.accept(new long[] {Keys.readIno(it.key()), family});
        }
        check(it);
      }
    }
  }

  /**
   * Calls {@code action(columnFamily, key, value)} for every record of every column family, in key order:
   * what replicas are compared by (they must hold byte-identical records).
   */
  public void forEachRecord(RecordVisitor action) throws FsException {
    try (Reading r = reading()) {
      for (ColumnFamilyHandle h : handles) {
        String family;
        try {
          family = new String(h.getName(), StandardCharsets.US_ASCII);
        } catch (RocksDBException e) {
          throw new FsException(Errno.EIO, "column family name: " + e.getMessage(), e);
        }
        try (RocksIterator it = db.newIterator(h, readOptions)) {
          for (it.seekToFirst(); it.isValid(); it.next()) {
            action.visit(family, it.key(), it.value());
          }
          check(it);
        }
      }
    }
  }

  public interface RecordVisitor {
    void visit(String columnFamily, byte[] key, byte[] value) throws FsException;
  }

  public interface DirentVisitor {
    void visit(long parent, String name, long child) throws FsException;
  }

  public interface ChunkVisitor {
    void visit(long ino, Chunk chunk) throws FsException;
  }

  public interface BlockVisitor {
    void visit(BlockId id, BlockRecord record) throws FsException;
  }

  // ---- writes -----------------------------------------------------------------------------------

  WriteBatch newBatch() {
    return new WriteBatch();
  }

  /**
   * Writes {@code batch}, then brings the caches ({@link InodeCache}) up to it: {@code inodeChanges} and
   * {@code leaseChanges}, the inode and lease records it writes (empty: removed); {@code chunkInodes}, the
   * inodes whose chunks it changes, and {@code inlineWritten}, the block 0 it stores inline of some of them
   * (kept: a small file is often read soon after it is written).
   */
  void write(WriteBatch batch, Map<Long, java.util.Optional<Inode>> inodeChanges,
      java.util.Collection<Long> chunkInodes, Map<Long, Chunk> inlineWritten,
      Map<Long, java.util.Optional<Lease>> leaseChanges) throws FsException {
    boolean written = false;
    try (Reading r = reading()) {
      db.write(writeOptions, batch);
      written = true;
    } catch (RocksDBException e) {
      throw new FsException(Errno.EIO, "metadata write failed: " + e.getMessage(), e);
    } finally {
      // after the write (even a failed one): a fill that read before it is dropped
      InodeCache<Chunk> c = inlineChunks;
      if (c != null && !chunkInodes.isEmpty()) {
        c.invalidate(chunkInodes, written ? inlineWritten : Map.of());
      }
      if (!inodeChanges.isEmpty()) {
        inodeRecords.invalidate(inodeChanges.keySet(), written ? inodeChanges : Map.of());
      }
      if (!leaseChanges.isEmpty()) {
        leases.invalidate(leaseChanges.keySet(), written ? leaseChanges : Map.of());
      }
    }
  }

  /** Makes every applied operation durable (syncs the write-ahead log). */
  public void sync() throws FsException {
    try (Reading r = reading()) {
      db.flushWal(true);
    } catch (RocksDBException e) {
      throw new FsException(Errno.EIO, "metadata sync failed: " + e.getMessage(), e);
    }
  }

  /** A figure RocksDB reports (e.g. "rocksdb.estimate-num-keys"), per column family name, or -1. */
  public long property(String name) {
    try (Reading r = reading()) {
      return db.getLongProperty(inodes, name);
    } catch (RocksDBException | FsException e) {
      return -1;
    }
  }

  /**
   * A RocksDB figure for each column family by name (e.g. "rocksdb.estimate-num-keys",
   * "rocksdb.estimate-live-data-size"); a family that cannot report it is left out.
   */
  public java.util.Map<String, Long> propertyByColumnFamily(String name) {
    java.util.Map<String, Long> out = new java.util.LinkedHashMap<>();
    try (Reading r = reading()) {
      for (ColumnFamilyHandle h : handles) {
        try {
          out.put(new String(h.getName(), StandardCharsets.US_ASCII), db.getLongProperty(h, name));
        } catch (RocksDBException e) {
          // not reported for this family
        }
      }
    } catch (FsException e) {
      // closed: nothing to report
    }
    return out;
  }

  /** The column families, in the order {@link #openDb} takes their handles. */
  enum Family {
    META, INODES, DIRENTS, XATTRS, SYMLINKS, CHUNKS, BLOCKS, ORPHANS, PENDING_DELETES, SESSIONS, NODES, RESERVATIONS, OVERLAYS
  }

  /**
   * A point read. It names the family, not a handle, so the handle is taken under the read lock: a handle
   * read before it could belong to a database {@link #replace} has closed since.
   */
  byte[] get(Family family, byte[] key) throws FsException {
    try (Reading r = reading()) {
      return db.get(handles.get(family.ordinal()), readOptions, key);
    } catch (RocksDBException e) {
      throw new FsException(Errno.EIO, "metadata read failed: " + e.getMessage(), e);
    }
  }

  long getLong(Family family, byte[] key, long dflt) throws FsException {
    byte[] v = get(family, key);
    return v == null ? dflt : ByteBuffer.wrap(v).getLong();
  }

  private static void check(RocksIterator it) throws FsException {
    try {
      it.status();
    } catch (RocksDBException e) {
      throw new FsException(Errno.EIO, "metadata scan failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    open.writeLock().lock();
    try {
      if (db == null) {
        return;
      }
      closeDb();
      closeNatives();
    } finally {
      open.writeLock().unlock();
    }
  }

  private void closeNatives() {
    for (AutoCloseable c : new AutoCloseable[] {readOptions, writeOptions, dbOptions, cfOptions}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          log.atWarn().addKeyValue("error", e.getMessage()).log("closing a RocksDB object failed");
        }
      }
    }
  }

  // ---- checkpoints (Raft snapshots) -------------------------------------------------------------

  /**
   * Flushes every column family (so the applied position is in SST files, durable without the WAL) and
   * writes an openable RocksDB checkpoint of this store into {@code dir}, which must not exist yet: SST
   * files are hard-linked when {@code dir} is on the same filesystem, copied otherwise; the small
   * MANIFEST, OPTIONS and CURRENT files are copied. The caller serialises this with {@link OpApplier#apply}
   * so the checkpoint holds exactly {@link #appliedIndex()}.
   */
  public void checkpoint(Path dir) throws FsException {
    try (Reading r = reading(); org.rocksdb.FlushOptions flush = new org.rocksdb.FlushOptions().setWaitForFlush(true);
        org.rocksdb.Checkpoint checkpoint = org.rocksdb.Checkpoint.create(db)) {
      db.flush(flush, handles);
      checkpoint.createCheckpoint(dir.toString());
    } catch (RocksDBException e) {
      throw new FsException(Errno.EIO, "metadata checkpoint to " + dir + " failed: " + e.getMessage(), e);
    }
  }
}
