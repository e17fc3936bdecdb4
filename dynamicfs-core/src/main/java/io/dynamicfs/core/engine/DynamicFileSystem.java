package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.Attr;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.api.StatFs;
import io.dynamicfs.core.api.TimeSpec;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.intent.DirectoryLogStorage;
import io.dynamicfs.core.intent.IntentLog;
import io.dynamicfs.core.intent.LogStorage;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.Names;
import io.dynamicfs.core.meta.PathIndex;
import io.dynamicfs.core.storage.Device;
import io.dynamicfs.core.storage.Redundancy;
import io.dynamicfs.core.storage.Scrubber;
import io.dynamicfs.core.storage.StorageLayout;
import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.core.storage.TieredStore;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-node engine behind {@link FileSystem}: namespace operations become {@link MetaOp} records
 * applied through the {@link MetaLog}; file content goes through {@link OpenFile}s and the
 * {@link BlockPipeline} into the block store.
 *
 * <p>Open files: one {@link OpenFile} per inode with open handles, kept in {@code openFiles}, which is
 * read lock-free and changed only under the MetaLog monitor — so "is it open?" and "remove its last
 * name" are decided together, and an unlinked file stays readable until its last handle is released,
 * when it is reclaimed. A background task commits files that have been written but not closed every
 * {@code commitInterval}, bounding what a crash can lose without fsync.
 */
public final class DynamicFileSystem implements FileSystem {
  private static final Logger log = LoggerFactory.getLogger(DynamicFileSystem.class);
  private static final int O_ACCMODE = 3;
  private static final int O_RDONLY = 0;
  private static final int O_WRONLY = 1;
  private static final int O_TRUNC = 01000;
  private static final int O_APPEND = 02000;
  private static final int REPORTED_BLKSIZE = 128 << 10;
  /**
   * Memory for small files' inline bytes (MetadataStore#cacheInlineChunks): 4,000 files of 16 KiB. A cold
   * small file then costs no RocksDB read of its bytes (measured: 2,600 against 4,100 files/s read back after
   * {@code drop_caches} on a cluster mount, the second figure once its blocks were in RocksDB's cache).
   */
  static final long INLINE_CACHE_BYTES = 64L << 20;

  private final DataDirectory data;
  /** Null on a single node. */
  private final ClusterMount cluster;
  private final FormatOptions format;
  private final MetadataStore meta;
  private final TieredStore tiers;
  private final BlockStore baseStore;
  private final Scrubber scrubber;
  private final java.util.concurrent.atomic.AtomicBoolean scrubbing = new java.util.concurrent.atomic.AtomicBoolean();
  private final java.util.Set<Long> reportedUnreadable = ConcurrentHashMap.newKeySet();
  private final BlockStore store;
  private final MetaLog metaLog;
  private final BlockReclaimer reclaimer;
  /**
   * This mount's client session: it owns the files held open here after their last name went. A cluster
   * mount whose session the cluster ended opens another ({@link #renewSession}).
   */
  private volatile long session = newSessionId();
  private final BlockPipeline pipeline;
  private final TimeSource clock;
  /** Hears every read and write served through a handle; {@code observing} is false for the no-op one. */
  private final AccessObserver observer;
  private final boolean observing;
  private final OpenFiles openFiles;
  /** The write intent log and its folder: null on a cluster mount or when switched off. */
  private final IntentLog intents;
  private final IntentFolder folder;
  private final Map<Long, Handle> handles = new ConcurrentHashMap<>();
  private final AtomicLong nextHandle = new AtomicLong(1);
  private final Maintenance maintenance = new Maintenance();
  /** Blocks the pipeline holds at most before they are stored (its queue and workers). */
  private final int pipelineBlocks;
  private volatile boolean closed;

  private record Handle(long id, long ino, OpenFile file, int flags, OpenFile.ReadAhead readAhead) {}

  /** A single node over a locked DATA directory. */
  private DynamicFileSystem(DataDirectory data, EngineOptions options, MetadataStore meta, TieredStore baseStore,
      IntentLog intents) throws IOException {
    this.tiers = baseStore;
    this.scrubber = new Scrubber(baseStore, meta);
    this.data = data;
    this.cluster = null;
    this.format = data.format();
    this.meta = meta;
    meta.cacheInlineChunks(INLINE_CACHE_BYTES);
    this.baseStore = baseStore;
    this.store = options.storeDecorator().apply(baseStore);
    this.clock = options.clock();
    this.observer = options.accessObserver();
    this.observing = observer != AccessObserver.NONE;
    this.metaLog = new MetaLog(meta, store, options.applyListener());
    this.reclaimer = new BlockReclaimer(meta, metaLog, java.time.Duration.ZERO, System::nanoTime);
    this.pipeline = new BlockPipeline(store, metaLog, options.workerThreads(), 4 * options.workerThreads() + 4,
        format.blockSize());
    this.pipelineBlocks = 5 * options.workerThreads() + 4;
    this.intents = intents;
    this.openFiles = new OpenFiles(format, meta, store, metaLog, pipeline, clock, intents, false);
    this.folder = intents == null ? null : new IntentFolder(intents, meta, openFiles);
    maintenance.every(options.commitInterval(), "commit", openFiles::commitChanged);
    if (folder != null) {
      maintenance.every(java.time.Duration.ofSeconds(1), "fold", folder::background);
    }
    maintenance.every(data.layout().compaction().interval(), "compact", this::compact);
    maintenance.every(java.time.Duration.ofSeconds(10), "recheck-devices", tiers::recheckDevices);
    maintenance.every(java.time.Duration.ofSeconds(1), "reclaim", this::reclaimBlocks);
    StorageLayout.Scrub sc = data.layout().scrub();
    if (sc.enabled()) {
      maintenance.longTaskEvery(sc.interval(), "scrub", this::backgroundScrub);
    }
  }

