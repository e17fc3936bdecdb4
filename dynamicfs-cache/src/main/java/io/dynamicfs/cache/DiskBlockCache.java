package io.dynamicfs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.ForwardingBlockStore;
import io.dynamicfs.core.block.ReadBuffer;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.DoubleSupplier;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * L2: plain blocks in files on a fast directory, in front of any {@link BlockStore} (below L1).
 *
 * <h2>Layout</h2>
 * {@code DIR/dynamicfs-cache} (marker), {@code DIR/lock} (held while open), and one file per block at
 * {@code DIR/ab/abcdef…} (the 64-hex block id, sharded by its first byte). An entry is a 48-byte header
 * (magic "DFC2", format version 2, the block id, the plain length, CRC32C of the header and the table),
 * a table with the CRC32C of every 64 KiB chunk of the plain bytes, then the plain bytes. Entries are
 * written to {@code NAME.tmp} and renamed into place, so a name only ever holds a complete entry; nothing
 * is fsynced: a torn entry after a power cut fails verification. Entries of format 1 (one CRC for the
 * whole block) are dropped quietly when met.
 *
 * <h2>What it guarantees</h2>
 * <ul>
 *   <li><b>Survives restarts.</b> Opening scans the directory and rebuilds the index from file names and
 *       sizes (oldest first, so the eviction order roughly continues); stray and temporary files are deleted.
 *   <li><b>Verifies what it serves.</b> The header (magic, id, length against the file size, the table's
 *       checksum) is checked when an entry is first read and its table then kept in memory; every hit
 *       checks the CRC32C of each chunk it returns (CRC32C, not SHA-256: it runs at memory speed, and a cache
 *       entry only has to be protected against damage, not against an adversary). A bad entry is counted
 *       ({@code dfs.cache.corrupt}), dropped, and the read falls through to the store.
 *   <li><b>Serves ranges.</b> {@link #readRange} reads and verifies only the 64 KiB chunks a read touches,
 *       so a 4 KiB random read costs one chunk, not the whole block. A range of a block not held here is
 *       asked of the level below, which serves it from the frames that hold it where it can (the segment
 *       store's framed records), so the reader does not wait for a whole block; the block is a miss like
 *       any other and, if the policy admits it, is loaded whole by the writer thread behind the reader.
 *   <li><b>Never grows past its size.</b> The index is a Caffeine cache weighed in on-disk bytes (rounded
 *       up to 4 KiB), bounded by the size. Before the writer creates an entry file it evicts the coldest
 *       entries (deleting their files at once) until the new file fits, so the files on disk, including
 *       the one being written, never add up to more than the size.
 *   <li><b>Heals itself.</b> A missing file is a miss; if the directory itself is gone (or emptied), the
 *       index is cleared and the layout recreated by the next write; reads keep coming from below.
 *   <li><b>Never the only copy.</b> Blocks are immutable and written through to the store first, so losing
 *       any or all of the cache loses nothing. Written blocks are not admitted (L1 holds fresh writes);
 *       only blocks read from below are, by the {@link Admission} policy.
 * </ul>
 *
 * <h2>Threads</h2>
 * Readers only read files. Every file creation and deletion runs on one writer thread, in order, which
 * is what makes "evict X" and "admit X again" safe without locks: the delete task re-checks the index
 * and leaves the file alone when X was admitted again meanwhile. A miss hands its block to the writer and
 * returns at once (the caller never waits for the cache write); when more than 1/8 of the size (at most
 * 64 MiB, at least one block) is queued the block is simply not admitted. A range miss has no block to
 * hand over: the writer reads it from below itself (as a sequential read: once, around the page cache),
 * at most {@value #MAX_LOADS} such loads waiting at a time, beyond which the block is not admitted.
 */
public final class DiskBlockCache extends ForwardingBlockStore {
  private static final Logger log = LoggerFactory.getLogger(DiskBlockCache.class);
  static final int HEADER = 48;
  static final int MAGIC = 0x44464332; // "DFC2"
  static final int VERSION = 2;
  static final int CHUNK = 64 << 10;
  static final String MARKER = "dynamicfs-cache";
  private static final int ALIGN = 4096;
  private static final HexFormat HEX = HexFormat.of();
  /** Admitted range misses whose blocks wait for the writer to load them. */
  static final int MAX_LOADS = 64;

  private final Path root;
  private final long capacity;
  private final long pendingLimit;
  private final Admission.Filter admission;
  private final Cache<BlockId, Entry> index;
  private final ExecutorService writer;
  private final AtomicLong pendingBytes = new AtomicLong();
  private final AtomicInteger pendingLoads = new AtomicInteger();
  private final Set<BlockId> queued = ConcurrentHashMap.newKeySet();
  private final LevelMetrics metrics;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private volatile boolean closed;
  private volatile Thread writerThread;
  private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - 20_000_000_000L);

  /** One cached entry; identity matters (a stale reader drops only the entry it read). */
  private static final class Entry {
    final int weight;
    /** The verified header, once read (entries found at open are not read until first used). */
    volatile Table table;

    Entry(int weight, Table table) {
      this.weight = weight;
      this.table = table;
    }
  }

  /** An entry's plain length and the CRC32C of each of its chunks. */
  private record Table(int length, int[] crcs) {
    long dataOffset() {
      return HEADER + 4L * crcs.length;
    }

    long fileSize() {
      return dataOffset() + length;
    }
  }

  /**
   * Opens (creating it if needed) the cache in {@code dir}, holding at most {@code capacity} bytes.
   * An IOException when the directory cannot be created or another process uses it.
   */
  public static DiskBlockCache open(BlockStore delegate, Path dir, long capacity, Admission admission,
      MeterRegistry registry) throws IOException {
    return new DiskBlockCache(delegate, dir, capacity, admission, registry,
        () -> ThreadLocalRandom.current().nextDouble());
  }

  DiskBlockCache(BlockStore delegate, Path dir, long capacity, Admission admission, MeterRegistry registry,
      DoubleSupplier random) throws IOException {
    super(delegate);
    if (capacity < 4L * ALIGN) {
      throw new IllegalArgumentException("disk cache size must be at least 16K, got " + capacity);
    }
    this.root = dir.toAbsolutePath().normalize();
    this.capacity = capacity;
    // Up to 1/8 of the cache (at most 64 MiB, at least one block) may wait in memory to be written.
    this.pendingLimit = Math.min(capacity / 8, 64L << 20);
    this.admission = admission.newFilter(Math.max(1024, capacity / ALIGN / 4), random);
    Files.createDirectories(root);
    ensureMarker();
    this.lockChannel = FileChannel.open(root.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock l;
    try {
      l = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      l = null;
    }
    if (l == null) {
      lockChannel.close();
      throw new IOException("cache directory " + root + " is in use by another mount");
    }
    this.lock = l;
    this.writer = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "dfs-l2-writer");
      t.setDaemon(true);
      writerThread = t;
      return t;
    });
    this.index = Caffeine.newBuilder()
        .maximumWeight(capacity)
        .weigher((BlockId k, Entry e) -> e.weight)
        .executor(Runnable::run)
        .removalListener(this::removed)
        .build();
    this.metrics = new LevelMetrics(registry, "l2", this::sizeBytes);
    rebuild();
  }

  // ---- BlockStore ---------------------------------------------------------------------------------

  /** A hit from the entry's file; a miss from below (as a sequential read if this is one), then offered. */
  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    long start = System.nanoTime();
    Entry e = index.getIfPresent(id);
    if (e != null) {
      byte[] b = read(id, e);
      if (b != null) {
        metrics.hit(start, b.length);
        return b;
      }
    }
    byte[] b;
    try {
      b = delegate.get(id, sequential);
    } finally {
      metrics.miss(start);
    }
    offer(id, b);
    return b;
  }

  /**
   * Serves {@code [offset, offset + length)} from the entry's file, reading and verifying only the chunks
   * it touches. When the block is not cached or its entry turns out unusable, the range comes from below if
   * the level below serves ranges (a miss: the block is offered for admission and, if admitted, loaded whole
   * behind the reader), else -1 (the caller then uses {@link #get}, which counts the miss).
   */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    long start = System.nanoTime();
    int n = readCachedRange(id, offset, dst, dstOffset, length, start);
    if (n >= 0) {
      return n;
    }
    n = delegate.readRange(id, offset, dst, dstOffset, length);
    if (n >= 0) {
      metrics.miss(start);
      admitLater(id);
    }
    return n;
  }

  private int readCachedRange(BlockId id, int offset, byte[] dst, int dstOffset, int length, long start) {
    Entry e = index.getIfPresent(id);
    if (e == null) {
      return -1;
    }
    Path p = pathOf(id);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      Table t = table(id, e, ch);
      if (t == null) {
        return -1;
      }
      int n = Math.max(0, Math.min(length, t.length() - offset));
      if (n == 0) {
        metrics.hit(start, 0);
        return 0;
      }
      int first = offset / CHUNK;
      int last = (offset + n - 1) / CHUNK;
      int spanStart = first * CHUNK;
      int span = Math.min(t.length(), (last + 1) * CHUNK) - spanStart;
      ByteBuffer buf = ReadBuffer.get(span).limit(span);
      readFully(ch, buf, t.dataOffset() + spanStart);
      buf.flip();
      CRC32C c = new CRC32C();
      for (int k = first; k <= last; k++) {
        int from = (k - first) * CHUNK;
        int len = Math.min(CHUNK, span - from);
        c.reset();
        c.update(buf.slice(from, len));
        if ((int) c.getValue() != t.crcs()[k]) {
          corrupt(id, e, "checksum mismatch in chunk " + k);
          return -1;
        }
      }
      buf.get(offset - spanStart, dst, dstOffset, n);
      metrics.hit(start, n);
      return n;
    } catch (NoSuchFileException ex) {
      lost(id, e);
      return -1;
    } catch (IOException ex) {
      corrupt(id, e, ex.toString());
      return -1;
    }
  }

  @Override
  public void delete(BlockId id) throws IOException {
    index.invalidate(id);
    delegate.delete(id);
  }

  /** Stops the writer (queued admissions are finished), logs the summary; the files stay for next time. */
  @Override
  public void close() throws IOException {
    if (closed) {
      delegate.close();
      return;
    }
    closed = true;
    writer.shutdown();
    try {
      if (!writer.awaitTermination(30, TimeUnit.SECONDS)) {
        log.warn("disk cache writer still busy at close dir={}", root);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    metrics.close();
    try {
      lock.release();
    } catch (IOException e) {
      log.debug("cache lock release failed dir={} error=\"{}\"", root, e.getMessage());
    } finally {
      lockChannel.close();
      delegate.close();
    }
  }

  // ---- for tests and diagnostics --------------------------------------------------------------------

  /** Bytes the index accounts for (entries on disk, rounded up to 4 KiB each). */
  public long sizeBytes() {
    return index.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L);
  }

  /** The configured bound. */
  public long capacity() {
    return capacity;
  }

  /** True if the block is in the index (its file may still turn out damaged). */
  public boolean holds(BlockId id) {
    return index.policy().getIfPresentQuietly(id) != null;
  }

  /** Waits until every admission and deletion queued so far has run. */
  void awaitWriter() throws IOException {
    try {
      writer.submit(() -> { }).get(60, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IOException("disk cache writer did not drain", e);
    }
  }

  Path pathOf(BlockId id) {
    String hex = id.toHex();
    return root.resolve(hex.substring(0, 2)).resolve(hex);
  }

  // ---- reading --------------------------------------------------------------------------------------

  /** The verified bytes of {@code e}'s file, or null (the entry is then dropped) when it is not usable. */
  private byte[] read(BlockId id, Entry e) {
    Path p = pathOf(id);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      Table t = table(id, e, ch);
      if (t == null) {
        return null;
      }
      byte[] data = new byte[t.length()];
      readFully(ch, ByteBuffer.wrap(data), t.dataOffset());
      int bad = Arrays.mismatch(chunkCrcs(data), t.crcs());
      return bad < 0 ? data : corrupt(id, e, "checksum mismatch in chunk " + bad);
    } catch (NoSuchFileException ex) {
      lost(id, e);
      return null;
    } catch (IOException ex) {
      return corrupt(id, e, ex.toString());
    }
  }

  /**
   * The entry's table: kept from an earlier read, else read from the header and verified (magic, version,
   * id, the table's checksum, the file size). Null when the entry is unusable; it is then dropped.
   */
  private Table table(BlockId id, Entry e, FileChannel ch) throws IOException {
    Table known = e.table;
    long size = ch.size();
    if (known != null) {
      return size == known.fileSize() ? known : corrupt(id, e, "size changed");
    }
    if (size < HEADER) {
      return corrupt(id, e, "shorter than its header");
    }
    // At most ceil((size - HEADER) / CHUNK) chunks: read the header and that much table in one go.
    long maxTable = 4L * ((size - HEADER + CHUNK - 1) / CHUNK);
    ByteBuffer h = ByteBuffer.allocate((int) Math.min(size, HEADER + maxTable));
    readFully(ch, h, 0);
    h.flip();
    int magic = h.getInt();
    int version = h.getInt();
    if (magic == MAGIC && version != VERSION) {
      log.debug("disk cache entry of another format dropped block={} version={}", id, version);
      index.asMap().remove(id, e);
      return null;
    }
    byte[] idBytes = new byte[BlockId.LENGTH];
    h.get(idBytes);
    int length = h.getInt();
    int headerCrc = h.getInt();
    if (magic != MAGIC || !Arrays.equals(idBytes, id.toBytes()) || length < 0) {
      return corrupt(id, e, "bad header");
    }
    int[] crcs = new int[chunks(length)];
    Table t = new Table(length, crcs);
    if (t.fileSize() != size || HEADER + 4L * crcs.length > h.limit()) {
      return corrupt(id, e, "length does not match the file size");
    }
    for (int k = 0; k < crcs.length; k++) {
      crcs[k] = h.getInt();
    }
    if (headerCrc(id, length, crcs) != headerCrc) {
      return corrupt(id, e, "header checksum mismatch");
    }
    e.table = t;
    return t;
  }

  /** The entry file vanished: a miss; if the whole directory went, forget everything. */
  private void lost(BlockId id, Entry e) {
    index.asMap().remove(id, e);
    if (!Files.isRegularFile(root.resolve(MARKER))) {
      directoryLost();
    }
  }

  private static int chunks(int length) {
    return (int) ((length + (long) CHUNK - 1) / CHUNK);
  }

  /** CRC32C over the header's fixed fields (magic, version, id, length) and the chunk table. */
  private static int headerCrc(BlockId id, int length, int[] crcs) {
    ByteBuffer b = ByteBuffer.allocate(44 + 4 * crcs.length);
    b.putInt(MAGIC).putInt(VERSION).put(id.toBytes()).putInt(length);
    for (int crc : crcs) {
      b.putInt(crc);
    }
    CRC32C c = new CRC32C();
    c.update(b.array(), 0, b.position());
    return (int) c.getValue();
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, pos);
      if (n < 0) {
        throw new java.io.EOFException("cache entry shorter than its header says");
      }
      pos += n;
    }
  }

  private <T> T corrupt(BlockId id, Entry e, String why) {
    metrics.corrupt.increment();
    log.warn("disk cache entry dropped block={} dir={} reason=\"{}\"", id, root, why);
    index.asMap().remove(id, e);
    return null;
  }

  /** The directory (or its marker) vanished under us: forget everything; the next write recreates it. */
  private void directoryLost() {
    log.warn("disk cache directory lost, recreating dir={} entries_dropped={}", root, index.estimatedSize());
    index.invalidateAll();
    runOnWriter(() -> {
      try {
        ensureMarker();
      } catch (IOException ex) {
        log.warn("cannot recreate disk cache dir={} error=\"{}\"", root, ex.getMessage());
      }
    });
  }

  // ---- admission and writing ----------------------------------------------------------------------

  /** A block just read from below: queue it for writing if the policy admits it and there is room. */
  private void offer(BlockId id, byte[] data) {
    if (closed || holds(id) || queued.contains(id)) {
      return;
    }
    if (!admission.admit(id)) {
      metrics.rejections.increment();
      return;
    }
    int weight = weight(data.length);
    if (weight > capacity) {
      metrics.rejections.increment(); // larger than the whole cache
      return;
    }
    long before = pendingBytes.getAndAdd(weight);
    if (before > 0 && before + weight > pendingLimit) { // one block may always be in flight
      pendingBytes.addAndGet(-weight);
      metrics.rejections.increment();
      return;
    }
    if (!queued.add(id)) {
      pendingBytes.addAndGet(-weight);
      return;
    }
    boolean ran = runOnWriter(() -> {
      try {
        write(id, data, weight);
      } finally {
        queued.remove(id);
        pendingBytes.addAndGet(-weight);
      }
    });
    if (!ran) {
      queued.remove(id);
      pendingBytes.addAndGet(-weight);
    }
  }

  /**
   * A range of {@code id} was served from below: if the policy admits the block and fewer than
   * {@value #MAX_LOADS} loads wait, the writer reads it whole from below and writes its entry. A failed load
   * is dropped (the reader has its bytes; a later miss tries again).
   */
  private void admitLater(BlockId id) {
    if (closed || holds(id) || queued.contains(id)) {
      return;
    }
    if (!admission.admit(id)) {
      metrics.rejections.increment();
      return;
    }
    if (pendingLoads.incrementAndGet() > MAX_LOADS) {
      pendingLoads.decrementAndGet();
      metrics.rejections.increment();
      return;
    }
    if (!queued.add(id)) {
      pendingLoads.decrementAndGet();
      return;
    }
    boolean ran = runOnWriter(() -> {
      try {
        if (!holds(id)) { // also while closing: the writer drains before the store below is closed
          byte[] data = delegate.get(id, true);
          int weight = weight(data.length);
          if (weight > capacity) {
            metrics.rejections.increment();
          } else {
            write(id, data, weight);
          }
        }
      } catch (IOException | RuntimeException e) {
        log.debug("disk cache load for admission failed block={} error=\"{}\"", id, e.toString());
      } finally {
        queued.remove(id);
        pendingLoads.decrementAndGet();
      }
    });
    if (!ran) {
      queued.remove(id);
      pendingLoads.decrementAndGet();
    }
  }

  private boolean runOnWriter(Runnable task) {
    try {
      writer.execute(task);
      return true;
    } catch (RejectedExecutionException e) {
      return false; // closing
    }
  }

  /** On the writer thread: the entry file, then the index (so an indexed name always has its file). */
  private void write(BlockId id, byte[] data, int weight) {
    if (holds(id)) {
      return;
    }
    makeRoom(weight);
    Path p = pathOf(id);
    Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
    for (int attempt = 0; ; attempt++) {
      try {
        Table t = writeEntry(tmp, id, data);
        move(tmp, p);
        index.put(id, new Entry(weight, t));
        metrics.admissions.increment();
        return;
      } catch (IOException e) {
        deleteQuietly(tmp);
        if (attempt > 0) {
          warnRarely("disk cache write failed block={} dir={} error=\"{}\"", id, root, e.toString());
          return;
        }
        try {
          repairLayout(p.getParent()); // deleted or damaged under us: recreate and try once more
        } catch (IOException again) {
          warnRarely("cannot repair disk cache dir={} error=\"{}\"", root, again.toString(), "");
          return;
        }
      }
    }
  }

  /** On the writer thread: evicts the coldest entries (their files go at once) until {@code weight} fits. */
  private void makeRoom(int weight) {
    index.cleanUp();
    var eviction = index.policy().eviction().orElseThrow();
    while (sizeBytes() + weight > capacity) {
      var coldest = eviction.coldest(1).entrySet().iterator();
      if (!coldest.hasNext()) {
        return;
      }
      var victim = coldest.next();
      if (index.asMap().remove(victim.getKey(), victim.getValue())) {
        metrics.evictions.increment();
      }
      index.cleanUp();
    }
  }

  /** Recreates the directory, the marker and {@code shard}, removing whatever squats on the shard's name. */
  private void repairLayout(Path shard) throws IOException {
    ensureMarker();
    if (Files.exists(shard, java.nio.file.LinkOption.NOFOLLOW_LINKS)
        && !Files.isDirectory(shard, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      deleteTree(shard);
    }
    Files.createDirectories(shard);
  }

  /** A warning at most every 10 s: a full or failing cache disk must not flood the log. */
  private void warnRarely(String format, Object a, Object b, Object c) {
    long now = System.nanoTime();
    long last = lastWarn.get();
    if (now - last > 10_000_000_000L && lastWarn.compareAndSet(last, now)) {
      log.warn(format, a, b, c);
    }
  }

  /** The CRC32C of each {@link #CHUNK} of {@code data}. */
  private static int[] chunkCrcs(byte[] data) {
    int[] crcs = new int[chunks(data.length)];
    CRC32C c = new CRC32C();
    for (int k = 0; k < crcs.length; k++) {
      int from = k * CHUNK;
      c.reset();
      c.update(data, from, Math.min(CHUNK, data.length - from));
      crcs[k] = (int) c.getValue();
    }
    return crcs;
  }

  private static Table writeEntry(Path tmp, BlockId id, byte[] data) throws IOException {
    int[] crcs = chunkCrcs(data);
    ByteBuffer h = ByteBuffer.allocate(HEADER + 4 * crcs.length);
    h.putInt(MAGIC).putInt(VERSION).put(id.toBytes()).putInt(data.length).putInt(headerCrc(id, data.length, crcs));
    for (int crc : crcs) {
      h.putInt(crc);
    }
    h.flip();
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer[] parts = {h, ByteBuffer.wrap(data)};
      while (parts[1].hasRemaining()) {
        ch.write(parts);
      }
    }
    return new Table(data.length, crcs);
  }

  private static void move(Path from, Path to) throws IOException {
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * Caffeine's removal callback: count evictions and delete the file on the writer thread (at once when
   * the removal happens there, as in {@link #makeRoom}).
   */
  private void removed(BlockId id, Entry e, RemovalCause cause) {
    if (id == null) {
      return;
    }
    if (cause.wasEvicted()) {
      metrics.evictions.increment();
    }
    if (cause == RemovalCause.REPLACED) {
      return;
    }
    Runnable delete = () -> {
      if (!holds(id)) { // admitted again since: that file is the new entry's
        deleteQuietly(pathOf(id));
      }
    };
    if (Thread.currentThread() == writerThread) {
      delete.run();
    } else {
      runOnWriter(delete);
    }
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      log.debug("cannot delete cache file path={} error=\"{}\"", p, e.getMessage());
    }
  }

  private static int weight(int length) {
    return weightOfFile(HEADER + 4L * chunks(length) + length);
  }

  private static int weightOfFile(long size) {
    long w = (size + ALIGN - 1) / ALIGN * ALIGN;
    return (int) Math.min(Integer.MAX_VALUE, w);
  }

  private void ensureMarker() throws IOException {
    Files.createDirectories(root);
    Path m = root.resolve(MARKER);
    if (!Files.isRegularFile(m)) {
      Files.writeString(m, "DynamicFS block cache (L2); safe to delete while unmounted\n");
    }
  }

  // ---- rebuilding the index at open -------------------------------------------------------------------

  private record Found(BlockId id, long size, long mtime) {}

  /** Indexes every well-formed entry name; deletes temporaries and garbage in the shard directories. */
  private void rebuild() throws IOException {
    long t0 = System.nanoTime();
    List<Found> found = new ArrayList<>();
    int removed = 0;
    try (DirectoryStream<Path> shards = Files.newDirectoryStream(root)) {
      for (Path shard : shards) {
        String s = shard.getFileName().toString();
        if (!isHex(s, 2)) {
          continue; // the marker, the lock, anything that is not ours
        }
        if (!Files.isDirectory(shard, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
          removed += deleteTree(shard); // squats on a shard's name
          continue;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(shard)) {
          for (Path f : files) {
            String name = f.getFileName().toString();
            BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
            if (a.isRegularFile() && isHex(name, 64) && name.startsWith(s) && a.size() > HEADER) {
              found.add(new Found(BlockId.of(HEX.parseHex(name), 0), a.size(), a.lastModifiedTime().toMillis()));
            } else {
              removed += deleteTree(f);
            }
          }
        }
      }
    }
    found.sort(Comparator.comparingLong(Found::mtime));
    for (Found f : found) {
      if (f.size() - HEADER <= Integer.MAX_VALUE) {
        index.put(f.id(), new Entry(weightOfFile(f.size()), null));
      }
    }
    log.info("disk cache opened dir={} entries={} bytes={} capacity={} garbage_removed={} ms={}", root,
        index.estimatedSize(), sizeBytes(), capacity, removed, (System.nanoTime() - t0) / 1_000_000);
  }

  private static int deleteTree(Path p) {
    try {
      if (Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        try (var walk = Files.walk(p)) {
          for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(q);
          }
        }
      } else {
        Files.deleteIfExists(p);
      }
      return 1;
    } catch (IOException e) {
      log.warn("cannot remove stray cache file path={} error=\"{}\"", p, e.getMessage());
      return 0;
    }
  }

  private static boolean isHex(String s, int len) {
    if (s.length() != len) {
      return false;
    }
    for (int i = 0; i < len; i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }
}
