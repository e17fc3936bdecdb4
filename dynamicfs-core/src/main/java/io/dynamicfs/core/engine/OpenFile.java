package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
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
 * <p>Writes fill block-sized buffers (reading the old block first only when a write covers part of it);
 * a full buffer goes to the {@link BlockPipeline} at once, so a stream of writes is hashed, compressed and
 * appended in parallel. {@link #commit} waits for the pipeline, makes the blocks durable, and publishes
 * size, times and the changed block-list entries as one {@link MetaOp.CommitBlocks}. Until then readers
 * of this file (all go through this object) see the new bytes; after a crash they see the last commit.
 *
 * <p>Locking: {@code lock} guards all mutable fields. Lock order is this lock, then the {@link MetaLog}
 * monitor; never the reverse. Block fetches for reads happen outside the lock (blocks are immutable);
 * if one vanished meanwhile (overwritten and freed), the read is retried under the lock.
 */
final class OpenFile {
  private static final int MAX_DIRTY_BLOCKS = 8;
  private static final int COMMIT_EVERY_BLOCKS = 64;

  final long ino;
  private final int bs;
  private final int inlineMax;
  private final MetadataStore meta;
  private final BlockStore store;
  private final MetaLog log;
  private final BlockPipeline pipeline;
  private final TimeSource clock;
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
  private final List<CompletableFuture<ChunkChange>> superseded = new ArrayList<>();

  private static final class Dirty {
    final byte[] buf;
    int len;

    Dirty(byte[] buf, int len) {
      this.buf = buf;
      this.len = len;
    }
  }

  OpenFile(Inode inode, int blockSize, int inlineMax, MetadataStore meta, BlockStore store, MetaLog log,
      BlockPipeline pipeline, TimeSource clock) {
    this.ino = inode.ino();
    this.bs = blockSize;
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

  /** Size and times as readers must see them now: {@code [size, mtime, ctime]}, or null if unchanged. */
  long[] liveAttrs() {
    lock.lock();
    try {
      return changed ? new long[] {size, mtimeNs, ctimeNs} : null;
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
    lock.lock();
    try {
      long pos = append ? size : offset;
      if (pos < 0 || pos + len < 0) {
        throw FsException.of(Errno.EFBIG, "write past the largest file offset");
      }
      int done = 0;
      while (done < len) {
        long idx = (pos + done) / bs;
        int in = (int) ((pos + done) % bs);
        int n = Math.min(len - done, bs - in);
        Dirty d = dirty.get(idx);
        if (d == null) {
          d = newDirty(idx, in, n);
          dirty.put(idx, d);
        }
        System.arraycopy(src, srcOff + done, d.buf, in, n);
        d.len = Math.max(d.len, in + n);
        done += n;
        if (in + n == bs) {
          submit(idx, dirty.remove(idx));
        }
      }
      size = Math.max(size, pos + len);
      touch();
      while (dirty.size() > MAX_DIRTY_BLOCKS) {
        Map.Entry<Long, Dirty> e = dirty.pollFirstEntry();
        submit(e.getKey(), e.getValue());
      }
      if (pending.size() >= COMMIT_EVERY_BLOCKS) {
        commitLocked();
      }
      return len;
    } finally {
      lock.unlock();
    }
  }

  /** Sets the size (truncate or extend with a hole). */
  void truncate(long newSize) throws IOException {
    if (newSize < 0) {
      throw FsException.of(Errno.EINVAL, "negative size %d", newSize);
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
            d = newDirty(idx, 0, 0);
            dirty.put(idx, d);
          }
          Arrays.fill(d.buf, tail, bs, (byte) 0);
          d.len = Math.min(d.len, tail);
        }
        truncatedTo = truncatedTo < 0 ? newSize : Math.min(truncatedTo, newSize);
      }
      size = newSize;
      touch();
    } finally {
      lock.unlock();
    }
  }

  private void touch() {
    long now = clock.nowNanos();
    mtimeNs = now;
    ctimeNs = now;
    changed = true;
  }

  /** A buffer for block {@code idx}, holding its current bytes unless the write replaces all of them. */
  private Dirty newDirty(long idx, int writeOff, int writeLen) throws IOException {
    byte[] buf = new byte[bs];
    long start = idx * bs;
    long existing = Math.min(bs, size - start);
    boolean covers = writeOff == 0 && writeLen >= existing;
    if (covers || existing <= 0) {
      return new Dirty(buf, 0);
    }
    byte[] old = blockContent(idx);
    int n = (int) Math.min(old.length, existing);
    System.arraycopy(old, 0, buf, 0, n);
    return new Dirty(buf, n);
  }

  private void submit(long idx, Dirty d) throws FsException {
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
    int total;
    lock.lock();
    try {
      total = plan(offset, dst, dstOff, len, fetches);
    } finally {
      lock.unlock();
    }
    if (fetches.isEmpty()) {
      return total;
    }
    try {
      for (Fetch f : fetches) {
        f.copy(store.get(f.id), dst);
      }
      return total;
    } catch (FsException e) {
      // A block captured outside the lock may have been overwritten and freed since: retry under it.
      lock.lock();
      try {
        fetches.clear();
        total = plan(offset, dst, dstOff, len, fetches);
        for (Fetch f : fetches) {
          f.copy(store.get(f.id), dst);
        }
        return total;
      } finally {
        lock.unlock();
      }
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
  private int plan(long offset, byte[] dst, int dstOff, int len, List<Fetch> fetches) throws IOException {
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
      Dirty d = dirty.get(idx);
      if (d != null) {
        copyWithZeros(d.buf, d.len, in, n, dst, at);
      } else {
        Source s = source(idx);
        if (s.inline != null) {
          copyWithZeros(s.inline, s.inline.length, in, n, dst, at);
        } else if (s.id != null) {
          fetches.add(new Fetch(s.id, in, n, at));
        } else {
          Arrays.fill(dst, at, at + n, (byte) 0);
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

  /** Where block {@code idx} lives now (not counting dirty buffers): a stored block, inline bytes, or a hole. */
  private record Source(BlockId id, byte[] inline) {}

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
    Chunk c = meta.chunk(ino, idx);
    if (c == null) {
      return new Source(null, null);
    }
    return new Source(c.id(), c.inline());
  }

  /** The current plain bytes of block {@code idx} (possibly shorter than a block). */
  // @GuardedBy("lock")
  private byte[] blockContent(long idx) throws IOException {
    Source s = source(idx);
    if (s.inline != null) {
      return s.inline;
    }
    if (s.id != null) {
      return store.get(s.id);
    }
    return new byte[0];
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

  /** Publishes everything written so far as one metadata operation (not yet synced to disk). */
  void commit() throws IOException {
    lock.lock();
    try {
      commitLocked();
    } finally {
      lock.unlock();
    }
  }

  /** Commits unless another thread holds the file (for the background flusher). */
  boolean tryCommit() throws IOException {
    if (!lock.tryLock()) {
      return false;
    }
    try {
      commitLocked();
      return true;
    } finally {
      lock.unlock();
    }
  }

  // @GuardedBy("lock")
  private void commitLocked() throws IOException {
    if (!changed && dirty.isEmpty() && pending.isEmpty() && superseded.isEmpty()) {
      return;
    }
    List<ChunkChange> changes = new ArrayList<>();
    Dirty first = dirty.get(0L);
    if (first != null && size <= inlineMax && first.len <= inlineMax) {
      dirty.remove(0L);
      CompletableFuture<ChunkChange> old = pending.remove(0L);
      if (old != null) {
        superseded.add(old);
      }
      changes.add(first.len == 0 ? ChunkChange.hole(0) : ChunkChange.inline(0, Arrays.copyOf(first.buf, first.len)));
    }
    while (!dirty.isEmpty()) {
      Map.Entry<Long, Dirty> e = dirty.pollFirstEntry();
      CompletableFuture<ChunkChange> old = pending.put(e.getKey(),
          pipeline.submit(e.getKey(), e.getValue().buf, e.getValue().len));
      if (old != null) {
        superseded.add(old);
      }
    }
    boolean anyStored = false;
    List<BlockId> pinned = new ArrayList<>();
    IOException failure = null;
    for (CompletableFuture<ChunkChange> f : pending.values()) {
      try {
        ChunkChange c = await(f);
        changes.add(c);
        if (c.id() != null) {
          pinned.add(c.id());
          anyStored = true;
        }
      } catch (IOException e) {
        failure = failure == null ? e : failure;
      }
    }
    if (failure != null) {
      throw failure; // pending stays: a later commit retries, or release reports it again
    }
    if (anyStored) {
      store.sync(); // invariant 1: block bytes are durable before metadata references them
    }
    log.submit(new MetaOp.CommitBlocks(ino, size, truncatedTo, mtimeNs, ctimeNs, changes));
    pending.clear();
    truncatedTo = -1;
    changed = false;
    for (BlockId id : pinned) {
      log.unpin(id);
    }
    for (CompletableFuture<ChunkChange> f : superseded) {
      try {
        ChunkChange c = await(f);
        if (c.id() != null) {
          log.unpin(c.id());
        }
      } catch (IOException e) {
        // a block that failed to store was never pinned
      }
    }
    superseded.clear();
  }

  /** Drops everything not committed (the inode is gone); unpins what was stored. */
  void discard() {
    lock.lock();
    try {
      dirty.clear();
      superseded.addAll(pending.values());
      pending.clear();
      for (CompletableFuture<ChunkChange> f : superseded) {
        try {
          ChunkChange c = await(f);
          if (c.id() != null) {
            log.unpin(c.id());
          }
        } catch (IOException e) {
          // nothing was pinned
        }
      }
      superseded.clear();
      changed = false;
    } finally {
      lock.unlock();
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