  /**
   * A cluster mount: metadata read from a local replica and changed through the Raft group, blocks on
   * the nodes. Storage upkeep (compaction, scrub, reclaim, tier moves) is the nodes' work, not a mount's.
   */
  private DynamicFileSystem(ClusterMount cluster, EngineOptions options) {
    this.data = null;
    this.tiers = null;
    this.scrubber = null;
    this.cluster = cluster;
    this.format = cluster.format();
    this.meta = cluster.replica();
    meta.cacheInlineChunks(INLINE_CACHE_BYTES);
    this.baseStore = cluster.blocks();
    this.store = options.storeDecorator().apply(baseStore);
    this.clock = options.clock();
    this.observer = options.accessObserver();
    this.observing = observer != AccessObserver.NONE;
    this.metaLog = new MetaLog(meta, store, cluster.journal());
    this.reclaimer = null;
    this.pipeline = new BlockPipeline(store, metaLog, options.workerThreads(), 4 * options.workerThreads() + 4,
        format.blockSize());
    this.pipelineBlocks = 5 * options.workerThreads() + 4;
    this.intents = null; // fsync stores whole blocks: overlays would have to reach every replica's reader
    this.folder = null;
    this.openFiles = new OpenFiles(format, meta, store, metaLog, pipeline, clock, null, true);
    maintenance.every(options.commitInterval(), "commit", openFiles::commitChanged);
    maintenance.every(cluster.sessionTtl().dividedBy(3), "renew-session", this::renewSession);
  }

  /**
   * Opens a cluster mount (see {@link ClusterMount}): the root must exist (cluster-init made it); the
   * mount's session is opened with the cluster's lifetime. On failure the mount's resources are closed.
   */
  public static DynamicFileSystem openCluster(ClusterMount cluster, EngineOptions options) throws IOException {
    DynamicFileSystem fs = new DynamicFileSystem(cluster, options);
    try {
      fs.meta.requireInode(ROOT_INO);
      fs.openSession(fs.session);
      return fs;
    } catch (IOException | RuntimeException e) {
      try {
        fs.close();
      } catch (IOException | RuntimeException c) {
        e.addSuppressed(c);
      }
      throw e;
    }
  }

  /** Opens cluster session {@code id} with the cluster's lifetime. */
  private void openSession(long id) throws FsException {
    metaLog.submit(new MetaOp.OpenSession(id, cluster.client(), sessionExpiry()));
  }

  private long sessionExpiry() {
    return clock.nowNanos() + cluster.sessionTtl().toNanos();
  }

  private void renewSession() {
    long current = session;
    try {
      metaLog.submit(new MetaOp.RenewSession(current, sessionExpiry()));
    } catch (FsException e) {
      if (e.errno() == Errno.ENOENT) {
        reopenSession(current);
        return;
      }
      log.atError().addKeyValue("op", "renew-session").addKeyValue("error", e.getMessage())
          .log("client session could not be renewed; files this mount keeps open after unlink may be reclaimed");
    }
  }

  /**
   * The cluster ended session {@code ended} while this mount still runs: it was not renewed for longer than
   * its lifetime (the mount was paused or cut off from the cluster: a frozen VM, a suspended laptop). The
   * files it kept open after their last name went were reclaimed with it, and its directory leases and
   * inode ranges are gone; a new session lets the mount go on.
   */
  private void reopenSession(long ended) {
    long next = newSessionId();
    try {
      openSession(next);
      session = next;
      log.atWarn().addKeyValue("op", "renew-session").addKeyValue("ended", Long.toHexString(ended))
          .addKeyValue("session", Long.toHexString(next))
          .log("the cluster ended this mount's session (not renewed within its lifetime); opened a new one. Files "
              + "this mount kept open after their last name went were reclaimed and now fail with ESTALE");
    } catch (FsException e) {
      log.atError().addKeyValue("op", "renew-session").addKeyValue("error", e.getMessage())
          .log("the cluster ended this mount's session and a new one could not be opened; retried next period");
    }
  }

  /** ENOTSUP for storage upkeep on a cluster mount (the nodes do it). */
  private void requireLocalStorage(String what) throws FsException {
    if (tiers == null) {
      throw FsException.of(Errno.EOPNOTSUPP, "%s runs on the cluster's nodes, not on a mount", what);
    }
  }

  private void backgroundScrub() {
    try {
      scrub(true, null, data.layout().scrub().rateBytesPerSecond(), p -> { }, maintenance::closing);
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("error", e.getMessage()).log("background scrub failed");
    }
  }

  /**
   * Opens the filesystem in a locked DATA directory: metadata, block store, then recovery (root on a new
   * filesystem, inodes orphaned by a crash, store records no metadata references).
   */
  public static DynamicFileSystem open(DataDirectory data, EngineOptions options) throws IOException {
    return open(data, options, options.intentLogBytes() == 0 ? null : new DirectoryLogStorage(data.intentDir()));
  }

  /** {@link #open}, with the intent log kept in {@code intentStorage} (a test's power-loss wrapper), or none. */
  static DynamicFileSystem open(DataDirectory data, EngineOptions options, LogStorage intentStorage)
      throws IOException {
    MetadataStore meta = MetadataStore.open(data.metaDir(), data.format().blockSize());
    TieredStore segments = null;
    IntentLog intents = null;
    try {
      segments = TieredStore.open(data.layout(), data.uuid(), data.format().codec(), options.segmentBytes(),
          data.isNew(), false);
      intents = intentStorage == null ? null : new IntentLog(intentStorage, options.intentLogBytes());
      DynamicFileSystem fs = new DynamicFileSystem(data, options, meta, segments, intents);
      fs.recover();
      return fs;
    } catch (IOException | RuntimeException e) {
      if (intentStorage != null) {
        try {
          intentStorage.close();
        } catch (IOException s) {
          e.addSuppressed(s);
        }
      }
      if (segments != null) {
        try {
          segments.close();
        } catch (IOException s) {
          e.addSuppressed(s);
        }
      }
      meta.close();
      throw e;
    }
  }

  private void recover() throws IOException {
    new Recovery(data, meta, metaLog, tiers, reclaimer, clock).run(session);
    if (folder != null) {
      folder.reclaim(); // records appended but never committed before a crash go with their files
    }
  }

  private static long newSessionId() {
    long id;
    do {
      id = new java.security.SecureRandom().nextLong();
    } while (id == 0);
    return id;
  }

