package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.intent.IntentLog;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetaOp.ChunkChange;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The content of one regular file while any handle has it open: committed block list (in metadata)
 * overlaid with blocks being stored ({@code pending}) and blocks being written ({@code dirty}).
 *
 * <p>Writes fill per-block buffers that grow with them up to a block (reading the old block first only
 * when a write covers part of it); a full buffer goes to the {@link BlockPipeline} at once, so a stream of
 * writes is hashed, compressed and appended in parallel. A commit takes a snapshot of the stored blocks, size and times under the lock,
 * then — without the lock — waits for the pipeline, makes the blocks durable and publishes them as one
 * {@link MetaOp.CommitBlocks}; meanwhile the snapshot's blocks stay visible to readers
 * ({@code committing}) and writers go on. Every {@value #COMMIT_EVERY_BLOCKS} blocks a commit starts in
 * the background, so a long write does not stall on fsync; flush, fsync and release commit
 * synchronously. Until a commit, readers of this file (all go through this object) see the new bytes;
 * after a crash they see the last commit. A background commit's error is reported by the next
 * flush/fsync, as a kernel reports a writeback error.
 *
 * <p>Locking: {@code lock} guards all mutable fields; {@code commitMutex} serialises commits and is
 * taken before {@code lock}. Lock order: commitMutex, lock, then the {@link MetaLog} monitor; never the
 * reverse. Block fetches for reads happen outside the lock (blocks are immutable); if one vanished
 * meanwhile (overwritten and freed), the read is retried under the lock.
 */
final class OpenFile {
  /**
   * Most blocks one file keeps being written in memory before the oldest goes to the pipeline. A database
   * writes pages all over its file: at 8, SQLite's one-transaction insert of 200,000 indexed rows into a
   * 30 MB file stored (and, with the intent log, first re-read) a whole block every few page writes, and
   * took 25 s; at 64 it took 2 s. Across files, {@link DirtyBudget} bounds the total.
   */
  private static final int MAX_DIRTY_BLOCKS = 64;
  /** What a file may always keep, whatever the other files hold. */
  private static final int MIN_DIRTY_BLOCKS = 8;

  /** The engine-wide count of blocks held dirty, which this file's {@link #reportDirty} keeps up to date. */
  interface DirtyBudget {
    void add(int blocks);

    boolean exceeded();
  }
  private static final int COMMIT_EVERY_BLOCKS = 64;
  /**
   * A block with this many intent-log overlays per MiB (at least 64) is stored whole at its next fsync (which
   * drops them all): more than one per 4 KiB page, so random page writes (one overlay per page, since a
   * newer overlay that covers an older one replaces it) never trigger it, but a pile of partial overlaps does.
   */
  private static final int MAX_OVERLAYS_PER_MIB = 1024;

  final long ino;
  private final int bs;
  /** {@link io.dynamicfs.core.api.FileSystem#maxFileSize}: a multiple of bs, so size + bs - 1 never overflows. */
  private final long maxSize;
  private final int inlineMax;
  private final MetadataStore meta;
  private final BlockStore store;
  private final MetaLog log;
  private final BlockPipeline pipeline;
  private final TimeSource clock;
  /** The write intent log, or null (a cluster mount, or switched off): fsync then commits whole blocks. */
  private final IntentLog intents;
  /**
   * Other clients change this file's metadata too (a cluster mount): while this file holds no change of its
   * own, each read takes size and times from the store first ({@link #adoptStored}).
   */
  private final boolean othersWrite;
  final ReentrantLock lock = new ReentrantLock();

  /** Handles open on this inode; guarded by the MetaLog monitor. */
  int opens;

  // ---- guarded by lock ----
  private long size;
  private long truncatedTo = -1;
  private long mtimeNs;
  private long ctimeNs;
  private boolean changed;
  private final TreeMap<Long, Dirty> dirty = new TreeMap<>();
  private final TreeMap<Long, CompletableFuture<ChunkChange>> pending = new TreeMap<>();
  /** Blocks of a commit being published: still what readers must see until metadata has them. */
  private final TreeMap<Long, CompletableFuture<ChunkChange>> committing = new TreeMap<>();
  private final List<CompletableFuture<ChunkChange>> superseded = new ArrayList<>();
  private CompletableFuture<Void> inflight;
  private IOException asyncFailure;
  /** A snapshot is being published: metadata does not have its size or truncation yet. */
  private boolean publishing;
  /** The truncation the publishing snapshot carries: chunks past it are holes until it applies. */
  private long publishingTruncatedTo = -1;
  /** Buffers whose changed ranges an fsync is logging: what readers see until metadata has the overlays. */
  private final TreeMap<Long, Dirty> logging = new TreeMap<>();
  /** Metadata may hold intent-log overlays of this file (false only when it had none at open and none since). */
  private boolean mayHaveOverlays;

  /** Serialises publishing commits of this file (held without {@code lock} while waiting on I/O). */
  private final ReentrantLock commitMutex = new ReentrantLock();
  private final java.util.concurrent.Executor commitExecutor;
  private final DirtyBudget budget;
  /** This file's dirty blocks as last added to {@link #budget}. */
  // @GuardedBy("lock")
  private int reportedDirty;

  /**
   * A block's bytes being written: {@code buf[0, len)}, zeros beyond. The buffer grows with the writes
   * (64 KiB granules, up to a block), so a small file does not allocate and zero a whole block.
   */
  private static final class Dirty {
    static final int GRANULE = 64 << 10;
    /** More ranges than this are logged as the one span around them. */
    static final int MAX_RANGES = 16;
    byte[] buf;
    int len;
    /** The buffer does not start from the block's current content plus changes: never logged as ranges. */
    boolean whole;
    /**
     * Only the {@code ranges} of the buffer are meaningful: the block's other bytes were never read (a small
     * write over stored content, kept so for the intent log). Reads lay the ranges over the block; a
     * whole-block store first fills the rest in ({@link OpenFile#materialize}).
     */
    boolean sparse;
    /** Byte ranges written since the buffer was made from the block's content: start → end, disjoint. */
    final TreeMap<Integer, Integer> ranges = new TreeMap<>();

    Dirty(byte[] buf, int len) {
      this.buf = buf;
      this.len = len;
    }

    /** Room for bytes up to {@code end} (at most {@code blockSize}), new room zeroed. */
    void ensure(int end, int blockSize) {
      if (end > buf.length) {
        buf = Arrays.copyOf(buf, capacity(Math.max(end, 2 * buf.length), blockSize));
      }
    }

    /** Records that {@code [from, to)} changed, merging it with the ranges it touches. */
    void mark(int from, int to) {
      Map.Entry<Integer, Integer> before = ranges.floorEntry(from);
      if (before != null && before.getValue() >= from) {
        from = before.getKey();
        to = Math.max(to, before.getValue());
      }
      Map.Entry<Integer, Integer> next = ranges.ceilingEntry(from);
      while (next != null && next.getKey() <= to) {
        to = Math.max(to, next.getValue());
        ranges.remove(next.getKey());
        next = ranges.ceilingEntry(from);
      }
      ranges.put(from, to);
    }

    /** True when the ranges cover the whole block: nothing of the old content is left. */
    boolean coversBlock(int blockSize) {
      Map.Entry<Integer, Integer> e = ranges.firstEntry();
      return e != null && e.getKey() == 0 && e.getValue() >= blockSize;
    }

    /** Copies the ranges over {@code base} (which grows to the last range's end); returns it. */
    byte[] overlay(byte[] base) {
      byte[] out = base;
      Map.Entry<Integer, Integer> last = ranges.lastEntry();
      if (last != null && last.getValue() > out.length) {
        out = Arrays.copyOf(out, last.getValue());
      }
      for (var e : ranges.entrySet()) {
        System.arraycopy(buf, e.getKey(), out, e.getKey(), e.getValue() - e.getKey());
      }
      return out;
    }

    /** The changed spans as {@code [from, to)} pairs, or null when they hold more than {@code limit} bytes. */
    List<int[]> spans(int limit) {
      List<int[]> out = new ArrayList<>();
      long bytes = 0;
      for (var e : ranges.entrySet()) {
        out.add(new int[] {e.getKey(), e.getValue()});
        bytes += e.getValue() - e.getKey();
      }
      if (out.size() > MAX_RANGES) {
        int[] span = {out.get(0)[0], out.get(out.size() - 1)[1]};
        out = List.of(span);
        bytes = span[1] - span[0];
      }
      return out.isEmpty() || bytes > limit ? null : out;
    }

    static int capacity(int end, int blockSize) {
      long rounded = ((long) end + GRANULE - 1) / GRANULE * GRANULE;
      return (int) Math.min(blockSize, Math.max(GRANULE, rounded));
    }
  }

  OpenFile(Inode inode, int blockSize, int inlineMax, MetadataStore meta, BlockStore store, MetaLog log,
      BlockPipeline pipeline, TimeSource clock, java.util.concurrent.Executor commitExecutor, IntentLog intents,
      DirtyBudget budget, boolean othersWrite) throws FsException {
    this.budget = budget;
    this.othersWrite = othersWrite;
    this.commitExecutor = commitExecutor;
    this.intents = intents;
    this.mayHaveOverlays = intents != null && !meta.overlays(inode.ino(), 0, Long.MAX_VALUE).isEmpty();
    this.ino = inode.ino();
    this.bs = blockSize;
    this.maxSize = io.dynamicfs.core.api.FileSystem.maxFileSize(blockSize);
    this.inlineMax = inlineMax;
    this.meta = meta;
    this.store = store;
    this.log = log;
    this.pipeline = pipeline;
    this.clock = clock;
    this.size = inode.size();
    this.mtimeNs = inode.mtimeNs();
    this.ctimeNs = inode.ctimeNs();
  }

  /**
   * Takes size and times from the store's record when this file holds no change of its own (nothing dirty,
   * pending, committing or being logged, no truncation or snapshot being published): the record is then the
   * truth, and on a cluster mount it may be newer than what this file was opened with (another mount's
   * change, brought here by the open barrier). So a new open reads what was closed elsewhere before it, even
   * while an older handle of the file is still open on this mount. Called without the MetaLog monitor: a
   * reservation holds this file's lock while it submits.
   */
  void adoptStored() {
    lock.lock();
    try {
      adoptStoredLocked();
    } finally {
      lock.unlock();
    }
  }

  // @GuardedBy("lock")
  private void adoptStoredLocked() {
    try {
      if (changed || publishing || truncatedTo >= 0 || publishingTruncatedTo >= 0 || !dirty.isEmpty()
          || !pending.isEmpty() || !committing.isEmpty() || !logging.isEmpty()) {
        return;
      }
      Inode now = meta.inode(ino);
      if (now != null) {
        size = now.size();
        mtimeNs = now.mtimeNs();
        ctimeNs = now.ctimeNs();
      }
    } catch (FsException e) {
      // the store failed to read: keep this view; the read that follows meets the same store
    }
  }

  /** Size and times as readers must see them now: {@code [size, mtime, ctime]}, or null if unchanged. */
  long[] liveAttrs() {
    lock.lock();
    try {
      return changed || publishing ? new long[] {size, mtimeNs, ctimeNs} : null;
    } finally {
      lock.unlock();
    }
  }

  long size() {
    lock.lock();
    try {
      return size;
    } finally {
      lock.unlock();
    }
  }

  // ---- writing --------------------------------------------------------------------------------

  /** Writes at {@code offset}, or at the end when {@code append}; returns the count. */
  int write(long offset, byte[] src, int srcOff, int len, boolean append) throws IOException {
    if (len <= 0) {
      return 0;
    }
    lock.lock();
    try {
      long pos = append ? size : offset;
      if (pos < 0) {
        throw FsException.of(Errno.EINVAL, "negative offset %d", pos);
      }
      if (pos >= maxSize) {
        throw FsException.of(Errno.EFBIG, "write at %d: files end at %d bytes", pos, maxSize);
      }
      len = (int) Math.min(len, maxSize - pos); // a write crossing the limit stores what fits (as ext4)
      int done = 0;
      while (done < len) {
        long idx = (pos + done) / bs;
        int in = (int) ((pos + done) % bs);
        int n = Math.min(len - done, bs - in);
        Dirty d = dirty.get(idx);
        if (d == null) {
          d = newDirty(idx, in, n, intents != null);
          dirty.put(idx, d);
        }
        d.ensure(in + n, bs);
        System.arraycopy(src, srcOff + done, d.buf, in, n);
        d.len = Math.max(d.len, in + n);
        d.mark(in, in + n);
        done += n;
        if (d.sparse && d.coversBlock(bs)) {
          d.sparse = false; // every byte written: nothing to fill in
        }
        if (in + n == bs && !d.sparse) {
          submit(idx, dirty.remove(idx));
        }
      }
      size = Math.max(size, pos + len);
      touch();
      reportDirty();
      while (dirty.size() > MAX_DIRTY_BLOCKS || (dirty.size() > MIN_DIRTY_BLOCKS && budget.exceeded())) {
        Map.Entry<Long, Dirty> e = dirty.pollFirstEntry();
        submit(e.getKey(), e.getValue());
        reportDirty();
      }
      if (pending.size() >= COMMIT_EVERY_BLOCKS) {
        backgroundCommit();
      }
    } finally {
      lock.unlock();
    }
    awaitBackPressure();
    return len;
  }

  /** Brings {@link #budget} up to date with this file's dirty blocks. */
  // @GuardedBy("lock")
  private void reportDirty() {
    int now = dirty.size();
    if (now != reportedDirty) {
      budget.add(now - reportedDirty);
      reportedDirty = now;
    }
  }

  /** Takes this file's dirty blocks out of {@link #budget} (its last user is gone). */
  void leaveBudget() {
    lock.lock();
    try {
      budget.add(-reportedDirty);
      reportedDirty = 0;
    } finally {
      lock.unlock();
    }
  }

  /** Starts a commit on the commit executor unless one is running. */
  // @GuardedBy("lock")
  private void backgroundCommit() {
    if (inflight != null && !inflight.isDone()) {
      return;
    }
    inflight = CompletableFuture.runAsync(() -> {
      try {
        commit(false, null);
      } catch (IOException | RuntimeException e) {
        lock.lock();
        try {
          asyncFailure = asyncFailure == null ? (e instanceof IOException io ? io : new IOException(e))
              : asyncFailure;
        } finally {
          lock.unlock();
        }
      }
    }, commitExecutor);
  }

  /** A writer far ahead of its background commit waits for it (bounded memory for pending blocks). */
  private void awaitBackPressure() {
    CompletableFuture<Void> f;
    lock.lock();
    try {
      f = pending.size() >= 4 * COMMIT_EVERY_BLOCKS ? inflight : null;
    } finally {
      lock.unlock();
    }
    if (f != null) {
      f.join();
    }
  }

  /** Sets the size (truncate or extend with a hole). */
  void truncate(long newSize) throws IOException {
    if (newSize < 0) {
      throw FsException.of(Errno.EINVAL, "negative size %d", newSize);
    }
    if (newSize > maxSize) {
      throw FsException.of(Errno.EFBIG, "size %d: files end at %d bytes", newSize, maxSize);
    }
    lock.lock();
    try {
      if (newSize < size) {
        long keep = (newSize + bs - 1) / bs;
        dirty.tailMap(keep, true).clear();
        for (var f : pending.tailMap(keep, true).values()) {
          superseded.add(f);
        }
        pending.tailMap(keep, true).clear();
        int tail = (int) (newSize % bs);
        if (tail != 0) {
          long idx = newSize / bs;
          Dirty d = dirty.get(idx);
          if (d == null) {
            d = newDirty(idx, 0, 0, false);
            dirty.put(idx, d);
          } else if (d.sparse) {
            materialize(idx, d);
          }
          Arrays.fill(d.buf, Math.min(tail, d.buf.length), d.buf.length, (byte) 0);
          d.len = Math.min(d.len, tail);
          d.whole = true;
        }
      }
      if (newSize <= size) {
        // Also to the same size, as ext4: the commit then releases reservations past the end of file.
        truncatedTo = truncatedTo < 0 ? newSize : Math.min(truncatedTo, newSize);
      }
      size = newSize;
      touch();
    } finally {
      lock.unlock();
    }
  }

  /**
   * fallocate: publishes what was written, then reserves {@code [offset, offset + length)} in one
   * {@link MetaOp.Reserve} with no truncate of this file waiting to be published (its commit would release
   * the new reservation), and takes the new size and times as its own.
   */
  void reserve(long offset, long length, boolean keepSize, long availableBytes, MetaOp.SetAttrs attrs)
      throws IOException {
    commitMutex.lock();
    try {
      while (true) {
        commit(true, null);
        lock.lock();
        if (truncatedTo < 0) {
          break; // keep the lock: no truncate can slip in before the reservation
        }
        lock.unlock();
      }
      try {
        long now = clock.nowNanos();
        log.submit(new MetaOp.Reserve(ino, offset, length, keepSize, availableBytes, attrs, now));
        if (!keepSize && offset + length > size) {
          size = offset + length;
          mtimeNs = now;
        }
        ctimeNs = now;
      } finally {
        lock.unlock();
      }
    } finally {
      commitMutex.unlock();
    }
  }

  /**
   * copy_file_range's shared blocks: publishes what was written to this (destination) file, then, with no
   * write, truncate or commit of it able to slip in, applies {@link MetaOp.CloneBlocks} (blocks
   * {@code [srcIndex, srcIndex + count)} of {@code srcIno} become this file's blocks from {@code dstIndex})
   * and takes the size and times metadata then has as its own. Nothing of those blocks is left in this
   * object's buffers, so no later commit can overwrite the shared blocks with older bytes.
   */
  void cloneFrom(long srcIno, long srcIndex, long dstIndex, long count, long minSize) throws IOException {
    commitMutex.lock();
    try {
      while (true) {
        commit(true, null);
        lock.lock();
        if (truncatedTo < 0 && dirty.isEmpty() && pending.isEmpty() && !changed) {
          break; // keep the lock: nothing of this file is waiting to be published
        }
        lock.unlock();
      }
      try {
        log.submit(new MetaOp.CloneBlocks(srcIno, srcIndex, ino, dstIndex, count, minSize, clock.nowNanos()));
        Inode now = meta.requireInode(ino);
        size = now.size();
        mtimeNs = now.mtimeNs();
        ctimeNs = now.ctimeNs();
      } finally {
        lock.unlock();
      }
    } finally {
      commitMutex.unlock();
    }
  }

  /**
   * Where the next data ({@code hole} false) or hole ({@code hole} true) at or after {@code offset} starts,
   * from the committed block list (call after a commit): a missing block is a hole, the end of file is a
   * hole; ENXIO at or past the end of file, and for data when only holes follow.
   */
  long seek(long offset, boolean hole) throws IOException {
    long end;
    lock.lock();
    try {
      end = size;
    } finally {
      lock.unlock();
    }
    if (offset < 0) {
      throw FsException.of(Errno.EINVAL, "negative offset %d", offset);
    }
    if (offset >= end) {
      throw FsException.of(Errno.ENXIO, "offset %d is at or past the end of file (%d)", offset, end);
    }
    long idx = offset / bs;
    long lastIdx = (end - 1) / bs;
    long expected = idx;
    for (io.dynamicfs.core.meta.Chunk c : meta.chunks(ino, idx, lastIdx + 1)) {
      if (hole) {
        if (c.index() != expected) {
          return Math.max(offset, expected * bs); // a missing block before this chunk
        }
        expected++;
      } else {
        return Math.max(offset, c.index() * bs);
      }
    }
    if (hole) {
      return Math.min(end, Math.max(offset, expected * bs));
    }
    throw FsException.of(Errno.ENXIO, "no data at or after offset %d", offset);
  }

  private void touch() {
    long now = clock.nowNanos();
    mtimeNs = now;
    ctimeNs = now;
    changed = true;
  }

  /**
   * A buffer for block {@code idx}, holding its current bytes unless the write replaces all of them; with
   * {@code allowSparse}, a write over part of stored content does not read the block at all (a sparse
   * buffer: the intent log takes just the written ranges, and reads lay them over the block).
   */
  private Dirty newDirty(long idx, int writeOff, int writeLen, boolean allowSparse) throws IOException {
    long start = idx * bs;
    long existing = Math.min(bs, size - start);
    boolean covers = writeOff == 0 && writeLen >= existing;
    if (covers || existing <= 0) {
      Dirty d = new Dirty(new byte[Dirty.capacity(writeOff + writeLen, bs)], 0);
      d.whole = covers && existing > 0; // past the end the block is zeros (a hole): ranges over it are exact
      return d;
    }
    if (allowSparse && size > inlineMax) {
      Dirty d = new Dirty(new byte[Dirty.capacity(writeOff + writeLen, bs)], 0);
      d.sparse = true;
      return d;
    }
    byte[] old = blockContent(idx);
    int n = (int) Math.min(old.length, existing);
    byte[] buf = new byte[Dirty.capacity(Math.max(n, writeOff + writeLen), bs)];
    System.arraycopy(old, 0, buf, 0, n);
    return new Dirty(buf, n);
  }

  /** Fills a sparse buffer in: the block's current content (to the end of file) with its ranges over it. */
  // @GuardedBy("lock")
  private void materialize(long idx, Dirty d) throws IOException {
    byte[] old = blockContent(idx);
    long existing = Math.max(0, Math.min(bs, size - idx * bs));
    byte[] content = d.overlay(Arrays.copyOf(old, (int) Math.min(old.length, existing)));
    d.buf = Arrays.copyOf(content, Dirty.capacity(content.length, bs));
    d.len = content.length;
    d.sparse = false;
  }

  private void submit(long idx, Dirty d) throws IOException {
    if (d.sparse) {
      materialize(idx, d);
    }
    CompletableFuture<ChunkChange> f = pipeline.submit(idx, d.buf, d.len);
    CompletableFuture<ChunkChange> old = pending.put(idx, f);
    if (old != null) {
      superseded.add(old);
    }
  }

  // ---- reading --------------------------------------------------------------------------------

  /** Reads into {@code dst}; returns the count (0 at or past the end). */
  int read(long offset, byte[] dst, int dstOff, int len) throws IOException {
    List<Fetch> fetches = new ArrayList<>();
    List<Patch> patches = new ArrayList<>();
    int total;
    lock.lock();
    try {
      if (othersWrite) {
        // Another mount may have changed the file since this view was taken, and the kernel may have its new
        // size already (a getattr). A read answered short of that size from the older view would not be
        // clipped when the kernel's attributes moved meanwhile: it zero-fills the rest and caches the zeros.
        adoptStoredLocked();
      }
      total = plan(offset, dst, dstOff, len, fetches, patches);
    } finally {
      lock.unlock();
    }
    if (fetches.isEmpty() && patches.isEmpty()) {
      return total;
    }
    try {
      for (Fetch f : fetches) {
        fetch(f, dst);
      }
      for (Patch p : patches) {
        p.apply(dst);
      }
      return total;
    } catch (FsException e) {
      // A block (or intent log file) captured outside the lock may have been replaced and freed since (an
      // overwrite, a fold): retry under it.
      lock.lock();
      try {
        fetches.clear();
        patches.clear();
        total = plan(offset, dst, dstOff, len, fetches, patches);
        for (Fetch f : fetches) {
          fetch(f, dst);
        }
        for (Patch p : patches) {
          p.apply(dst);
        }
        return total;
      } finally {
        lock.unlock();
      }
    }
  }

  /** Bytes laid over a read's base bytes after they are fetched, in order: overlays, then sparse buffers. */
  private interface Patch {
    void apply(byte[] dst) throws FsException;
  }

  /** Bytes {@code [lo, hi)} of a block, copied from a sparse buffer under the lock, to land at {@code dst[at..]}. */
  private record BytesPatch(byte[] bytes, int at) implements Patch {
    @Override
    public void apply(byte[] dst) {
      System.arraycopy(bytes, 0, dst, at, bytes.length);
    }
  }

  /** The parts of a sparse buffer's ranges inside block bytes {@code [from, from + n)}, as patches for dst[at..]. */
  private static void rangePatches(Dirty d, int from, int n, int at, List<Patch> patches) {
    for (var e : d.ranges.entrySet()) {
      int lo = Math.max(from, e.getKey());
      int hi = Math.min(from + n, e.getValue());
      if (lo < hi) {
        patches.add(new BytesPatch(Arrays.copyOfRange(d.buf, lo, hi), at + (lo - from)));
      }
    }
  }

  /**
   * One intent-log overlay to copy over a read's bytes: the part of {@code o} inside block bytes
   * {@code [from, from + n)}, which land at {@code dst[at..]}. Applied after the base bytes, in log order.
   */
  private final class OverlayPatch implements Patch {
    final MetaOp.Overlay o;
    final int from;
    final int n;
    final int at;

    OverlayPatch(MetaOp.Overlay o, int from, int n, int at) {
      this.o = o;
      this.from = from;
      this.n = n;
      this.at = at;
    }

    @Override
    public void apply(byte[] dst) throws FsException {
      int lo = Math.max(from, o.offset());
      int hi = Math.min(from + n, o.offset() + o.length());
      if (lo >= hi) {
        return;
      }
      byte[] bytes = intents.read(o.logFile(), o.logPos(), ino, o.index() * bs + o.offset(), o.length(), o.crc());
      System.arraycopy(bytes, lo - o.offset(), dst, at + (lo - from), hi - lo);
    }
  }

  /**
   * Per-handle sequential-read detection: a read that starts where the previous one ended is
   * sequential, and then the next {@link #WINDOW} blocks are announced to the store as prefetch hints
   * (a cache loads them in the background). Random reads announce nothing.
   */
  static final class ReadAhead {
    static final int WINDOW = 8;
    long nextOffset = -1;
    long prefetchedUpTo = -1;
  }

  /** After a read of [offset, offset+len): hints the blocks ahead if the handle reads sequentially. */
  void readAhead(ReadAhead ra, long offset, int len) throws IOException {
    long from;
    long to;
    synchronized (ra) {
      // The kernel's own read-ahead sends several reads at once, so they may arrive slightly out of
      // order: "sequential" means close to where the stream had got to.
      boolean sequential = offset == 0 || Math.abs(offset - ra.nextOffset) <= bs;
      ra.nextOffset = Math.max(ra.nextOffset, offset + len);
      if (!sequential || len <= 0) {
        return;
      }
      long last = (offset + len - 1) / bs;
      from = Math.max(last + 1, ra.prefetchedUpTo + 1);
      to = last + ReadAhead.WINDOW;
      ra.prefetchedUpTo = Math.max(ra.prefetchedUpTo, to);
    }
    List<BlockId> hints = new ArrayList<>();
    lock.lock();
    try {
      for (long idx = from; idx <= to && idx * bs < size; idx++) {
        if (!dirty.containsKey(idx) && !logging.containsKey(idx) && !pending.containsKey(idx)
            && !committing.containsKey(idx)) {
          Source s = source(idx);
          if (s.id != null) {
            hints.add(s.id);
          }
        }
      }
    } finally {
      lock.unlock();
    }
    for (BlockId id : hints) {
      store.prefetch(id);
    }
  }

  /** Copies one fetch's bytes: just the range when a cache can serve it so, else from the whole block. */
  private void fetch(Fetch f, byte[] dst) throws IOException {
    int got = store.readRange(f.id, f.from, dst, f.at, f.n);
    if (got < 0) {
      f.copy(store.get(f.id), dst);
    } else if (got < f.n) {
      Arrays.fill(dst, f.at + got, f.at + f.n, (byte) 0);
    }
  }

  /** One block to copy from the store: bytes [from, from+n) of block {@code id} to dst[at..]. */
  private record Fetch(BlockId id, int from, int n, int at) {
    void copy(byte[] block, byte[] dst) {
      int avail = Math.max(0, Math.min(n, block.length - from));
      if (avail > 0) {
        System.arraycopy(block, from, dst, at, avail);
      }
      if (avail < n) {
        Arrays.fill(dst, at + avail, at + n, (byte) 0);
      }
    }
  }

  // @GuardedBy("lock")
  private int plan(long offset, byte[] dst, int dstOff, int len, List<Fetch> fetches, List<Patch> patches)
      throws IOException {
    if (offset >= size || len <= 0) {
      return 0;
    }
    int total = (int) Math.min(len, size - offset);
    int done = 0;
    while (done < total) {
      long idx = (offset + done) / bs;
      int in = (int) ((offset + done) % bs);
      int n = Math.min(total - done, bs - in);
      int at = dstOff + done;
      // Layers, oldest first: the block with its overlays, a buffer being logged, the dirty buffer. A full
      // buffer holds every layer under it; a sparse one only its ranges.
      Dirty d = dirty.get(idx);
      Dirty lg = logging.get(idx);
      if (d != null && !d.sparse) {
        copyWithZeros(d.buf, d.len, in, n, dst, at);
      } else {
        if (lg != null && !lg.sparse) {
          copyWithZeros(lg.buf, lg.len, in, n, dst, at);
        } else {
          Source s = source(idx);
          if (s.inline != null) {
            copyWithZeros(s.inline, s.inline.length, in, n, dst, at);
          } else if (s.id != null) {
            fetches.add(new Fetch(s.id, in, n, at));
          } else {
            Arrays.fill(dst, at, at + n, (byte) 0);
          }
          for (MetaOp.Overlay o : s.overlays) {
            if (o.offset() < in + n && o.offset() + o.length() > in) {
              patches.add(new OverlayPatch(o, in, n, at));
            }
          }
          if (lg != null) {
            rangePatches(lg, in, n, at, patches);
          }
        }
        if (d != null) {
          rangePatches(d, in, n, at, patches);
        }
      }
      done += n;
    }
    return total;
  }

  private static void copyWithZeros(byte[] src, int srcLen, int from, int n, byte[] dst, int at) {
    int avail = Math.max(0, Math.min(n, srcLen - from));
    if (avail > 0) {
      System.arraycopy(src, from, dst, at, avail);
    }
    if (avail < n) {
      Arrays.fill(dst, at + avail, at + n, (byte) 0);
    }
  }

  /**
   * Where block {@code idx} lives now (not counting dirty buffers): a stored block, inline bytes, or a hole,
   * with the intent-log overlays metadata lays over it (in log order; only over what metadata holds, since
   * a block being stored or committed already has them folded in).
   */
  private record Source(BlockId id, byte[] inline, List<MetaOp.Overlay> overlays) {
    Source(BlockId id, byte[] inline) {
      this(id, inline, List.of());
    }
  }

  // @GuardedBy("lock")
  private Source source(long idx) throws IOException {
    CompletableFuture<ChunkChange> f = pending.get(idx);
    if (f != null) {
      ChunkChange c = await(f);
      return new Source(c.id(), c.inline());
    }
    if (truncatedTo >= 0 && idx >= (truncatedTo + bs - 1) / bs) {
      return new Source(null, null);
    }
    CompletableFuture<ChunkChange> inCommit = committing.get(idx);
    if (inCommit != null) {
      ChunkChange c = await(inCommit);
      return new Source(c.id(), c.inline());
    }
    if (publishingTruncatedTo >= 0 && idx >= (publishingTruncatedTo + bs - 1) / bs) {
      return new Source(null, null);
    }
    Chunk c = meta.chunk(ino, idx);
    List<MetaOp.Overlay> overlays = mayHaveOverlays ? meta.overlays(ino, idx, idx + 1) : List.of();
    if (c == null) {
      return new Source(null, null, overlays);
    }
    return new Source(c.id(), c.inline(), overlays);
  }

  /** The current plain bytes of block {@code idx} (possibly shorter than a block), overlays applied. */
  // @GuardedBy("lock")
  private byte[] blockContent(long idx) throws IOException {
    Dirty lg = logging.get(idx);
    if (lg != null && !lg.sparse) {
      return Arrays.copyOf(lg.buf, lg.len);
    }
    Source s = source(idx);
    byte[] base = s.inline != null ? s.inline : s.id != null ? store.get(s.id) : new byte[0];
    if (s.overlays.isEmpty()) {
      return lg == null ? base : lg.overlay(Arrays.copyOf(base, base.length));
    }
    int end = base.length;
    for (MetaOp.Overlay o : s.overlays) {
      end = Math.max(end, o.offset() + o.length());
    }
    byte[] out = Arrays.copyOf(base, end);
    for (MetaOp.Overlay o : s.overlays) {
      byte[] bytes = intents.read(o.logFile(), o.logPos(), ino, idx * bs + o.offset(), o.length(), o.crc());
      System.arraycopy(bytes, 0, out, o.offset(), o.length());
    }
    return lg == null ? out : lg.overlay(out);
  }

  // ---- committing -----------------------------------------------------------------------------

  boolean hasChanges() {
    lock.lock();
    try {
      return changed || !dirty.isEmpty() || !pending.isEmpty();
    } finally {
      lock.unlock();
    }
  }

  /** Publishes everything written so far as one metadata operation (metadata not yet synced to disk). */
  void commit() throws IOException {
    commit(true, null);
  }

  /**
   * {@link #commit()} with attribute changes of this inode in the same metadata operation (a truncating
   * setattr); when nothing else changed they are applied alone.
   */
  void commit(MetaOp.SetAttrs attrs) throws IOException {
    commit(true, attrs);
  }

  /** Commits unless a commit of this file is already running (for the periodic flusher). */
  boolean tryCommit() throws IOException {
    if (!commitMutex.tryLock()) {
      return false;
    }
    try {
      commit(false, null); // an earlier background failure stays for the next flush or fsync to report
      return true;
    } finally {
      commitMutex.unlock();
    }
  }

  private record Snapshot(long size, long truncatedTo, long mtimeNs, long ctimeNs, List<ChunkChange> inline,
      TreeMap<Long, CompletableFuture<ChunkChange>> blocks, List<CompletableFuture<ChunkChange>> superseded) {}

  /**
   * fsync: like {@link #commit()}, except that blocks changed only in small ranges (at most a quarter of a
   * block, over content metadata already has) are not rewritten: their ranges go to the intent log, synced,
   * and the same metadata operation that publishes the size, times and any whole blocks records them as
   * overlays. Without an intent log, or with a truncate to publish, it is {@link #commit()}.
   */
  void sync() throws IOException {
    commit(true, null, intents != null);
  }

  /**
   * Folds this file's intent-log overlays into whole blocks: each block with overlays is read (overlays
   * applied) and committed as an ordinary block, which drops its overlays in the same operation. Returns how
   * many blocks it folded. Running it twice is harmless: the second finds nothing to fold.
   */
  int fold() throws IOException {
    commitMutex.lock();
    try {
      int n = 0;
      lock.lock();
      try {
        java.util.TreeSet<Long> indexes = new java.util.TreeSet<>();
        for (MetaOp.Overlay o : meta.overlays(ino, 0, Long.MAX_VALUE)) {
          indexes.add(o.index());
        }
        for (long idx : indexes) {
          if (idx * bs >= size || pending.containsKey(idx)) {
            continue; // a truncate or a whole new block drops its overlays when it commits
          }
          Dirty d = dirty.get(idx);
          if (d == null) {
            d = newDirty(idx, 0, 0, false);
            dirty.put(idx, d);
          } else if (d.sparse) {
            materialize(idx, d);
          }
          d.whole = true;
          n++;
        }
      } finally {
        lock.unlock();
      }
      if (n > 0) {
        commit(true, null, false);
      }
      return n;
    } finally {
      commitMutex.unlock();
    }
  }

  private void commit(boolean reportAsyncFailure, MetaOp.SetAttrs attrs) throws IOException {
    commit(reportAsyncFailure, attrs, false);
  }

  private void commit(boolean reportAsyncFailure, MetaOp.SetAttrs attrs, boolean useIntents) throws IOException {
    commitMutex.lock();
    try {
      Snapshot snap;
      List<Piece> pieces = List.of();
      lock.lock();
      try {
        if (useIntents && truncatedTo < 0) {
          pieces = takeIntentsLocked();
        }
        snap = snapshotLocked();
        reportDirty();
      } finally {
        lock.unlock();
      }
      if (snap == null) {
        restorePieces(pieces); // none: pieces exist only after writes, which leave a snapshot to take
      }
      if (snap != null) {
        publish(snap, attrs, pieces);
      } else if (attrs != null) {
        log.submit(attrs);
      }
      if (reportAsyncFailure) {
        lock.lock();
        try {
          IOException f = asyncFailure;
          asyncFailure = null;
          if (f != null) {
            throw f;
          }
        } finally {
          lock.unlock();
        }
      }
    } finally {
      commitMutex.unlock();
    }
  }

  /** A block's buffer whose changed {@code spans} an fsync logs (the buffer stays in {@code logging} meanwhile). */
  private record Piece(long index, Dirty dirty, List<int[]> spans) {}

  /** Moves the buffers an fsync can log as ranges from {@code dirty} to {@code logging}. */
  // @GuardedBy("lock")
  private List<Piece> takeIntentsLocked() throws IOException {
    List<Piece> out = new ArrayList<>();
    var it = dirty.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Dirty> e = it.next();
      long idx = e.getKey();
      Dirty d = e.getValue();
      if (d.whole || pending.containsKey(idx) || (idx == 0 && size <= inlineMax)) {
        continue;
      }
      Chunk stored = meta.chunk(ino, idx);
      if (stored == null || stored.length() < bs / 4) {
        continue; // a new block, a hole or a short one: storing it whole costs little, and it reads faster
      }
      if (mayHaveOverlays
          && meta.overlays(ino, idx, idx + 1).size() >= Math.max(64, (long) MAX_OVERLAYS_PER_MIB * bs / (1 << 20))) {
        continue; // stored whole instead: a read of the block would apply too many
      }
      if (d.sparse && d.ranges.size() > Dirty.MAX_RANGES) {
        materialize(idx, d); // the one span around many ranges covers bytes a sparse buffer does not hold
      }
      List<int[]> spans = d.spans(bs / 4);
      if (spans == null) {
        continue;
      }
      it.remove();
      logging.put(idx, d);
      out.add(new Piece(idx, d, spans));
    }
    return out;
  }

  /** Takes what a commit publishes and moves its blocks to {@code committing}; null if nothing changed. */
  // @GuardedBy("lock")
  private Snapshot snapshotLocked() throws IOException {
    if (!changed && dirty.isEmpty() && pending.isEmpty() && superseded.isEmpty()) {
      return null;
    }
    List<ChunkChange> inline = new ArrayList<>();
    Dirty first = dirty.get(0L);
    if (first != null && first.sparse && size <= inlineMax) {
      materialize(0, first);
    }
    if (first != null && size <= inlineMax && first.len <= inlineMax) {
      dirty.remove(0L);
      CompletableFuture<ChunkChange> old = pending.remove(0L);
      if (old != null) {
        superseded.add(old);
      }
      inline.add(first.len == 0 ? ChunkChange.hole(0)
          : ChunkChange.inline(0, Arrays.copyOf(first.buf, first.len)));
    }
    while (!dirty.isEmpty()) {
      Map.Entry<Long, Dirty> e = dirty.pollFirstEntry();
      submit(e.getKey(), e.getValue());
    }
    TreeMap<Long, CompletableFuture<ChunkChange>> blocks = new TreeMap<>(pending);
    committing.putAll(blocks);
    pending.clear();
    Snapshot snap = new Snapshot(size, truncatedTo, mtimeNs, ctimeNs, inline, blocks, new ArrayList<>(superseded));
    superseded.clear();
    publishing = true;
    publishingTruncatedTo = truncatedTo;
    truncatedTo = -1;
    changed = false;
    return snap;
  }

  /**
   * Waits for the snapshot's blocks, makes them durable, logs the pieces' ranges and syncs the log, and
   * applies the commit (with the overlays, if any); called with commitMutex.
   */
  private void publish(Snapshot snap, MetaOp.SetAttrs attrs, List<Piece> pieces) throws IOException {
    List<ChunkChange> changes = new ArrayList<>(snap.inline());
    List<BlockId> pinned = new ArrayList<>();
    IOException failure = null;
    for (CompletableFuture<ChunkChange> f : snap.blocks().values()) {
      try {
        ChunkChange c = await(f);
        changes.add(c);
        if (c.id() != null) {
          pinned.add(c.id());
        }
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    try {
      if (failure != null) {
        throw failure;
      }
      if (!pinned.isEmpty()) {
        store.sync(); // invariant 1: block bytes are durable before metadata references them
      }
      MetaOp.CommitBlocks commit = new MetaOp.CommitBlocks(ino, snap.size(), snap.truncatedTo(), snap.mtimeNs(),
          snap.ctimeNs(), changes, attrs);
      if (pieces.isEmpty()) {
        log.submit(commit);
      } else {
        logPieces(commit, pieces);
      }
    } catch (IOException | RuntimeException e) {
      restore(snap);
      restorePieces(pieces);
      throw e;
    }
    lock.lock();
    try {
      snap.blocks().forEach((idx, f) -> committing.remove(idx, f));
      for (Piece p : pieces) {
        logging.remove(p.index(), p.dirty());
      }
      if (!pieces.isEmpty()) {
        mayHaveOverlays = true;
      }
      publishing = false;
      publishingTruncatedTo = -1;
    } finally {
      lock.unlock();
    }
    for (BlockId id : pinned) {
      log.unpin(id);
    }
    unpinAll(snap.superseded());
  }

  /** Appends the pieces' ranges to the intent log, syncs it (invariant 1), then applies commit and overlays. */
  private void logPieces(MetaOp.CommitBlocks commit, List<Piece> pieces) throws IOException {
    List<IntentLog.Range> ranges = new ArrayList<>();
    List<long[]> where = new ArrayList<>(); // index, offset, length per range
    for (Piece p : pieces) {
      for (int[] span : p.spans()) {
        ranges.add(new IntentLog.Range(ino, p.index() * bs + span[0], p.dirty().buf, span[0], span[1] - span[0]));
        where.add(new long[] {p.index(), span[0], span[1] - span[0]});
      }
    }
    IntentLog.Ticket t = intents.append(ranges);
    try {
      intents.sync(t);
      List<MetaOp.Overlay> overlays = new ArrayList<>(where.size());
      for (int i = 0; i < where.size(); i++) {
        long[] w = where.get(i);
        overlays.add(new MetaOp.Overlay(w[0], (int) w[1], (int) w[2], t.file(), t.position(i), t.crc(i)));
      }
      log.submit(new MetaOp.LogIntents(commit, overlays));
    } finally {
      intents.release(t);
    }
  }

  /** An fsync failed: its logged buffers become dirty again (or lend their ranges to a newer buffer). */
  private void restorePieces(List<Piece> pieces) {
    if (pieces.isEmpty()) {
      return;
    }
    lock.lock();
    try {
      for (Piece p : pieces) {
        logging.remove(p.index(), p.dirty());
        Dirty newer = dirty.get(p.index());
        if (newer == null) {
          dirty.put(p.index(), p.dirty());
        } else if (!newer.sparse) {
          // made from this buffer's bytes: its content has the changes, its ranges must too
          for (int[] span : p.spans()) {
            newer.mark(span[0], span[1]);
          }
        } else {
          // a sparse newer buffer holds only its own writes: take this one's bytes where it has none
          Dirty older = p.dirty();
          for (int[] span : p.spans()) {
            for (int i = span[0]; i < span[1]; i++) {
              Map.Entry<Integer, Integer> r = newer.ranges.floorEntry(i);
              if (r == null || r.getValue() <= i) {
                newer.ensure(i + 1, bs);
                newer.buf[i] = older.buf[i];
              }
            }
            newer.mark(span[0], span[1]);
            newer.len = Math.max(newer.len, span[1]);
          }
        }
      }
      changed = true;
    } finally {
      lock.unlock();
    }
  }

  /** A commit failed: its blocks go back to pending (unless rewritten since) so a later commit retries. */
  private void restore(Snapshot snap) {
    lock.lock();
    try {
      snap.blocks().forEach((idx, f) -> {
        committing.remove(idx, f);
        Dirty newer = dirty.get(idx);
        if (newer != null && !newer.sparse) {
          newer.whole = true; // made over this block, which metadata never got: write it whole
        }
        if (pending.containsKey(idx) || (newer != null && !newer.sparse) || idx * (long) bs >= size) {
          superseded.add(f);
        } else {
          pending.put(idx, f);
        }
      });
      superseded.addAll(snap.superseded());
      if (snap.truncatedTo() >= 0) {
        truncatedTo = truncatedTo < 0 ? snap.truncatedTo() : Math.min(truncatedTo, snap.truncatedTo());
      }
      if (!snap.inline().isEmpty() && !dirty.containsKey(0L) && !pending.containsKey(0L)) {
        ChunkChange c = snap.inline().get(0);
        int n = c.inline() == null ? 0 : c.inline().length;
        byte[] buf = new byte[Dirty.capacity(n, bs)];
        if (n > 0) {
          System.arraycopy(c.inline(), 0, buf, 0, n);
        }
        Dirty d = new Dirty(buf, n);
        d.whole = true;
        dirty.put(0L, d);
      }
      changed = true;
      publishing = false;
      publishingTruncatedTo = -1;
    } finally {
      lock.unlock();
    }
  }

  private void unpinAll(List<CompletableFuture<ChunkChange>> futures) throws FsException {
    for (CompletableFuture<ChunkChange> f : futures) {
      try {
        ChunkChange c = await(f);
        if (c.id() != null) {
          log.unpin(c.id());
        }
      } catch (IOException e) {
        // a block that failed to store was never pinned
      }
    }
  }

  /** Drops everything not committed (the inode is gone); unpins what was stored. */
  void discard() throws FsException {
    commitMutex.lock();
    try {
      List<CompletableFuture<ChunkChange>> drop;
      lock.lock();
      try {
        dirty.clear();
        drop = new ArrayList<>(superseded);
        drop.addAll(pending.values());
        pending.clear();
        superseded.clear();
        changed = false;
      } finally {
        lock.unlock();
      }
      unpinAll(drop);
    } finally {
      commitMutex.unlock();
    }
  }

  private static ChunkChange await(CompletableFuture<ChunkChange> f) throws IOException {
    try {
      return f.get(10, TimeUnit.MINUTES);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof IOException io) {
        throw io;
      }
      throw new FsException(Errno.EIO, "storing a block failed: " + c, c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FsException(Errno.EIO, "interrupted while storing a block");
    } catch (java.util.concurrent.TimeoutException e) {
      throw new FsException(Errno.EIO, "storing a block took more than 10 minutes");
    }
  }
}