  /** Count and space figures of the block store (with its caches' view). */
  public io.dynamicfs.core.block.StoreStats storeStats() {
    return store.stats();
  }

  /** A RocksDB figure of the metadata per column family (e.g. "rocksdb.estimate-num-keys"). */
  public Map<String, Long> metadataFigures(String property) {
    return meta.propertyByColumnFamily(property);
  }

  /**
   * Reads every stored block of a regular file into the caches (warmup); {@code onBytes} hears the plain
   * length of each block-list entry as it is done. Returns how many stored (not inline) blocks were read.
   */
  public long warm(long ino, java.util.function.LongConsumer onBytes) throws IOException {
    final int page = 1024;
    long blocks = 0;
    for (long from = 0; ; from += page) {
      List<io.dynamicfs.core.meta.Chunk> chunks = meta.chunks(ino, from, from + page);
      if (chunks.isEmpty()) {
        Inode i = meta.requireInode(ino);
        if (from * format.blockSize() >= i.size()) {
          return blocks;
        }
        continue; // a hole of a whole page
      }
      for (io.dynamicfs.core.meta.Chunk c : chunks) {
        if (!c.isInline()) {
          store.get(c.id());
          blocks++;
        }
        onBytes.accept(c.length());
      }
    }
  }

  public FormatOptions format() {
    return format;
  }

  public BlockStore blockStore() {
    return store;
  }

  /** Whether a handle of this mount has inode {@code ino} open now (a tier move of it would wait on it). */
  public boolean isOpen(long ino) {
    return openFiles.isOpen(ino);
  }

  OpenFile openFileForTest(long ino) {
    return openFiles.get(ino);
  }

  MetaLog metaLogForTest() {
    return metaLog;
  }

  public MetadataStore metadata() {
    return meta;
  }

  // ---- attributes and lookup -------------------------------------------------------------------

  @Override
  public Attr getattr(long ino) throws IOException {
    // The open file first, the inode second: a commit finishing in between then cannot leave us with
    // the inode's old size and no live one.
    OpenFile of = openFiles.get(ino);
    long[] live = of != null ? of.liveAttrs() : null;
    Inode i = meta.requireInode(ino);
    return toAttr(i, live);
  }

  private Attr toAttr(Inode i, long[] live) {
    long size = i.size();
    long mtime = i.mtimeNs();
    long ctime = i.ctimeNs();
    if (live != null) {
      size = live[0];
      mtime = Math.max(mtime, live[1]);
      ctime = Math.max(ctime, live[2]);
    }
    long stored = i.storedBytes();
    if (i.isDirectory()) {
      size = 4096;
      stored = 4096;
    }
    return new Attr(i.ino(), i.mode(), i.nlink(), i.uid(), i.gid(), i.rdev(), size, (stored + 511) / 512,
        i.atimeNs(), mtime, ctime, REPORTED_BLKSIZE);
  }

  @Override
  public long lookup(long parent, String name) throws IOException {
    if (name.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > Names.NAME_MAX) {
      throw FsException.of(Errno.ENAMETOOLONG, "name longer than %d bytes", Names.NAME_MAX);
    }
    if (name.equals(".") || name.equals("..")) {
      Inode dir = meta.requireInode(parent);
      if (!dir.isDirectory()) {
        throw FsException.of(Errno.ENOTDIR, "inode %d is not a directory", parent);
      }
      return name.equals(".") || parent == ROOT_INO ? parent : dir.parent();
    }
    long ino = meta.lookup(parent, name);
    if (ino < 0 && cluster != null) {
      // The replica may not have applied a create committed elsewhere a moment ago: a miss is answered
      // only after catching up, so a file closed on another mount opens here (close-to-open).
      cluster.openBarrier().await(parent);
      ino = meta.lookup(parent, name);
    }
    if (ino < 0) {
      Inode p = meta.requireInode(parent);
      if (!p.isDirectory()) {
        throw FsException.of(Errno.ENOTDIR, "inode %d is not a directory", parent);
      }
      throw FsException.of(Errno.ENOENT, "no '%s' in directory %d", name, parent);
    }
    return ino;
  }

  /**
   * The inode at a path from the filesystem's root ("" or "/" is the root), for the operator's commands
   * that name files by path; "." is skipped and ".." refused.
   */
  public long resolve(String path) throws IOException {
    long ino = ROOT_INO;
    for (String part : path.split("/")) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        throw FsException.of(Errno.EINVAL, "path '%s' must not contain '..'", path);
      }
      ino = lookup(ino, part);
    }
    return ino;
  }

  /** Blocks held dirty in memory across the open files (bounded: see OpenFiles). */
  int dirtyBlocks() {
    return openFiles.dirtyBlocks();
  }

  @Override
  public List<DirEntry> readdir(long ino) throws IOException {
    Inode i = meta.requireInode(ino);
    if (!i.isDirectory()) {
      throw FsException.of(Errno.ENOTDIR, "inode %d is not a directory", ino);
    }
    return meta.list(ino);
  }

  @Override
  public String readlink(long ino) throws IOException {
    Inode i = meta.requireInode(ino);
    if (i.type() != FileType.SYMLINK) {
      throw FsException.of(Errno.EINVAL, "inode %d is not a symlink", ino);
    }
    return meta.symlink(ino);
  }

  // ---- namespace ------------------------------------------------------------------------------

  @Override
  public Attr mknod(Caller caller, long parent, String name, int mode, long rdev) throws IOException {
    FileType t = FileType.ofMode(mode);
    if (t == FileType.DIRECTORY || t == FileType.SYMLINK) {
      throw FsException.of(Errno.EINVAL, "mknod cannot make a %s", t);
    }
    return createNode(caller, parent, name, t.bits() | (mode & 07777), rdev, null);
  }

  @Override
  public Attr mkdir(Caller caller, long parent, String name, int mode) throws IOException {
    return createNode(caller, parent, name, FileType.DIRECTORY.bits() | (mode & 07777), 0, null);
  }

  @Override
  public Attr symlink(Caller caller, long parent, String name, String target) throws IOException {
    return createNode(caller, parent, name, FileType.SYMLINK.bits() | 0777, 0, Names.requireValidTarget(target));
  }

  private Attr createNode(Caller caller, long parent, String name, int mode, long rdev, String target)
      throws IOException {
    Names.requireValid(name);
    long ino = metaLog.submit(new MetaOp.CreateNode(parent, name, mode, caller.uid(), caller.gid(), caller.isRoot(),
        rdev, target, clock.nowNanos())).ino();
    return getattr(ino);
  }

  @Override
  public void unlink(long parent, String name) throws IOException {
    remove(parent, name, false);
  }

  @Override
  public void rmdir(long parent, String name) throws IOException {
    remove(parent, name, true);
  }

  private void remove(long parent, String name, boolean directory) throws IOException {
    if (name.equals(".")) {
      throw new FsException(Errno.EINVAL, "cannot remove '.'");
    }
    if (name.equals("..")) {
      throw new FsException(Errno.ENOTEMPTY, "cannot remove '..'");
    }
    synchronized (metaLog) {
      long ino = meta.lookup(parent, name);
      boolean open = ino >= 0 && openFiles.isOpen(ino);
      metaLog.submit(new MetaOp.Remove(parent, name, directory, open ? session : 0, clock.nowNanos()));
    }
  }

  @Override
  public void rename(long parent, String name, long newParent, String newName, int flags) throws IOException {
    Names.requireValid(newName);
    if (name.equals(".") || name.equals("..")) {
      throw FsException.of(Errno.EINVAL, "cannot rename '%s'", name);
    }
    synchronized (metaLog) {
      long victim = meta.lookup(newParent, newName);
      boolean open = victim >= 0 && openFiles.isOpen(victim);
      metaLog.submit(new MetaOp.Rename(parent, name, newParent, newName, flags, open ? session : 0,
          clock.nowNanos()));
    }
  }

  @Override
  public Attr link(long ino, long newParent, String newName) throws IOException {
    Names.requireValid(newName);
    metaLog.submit(new MetaOp.Link(ino, newParent, newName, clock.nowNanos()));
    return getattr(ino);
  }

  // ---- attributes -----------------------------------------------------------------------------

  @Override
  public Attr setattr(Caller caller, long ino, SetAttr changes, long handle) throws IOException {
    Inode i = meta.requireInode(ino);
    boolean times = isSet(changes.atime()) || isSet(changes.mtime());
    MetaOp.SetAttrs attrs = null;
    if (changes.mode() != null || changes.uid() != null || changes.gid() != null || times) {
      long now = clock.nowNanos();
      attrs = new MetaOp.SetAttrs(ino, changes.mode(), changes.uid(), changes.gid(), resolve(changes.atime(), now),
          resolve(changes.mtime(), now), now);
    }
    if (changes.size() != null) {
      if (i.isDirectory()) {
        throw FsException.of(Errno.EISDIR, "cannot truncate directory %d", ino);
      }
      if (!i.isRegular()) {
        throw FsException.of(Errno.EINVAL, "cannot truncate a %s", i.type());
      }
      OpenFile of = acquire(i);
      try {
        of.truncate(changes.size());
        of.commit(attrs); // invariant 2: the new size and the other changes in one operation
      } finally {
        releaseFile(of);
      }
    } else if (attrs != null) {
      OpenFile of = openFiles.get(ino);
      if (of != null && times) {
        of.commit(); // an explicit time must not be overwritten by a later commit of earlier writes
      }
      metaLog.submit(attrs);
    }
    return getattr(ino);
  }

  private static boolean isSet(TimeSpec t) {
    return t != null && t.kind() != TimeSpec.Kind.OMIT;
  }

  private static Long resolve(TimeSpec t, long now) {
    if (t == null || t.kind() == TimeSpec.Kind.OMIT) {
      return null;
    }
    return t.kind() == TimeSpec.Kind.NOW ? now : t.epochNanos();
  }

  // ---- open files -----------------------------------------------------------------------------

  private OpenFile acquire(Inode i) throws FsException {
    return openFiles.acquire(i);
  }

  private void releaseFile(OpenFile of) throws IOException {
    openFiles.release(of);
  }

  @Override
  public long open(Caller caller, long ino, int flags) throws IOException {
    if (cluster != null) {
      cluster.openBarrier().await(ino); // close-to-open: what was closed elsewhere is here before we read
    }
    return openLocal(ino, flags);
  }

  /** open without the cluster's barrier: for a file this mount has just made (its replica has it). */
  private long openLocal(long ino, int flags) throws IOException {
    Inode i = meta.requireInode(ino);
    if (i.isDirectory() && (flags & O_ACCMODE) != O_RDONLY) {
      throw FsException.of(Errno.EISDIR, "cannot open directory %d for writing", ino);
    }
    OpenFile of = acquire(i);
    if ((flags & O_TRUNC) != 0 && (flags & O_ACCMODE) != O_RDONLY && i.isRegular()) {
      try {
        of.truncate(0);
      } catch (IOException e) {
        releaseFile(of);
        throw e;
      }
    }
    long id = nextHandle.getAndIncrement();
    handles.put(id, new Handle(id, ino, of, flags, new OpenFile.ReadAhead()));
    return id;
  }

  @Override
  public OpenResult create(Caller caller, long parent, String name, int mode, int flags) throws IOException {
    Attr a = createNode(caller, parent, name, FileType.REGULAR.bits() | (mode & 07777), 0, null);
    long h = openLocal(a.ino(), flags & ~O_TRUNC);
    return new OpenResult(h, a);
  }

  private Handle handle(long id) throws FsException {
    Handle h = handles.get(id);
    if (h == null) {
      throw FsException.of(Errno.EBADF, "no open handle %d", id);
    }
    return h;
  }

  @Override
  public long inodeOf(long handle) throws IOException {
    return handle(handle).ino();
  }

  @Override
  public int read(long handle, long offset, byte[] dst, int dstOffset, int length) throws IOException {
    Handle h = handle(handle);
    if ((h.flags() & O_ACCMODE) == O_WRONLY) {
      throw FsException.of(Errno.EBADF, "handle %d is write-only", handle);
    }
    if (offset < 0) {
      throw FsException.of(Errno.EINVAL, "negative offset %d", offset);
    }
    Inode i = meta.inode(h.ino());
    if (i != null && i.isDirectory()) {
      throw FsException.of(Errno.EISDIR, "inode %d is a directory", h.ino());
    }
    int n;
    try {
      n = h.file().read(offset, dst, dstOffset, length);
    } catch (FsException e) {
      if (e.errno() == Errno.EIO) {
        reportUnreadable(h.ino(), offset, e);
      }
      throw e;
    }
    if (observing && n > 0) {
      observer.read(h.ino(), offset, n, clock.coarseNanos()); // after the cache or store served it: hits count
    }
    h.file().readAhead(h.readAhead(), offset, n);
    return n;
  }

  /** Logs an unreadable file position once per inode, naming the file. */
  private void reportUnreadable(long ino, long offset, FsException e) {
    if (!reportedUnreadable.add(ino)) {
      return;
    }
    String path;
    try {
      path = PathIndex.scan(meta).pathOf(ino);
    } catch (FsException | RuntimeException x) {
      path = "inode " + ino;
    }
    log.atError().addKeyValue("op", "read").addKeyValue("path", path).addKeyValue("ino", ino)
        .addKeyValue("offset", offset).addKeyValue("error", e.getMessage()).log("read failed: data unreadable");
  }

  @Override
  public int write(long handle, long offset, byte[] src, int srcOffset, int length) throws IOException {
    Handle h = handle(handle);
    if ((h.flags() & O_ACCMODE) == O_RDONLY) {
      throw FsException.of(Errno.EBADF, "handle %d is read-only", handle);
    }
    if (offset < 0) {
      throw FsException.of(Errno.EINVAL, "negative offset %d", offset);
    }
    long reserved = meta.reservedBytes();
    if (reserved > 0 && length > 0) {
      requireUnreservedSpace(h, (h.flags() & O_APPEND) != 0 ? h.file().size() : offset, length, reserved);
    }
    boolean append = (h.flags() & O_APPEND) != 0;
    int n = h.file().write(offset, src, srcOffset, length, append);
    if (observing && n > 0) {
      // an append's offset is where it landed: the size after it, less what it wrote (racy with another
      // appender, which only blurs the statistics)
      observer.write(h.ino(), append ? Math.max(0, h.file().size() - n) : offset, n, clock.coarseNanos());
    }
    return n;
  }

  /**
   * While fallocate reservations exist, a write outside them must not use the space they promise: ENOSPC
   * unless the free space minus the reserved bytes still holds it and everything written but not yet stored
   * (the pipeline's blocks and each open file's dirty buffers, at most). A write into reserved blocks
   * always goes ahead: its space is set aside. Costs nothing while nothing is reserved.
   */
  private void requireUnreservedSpace(Handle h, long offset, int length, long reserved) throws IOException {
    int bs = format.blockSize();
    boolean allReserved = true;
    for (long idx = offset / bs; idx <= (offset + length - 1) / bs && allReserved; idx++) {
      allReserved = meta.isReserved(h.ino(), idx);
    }
    if (allReserved) {
      return;
    }
    long inFlight = (long) (pipelineBlocks + 8 * openFiles.files().size()) * bs;
    long free = rawSpace().availableBytes() - reserved - inFlight;
    if (free < length) {
      throw FsException.of(Errno.ENOSPC, "%d bytes free outside the %d bytes fallocate reserved", Math.max(0, free),
          reserved);
    }
  }

  @Override
  public void fallocate(Caller caller, long handle, int mode, long offset, long length) throws IOException {
    Handle h = handle(handle);
    if ((h.flags() & O_ACCMODE) == O_RDONLY) {
      throw FsException.of(Errno.EBADF, "handle %d is read-only", handle);
    }
    if ((mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE)) != 0) {
      throw FsException.of(Errno.EOPNOTSUPP, "fallocate mode %#x", mode);
    }
    boolean keepSize = (mode & FALLOC_FL_KEEP_SIZE) != 0;
    boolean punch = (mode & FALLOC_FL_PUNCH_HOLE) != 0;
    boolean zero = (mode & FALLOC_FL_ZERO_RANGE) != 0;
    if ((punch && zero) || (punch && !keepSize)) { // as Linux's vfs_fallocate answers
      throw FsException.of(Errno.EOPNOTSUPP, "fallocate mode %#x: punching a hole needs KEEP_SIZE, alone", mode);
    }
    if (offset < 0 || length <= 0) {
      throw FsException.of(Errno.EINVAL, "fallocate range %d+%d", offset, length);
    }
    long max = FileSystem.maxFileSize(format.blockSize());
    if (offset > max - length) {
      throw FsException.of(Errno.EFBIG, "fallocate to %d+%d: files end at %d bytes", offset, length, max);
    }
    Inode i = meta.requireInode(h.ino());
    if (i.isDirectory()) {
      throw FsException.of(Errno.EISDIR, "inode %d is a directory", h.ino());
    }
    if (!i.isRegular()) {
      throw FsException.of(Errno.ENODEV, "cannot fallocate a %s", i.type());
    }
    if (punch || zero) {
      zeroWithin(h, offset, length);
    }
    if (punch) {
      MetaOp.SetAttrs drop = dropPrivileges(caller, i);
      h.file().commit(drop); // the zeros stored (whole blocks as holes) with the mode change, if any
      int bs = format.blockSize();
      long from = (offset + bs - 1) / bs;
      long end = offset + length;
      // whole blocks only, but a range reaching the end of file takes the last block (as ext4 rounds it up)
      long to = end >= h.file().size() ? (end + bs - 1) / bs : end / bs;
      if (to > from && !meta.reservedIndexes(h.ino(), from, to).isEmpty()) {
        metaLog.submit(new MetaOp.Unreserve(h.ino(), from, to));
      }
      return;
    }
    h.file().reserve(offset, length, keepSize, rawSpace().availableBytes(), dropPrivileges(caller, i));
  }

  @Override
  public long seekData(long handle, long offset, int whence) throws IOException {
    Handle h = handle(handle);
    if (whence != SEEK_DATA && whence != SEEK_HOLE) {
      throw FsException.of(Errno.EINVAL, "lseek whence %d", whence);
    }
    h.file().commit(); // what is written but not yet published counts as data
    return h.file().seek(offset, whence == SEEK_HOLE);
  }

  /**
   * Shares the whole blocks of the range ({@link CopyPlan}) in one {@link MetaOp.CloneBlocks} after both files
   * published what they wrote, and copies the unaligned edges through read and write. When the clone finds the
   * files changed under it (EAGAIN), the whole range is copied as bytes instead.
   */
  @Override
  public long copyFileRange(Caller caller, long handleIn, long offsetIn, long handleOut, long offsetOut,
      long length, int flags) throws IOException {
    Handle in = handle(handleIn);
    Handle out = handle(handleOut);
    if (flags != 0) {
      throw FsException.of(Errno.EINVAL, "copy_file_range flags %#x", flags);
    }
    if ((in.flags() & O_ACCMODE) == O_WRONLY || (out.flags() & O_ACCMODE) == O_RDONLY
        || (out.flags() & O_APPEND) != 0) {
      throw FsException.of(Errno.EBADF, "copy_file_range needs a readable source and a writable, non-append target");
    }
    if (offsetIn < 0 || offsetOut < 0 || length < 0) {
      throw FsException.of(Errno.EINVAL, "copy_file_range range %d -> %d, %d bytes", offsetIn, offsetOut, length);
    }
    for (Handle h : List.of(in, out)) {
      Inode i = meta.requireInode(h.ino());
      if (i.isDirectory()) {
        throw FsException.of(Errno.EISDIR, "inode %d is a directory", h.ino());
      }
      if (!i.isRegular()) {
        throw FsException.of(Errno.EINVAL, "inode %d is not a regular file", h.ino());
      }
    }
    in.file().commit(); // the source's unpublished writes are part of what is copied
    long srcSize = in.file().size();
    if (offsetIn >= srcSize || length == 0) {
      return 0;
    }
    long len = Math.min(length, srcSize - offsetIn);
    long max = FileSystem.maxFileSize(format.blockSize());
    if (offsetOut >= max) {
      throw FsException.of(Errno.EFBIG, "copy to %d: files end at %d bytes", offsetOut, max);
    }
    len = Math.min(len, max - offsetOut);
    if (in.ino() == out.ino() && offsetIn < offsetOut + len && offsetOut < offsetIn + len) {
      throw FsException.of(Errno.EINVAL, "copy_file_range within inode %d: ranges overlap", in.ino());
    }
    io.dynamicfs.core.meta.Chunk first = meta.chunk(in.ino(), 0);
    CopyPlan plan = CopyPlan.of(offsetIn, offsetOut, len, srcSize, out.file().size(), format.blockSize(),
        first != null && first.isInline());
    if (plan.cloneCount() > 0) {
      try {
        out.file().cloneFrom(in.ino(), plan.srcIndex(), plan.dstIndex(), plan.cloneCount(), plan.minSize());
      } catch (FsException e) {
        if (e.errno() != Errno.EAGAIN) {
          throw e;
        }
        plan = CopyPlan.bytesOnly(offsetIn, offsetOut, len);
      }
    }
    for (CopyPlan.Range r : plan.byteCopies()) {
      copyBytes(in, r.from(), out, r.to(), r.n());
    }
    if (observing) {
      observer.write(out.ino(), offsetOut, (int) Math.min(len, Integer.MAX_VALUE), clock.coarseNanos());
    }
    return len;
  }

  /** Copies {@code n} bytes through the source's read and the destination's write path, a block at a time. */
  private void copyBytes(Handle in, long from, Handle out, long to, long n) throws IOException {
    byte[] buf = new byte[(int) Math.min(n, format.blockSize())];
    for (long done = 0; done < n; ) {
      int want = (int) Math.min(buf.length, n - done);
      int got = in.file().read(from + done, buf, 0, want);
      if (got < want) {
        java.util.Arrays.fill(buf, Math.max(got, 0), want, (byte) 0); // the source shrank meanwhile: zeros
      }
      long reserved = meta.reservedBytes();
      if (reserved > 0) {
        requireUnreservedSpace(out, to + done, want, reserved);
      }
      out.file().write(to + done, buf, 0, want, false);
      done += want;
    }
  }

  /**
   * Writes zeros over the part of {@code [offset, offset + length)} inside the file: the block pipeline
   * stores an all-zero block as a hole, so whole blocks are deallocated and partial ones rewritten.
   */
  private void zeroWithin(Handle h, long offset, long length) throws IOException {
    long end = Math.min(offset + length, h.file().size());
    int bs = format.blockSize();
    byte[] zeros = new byte[(int) Math.min(bs, Math.max(0, end - offset))];
    for (long pos = offset; pos < end; ) {
      int n = (int) Math.min(bs - pos % bs, end - pos);
      h.file().write(pos, zeros, 0, n, false);
      pos += n;
    }
  }

  /**
   * What a write by {@code caller} does to set-user-ID and set-group-ID, as Linux's should_remove_suid:
   * an unprivileged caller clears set-user-ID, and set-group-ID when the file is group-executable or the
   * caller is not in its group (the request's group, the closest FUSE tells). Null when nothing changes.
   */
  private MetaOp.SetAttrs dropPrivileges(Caller caller, Inode i) {
    int mode = i.mode() & 07777;
    int kept = mode & ~04000;
    if ((mode & 02000) != 0 && ((mode & 00010) != 0 || caller.gid() != i.gid())) {
      kept &= ~02000;
    }
    if (caller.isRoot() || kept == mode) {
      return null;
    }
    return new MetaOp.SetAttrs(i.ino(), kept, null, null, null, null, clock.nowNanos());
  }

  @Override
  public void flush(long handle) throws IOException {
    handle(handle).file().commit();
  }

  @Override
  public void fsync(long handle, boolean dataOnly) throws IOException {
    Handle h = handle(handle);
    if (folder != null) {
      folder.makeRoom(); // before any file lock: a fold takes every file's
      h.file().sync(); // whole blocks it stores are synced before it publishes them
      meta.sync();
      return;
    }
    h.file().commit();
    store.sync();
    meta.sync();
    metaLog.sync();
  }

  /** Folds every intent-log overlay into whole blocks now and reclaims the log; returns the blocks folded. */
  public int foldIntents() throws IOException {
    return folder == null ? 0 : folder.foldAll();
  }

  /** Bytes the write intent log holds now (0 when there is none). */
  public long intentLogBytes() {
    return intents == null ? 0 : intents.bytes();
  }

  @Override
  public void release(long handle) throws IOException {
    Handle h = handles.remove(handle);
    if (h == null) {
      throw FsException.of(Errno.EBADF, "no open handle %d", handle);
    }
    releaseFile(h.file());
  }

  @Override
  public void syncMetadata() throws IOException {
    store.sync();
    meta.sync();
    metaLog.sync();
  }

  /** Deletes the bytes of blocks no metadata references any more (see {@link BlockReclaimer}). */
  private void reclaimBlocks() {
    if (reclaimer == null) {
      return; // a cluster's leader reclaims
    }
    try {
      reclaimer.reclaim();
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("op", "reclaim").addKeyValue("error", e.getMessage()).log("block reclaim failed");
    }
  }

  /** Runs the block reclaimer now; returns the blocks whose bytes it deleted. */
  public int reclaimNow() throws FsException {
    if (reclaimer == null) {
      return 0;
    }
    return reclaimer.reclaim();
  }

  /**
   * Reclaims segments whose live fraction fell below the layout's threshold (half, by default); runs in the
   * background every compaction interval (30 s by default).
   */
  public long compact() {
    if (tiers == null) {
      return 0;
    }
    try {
      return tiers.compact(data.layout().compaction().liveFractionBelow());
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("op", "compact").addKeyValue("error", e.getMessage()).log("segment compaction failed");
      return 0;
    }
  }

  /** Size and live bytes of each segment file of the block store. */
  public List<io.dynamicfs.core.block.SegmentStore.SegmentUsage> segmentUsage() {
    if (tiers == null) {
      return List.of();
    }
    return tiers.segmentUsage();
  }

  /** Block and byte totals from the metadata (a full scan of the block records: seconds per million). */
  public SpaceUsage usage() throws FsException {
    long[] t = new long[4];
    meta.forEachBlock((id, r) -> {
      t[0]++;
      t[1] += r.rawLength();
      t[2] += r.refs() * r.rawLength();
      t[3] += r.storedLength();
    });
    return new SpaceUsage(t[0], t[1], t[2], t[3]);
  }

  /**
   * Finds, and with {@code apply} reclaims, garbage in the block store (see {@link GarbageCollector}).
   */
  public GarbageReport collectGarbage(boolean apply, double minDeadFraction, io.dynamicfs.core.api.ProgressListener progress)
      throws IOException {
    requireLocalStorage("gc");
    return new GarbageCollector(meta, metaLog, reclaimer, baseStore, tiers).run(apply, minDeadFraction, progress);
  }

  // ---- xattrs ---------------------------------------------------------------------------------

  @Override
  public byte[] getxattr(long ino, String name) throws IOException {
    XattrCache cache = metaLog.xattrs();
    java.util.Optional<byte[]> v = metaLog.cachesXattrs() ? cache.get(ino, name) : null;
    if (v == null) {
      // Read and fill under the MetaLog monitor, where ops apply and invalidate: never a stale fill.
      synchronized (metaLog) {
        meta.requireInode(ino);
        Names.requireValidXattr(name);
        byte[] read = meta.xattr(ino, name);
        if (metaLog.cachesXattrs()) {
          cache.put(ino, name, read);
        }
        v = java.util.Optional.ofNullable(read);
      }
    }
    if (v.isEmpty()) {
      throw FsException.of(Errno.ENODATA, "no xattr '%s'", name);
    }
    return v.get().clone();
  }

  @Override
  public void setxattr(long ino, String name, byte[] value, int flags) throws IOException {
    Names.requireValidXattr(name);
    metaLog.submit(new MetaOp.SetXattr(ino, name, value.clone(), flags, clock.nowNanos()));
  }

  @Override
  public List<String> listxattr(long ino) throws IOException {
    meta.requireInode(ino);
    return meta.xattrNames(ino);
  }

  @Override
  public void removexattr(long ino, String name) throws IOException {
    Names.requireValidXattr(name);
    metaLog.submit(new MetaOp.RemoveXattr(ino, name, clock.nowNanos()));
  }

  // ---- filesystem -----------------------------------------------------------------------------

  /**
   * Space of the tiers' devices: each distinct filesystem under them counted once, scaled by its tier's
   * redundancy (two copies of everything halve what is left).
   */
  @Override
  public StatFs statfs() throws IOException {
    StatFs raw = rawSpace();
    long reserved = meta.reservedBytes();
    if (reserved == 0) {
      return raw;
    }
    // Space fallocate promised is used as far as anyone else can tell.
    return new StatFs(raw.totalBytes(), Math.max(0, raw.freeBytes() - reserved),
        Math.max(0, raw.availableBytes() - reserved), raw.totalInodes(), raw.freeInodes(), raw.blockSize(),
        raw.nameMax());
  }

  /** The devices' (or the cluster's) space, before fallocate reservations are taken off. */
  private StatFs rawSpace() throws IOException {
    if (cluster != null) {
      return cluster.space().statfs();
    }
    java.util.Set<FileStore> seen = new java.util.HashSet<>();
    double total = 0;
    double free = 0;
    double avail = 0;
    for (Tier t : tiers.tiers()) {
      Redundancy r = t.redundancy();
      double efficiency = r instanceof Redundancy.ReedSolomon rs ? rs.data() / (double) (rs.data() + rs.parity())
          : 1.0 / ((Redundancy.Replicate) r).copies();
      for (Device d : t.devices()) {
        FileStore fsStore;
        try {
          fsStore = Files.getFileStore(d.directory());
        } catch (IOException e) {
          continue; // a missing device adds no space
        }
        if (!seen.add(fsStore)) {
          continue;
        }
        total += fsStore.getTotalSpace() * efficiency;
        if (d.health() == Device.Health.ONLINE) {
          free += fsStore.getUnallocatedSpace() * efficiency;
          avail += fsStore.getUsableSpace() * efficiency;
        }
      }
    }
    long inodes = Math.max(0, meta.property("rocksdb.estimate-num-keys"));
    long freeInodes = Math.max(1_000_000L, (long) avail / 4096);
    return new StatFs((long) total, (long) free, (long) avail, inodes + freeInodes, freeInodes, 4096,
        Names.NAME_MAX);
  }

  // ---- storage tiers ----------------------------------------------------------------------------

  /** The tiers and devices under this filesystem; null on a cluster mount. */
  public TieredStore storage() {
    return tiers;
  }

  /**
   * One scrub pass (see {@link Scrubber}); only one runs at a time, a second caller gets EBUSY.
   * {@code tier} null scrubs all tiers.
   */
  public Scrubber.Report scrub(boolean repair, String tier, long rateBytesPerSecond,
      java.util.function.Consumer<Scrubber.Progress> progress, java.util.function.BooleanSupplier cancelled)
      throws IOException {
    requireLocalStorage("scrub");
    if (tier != null && tiers.tier(tier) == null) {
      throw FsException.of(Errno.EINVAL, "no tier named '%s'", tier);
    }
    if (!scrubbing.compareAndSet(false, true)) {
      throw FsException.of(Errno.EBUSY, "a scrub is already running");
    }
    try {
      tiers.recheckDevices();
      return scrubber.run(repair, tier, rateBytesPerSecond, progress, () -> closed || cancelled.getAsBoolean());
    } finally {
      scrubbing.set(false);
    }
  }

  /**
   * Restores redundancy onto a replaced (empty) or recovered device: reopens it, then scrubs its tier,
   * which rewrites every missing copy or shard (preferring the devices that lack them).
   */
  public Scrubber.Report rebuild(java.nio.file.Path device, java.util.function.Consumer<Scrubber.Progress> progress,
      java.util.function.BooleanSupplier cancelled) throws IOException {
    requireLocalStorage("rebuild");
    Device d = tiers.device(device);
    if (d == null) {
      throw FsException.of(Errno.EINVAL, "%s is not a device of this filesystem", device);
    }
    if (d.health() != Device.Health.ONLINE || d.isFresh()) {
      if (!Files.isDirectory(d.directory())) {
        throw FsException.of(Errno.ENOENT, "device directory %s does not exist; create it (empty) first",
            d.directory());
      }
      d.reopen();
    }
    log.atInfo().addKeyValue("tier", d.tier()).addKeyValue("device", d.directory()).log("rebuild started");
    return scrub(true, d.tier(), 0, progress, cancelled);
  }

  /**
   * Moves the blocks of a file, or of every file under a directory, to {@code tierName}. Crash-safe per
   * block: the block is copied (read verified from its tier), synced, its metadata record switched in one
   * operation, and only then removed from the old tier; recovery removes whichever copy a crash left
   * behind. A block shared with files elsewhere (dedup) moves for all of them: one block, one tier.
   */
  public TierMove.Result moveToTier(long ino, String tierName, java.util.function.Consumer<TierMove.Progress> progress)
      throws IOException {
    return moveToTier(ino, tierName, progress, () -> false);
  }

  /**
   * As {@link #moveToTier(long, String, java.util.function.Consumer)}, stopping between batches once
   * {@code stop} says so (or the filesystem closes): the blocks moved so far stay moved, the rest stay where
   * they were. {@code progress} is called after each batch, on the caller's thread, and may wait (pacing).
   */
  public TierMove.Result moveToTier(long ino, String tierName, java.util.function.Consumer<TierMove.Progress> progress,
      java.util.function.BooleanSupplier stop) throws IOException {
    requireLocalStorage("tier move");
    Tier target = tiers.tier(tierName);
    if (target == null) {
      throw FsException.of(Errno.EINVAL, "no tier named '%s' (tiers: %s)", tierName,
          tiers.tiers().stream().map(Tier::name).toList());
    }
    return new TierMove(meta, metaLog, tiers, data.layout().compaction().liveFractionBelow()).run(ino, target, progress,
        () -> closed || stop.getAsBoolean());
  }

  /**
   * Stops as a crash would, for tests: open files are not committed, the session is not closed, nothing is
   * folded; the intent log's storage is closed as it is (a power-loss wrapper decides what of it survives).
   */
  void crashForTest() throws IOException {
    closed = true;
    maintenance.close();
    openFiles.close();
    pipeline.close();
    if (intents != null) {
      intents.close();
    }
    try {
      store.close();
    } finally {
      meta.close();
    }
  }

  @Override
  public void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    maintenance.close();
    IOException failure = null;
    for (OpenFile of : openFiles.files()) {
      try {
        of.commit();
      } catch (IOException e) {
        log.atError().addKeyValue("op", "commit").addKeyValue("ino", of.ino).addKeyValue("error", e.getMessage())
            .log("commit at unmount failed");
        failure = failure == null ? e : failure;
      }
    }
    openFiles.close();
    pipeline.close();
    if (intents != null) {
      try {
        intents.close();
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    try {
      metaLog.submit(new MetaOp.CloseSession(session)); // reclaims what was still open past its last name
    } catch (IOException e) {
      log.atWarn().addKeyValue("op", "unmount").addKeyValue("error", e.getMessage())
          .log("closing the session failed; the next mount reclaims its files");
    }
    reclaimBlocks();
    try {
      store.close();
    } catch (IOException e) {
      failure = failure == null ? e : failure;
    } finally {
      if (cluster == null) {
        meta.close();
      } else {
        try {
          cluster.resources().close();
        } catch (Exception e) {
          failure = failure == null ? new IOException("closing the cluster connection: " + e.getMessage(), e) : failure;
        }
      }
    }
    log.atInfo().addKeyValue("data", data != null ? data.root().toString() : "cluster " + cluster.client())
        .addKeyValue("open_handles_left", handles.size()).log("filesystem closed");
    if (failure != null) {
      throw failure;
    }
  }
}
