package io.dynamicfs.core.meta;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Small files' contents kept in memory: block 0 of a file when metadata holds its bytes inline (a file up to
 * {@code FormatOptions#inlineMax}, 64 KiB by default), by inode, bounded in bytes. Without it such a read is
 * a RocksDB read of the chunks family, which after a compaction or a dropped page cache is a disk read of
 * its SST block: about 150 µs of the 380 µs a cold 16 KiB file took on a cluster mount (perl open, read,
 * close after {@code drop_caches}).
 *
 * <p>Coherence: {@link MetadataStore} is the only writer of the chunks family ({@link Tx#commit}, whose
 * {@link Tx#putChunk} and {@link Tx#deleteChunk} note what the batch changes); after
 * each write it drops the inodes whose chunks the batch changed and keeps the inline block 0 it wrote
 * ({@link #invalidate}; writes to one store come one at a time: the applier's), and a replaced store drops
 * everything. A fill reads the store outside any lock, so it carries the invalidation count taken
 * before its read and is kept only when no invalidation came in between: checking and storing happen under
 * the same lock as counting and dropping, so a fill that read the old bytes either sees the newer count or
 * is dropped by the invalidation after it. Entries are copied in and out: callers may change what they get.
 */
final class InlineChunkCache {
  private final Cache<Long, Chunk> chunks;
  private final Object lock = new Object();
  private final AtomicLong invalidations = new AtomicLong();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();

  InlineChunkCache(long maxBytes) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("inline chunk cache size must be positive, got " + maxBytes);
    }
    this.chunks = Caffeine.newBuilder().maximumWeight(maxBytes)
        .<Long, Chunk>weigher((ino, c) -> 64 + c.inline().length).executor(Runnable::run).build();
  }

  /** A copy of the cached block 0 of {@code ino}, or null. */
  Chunk get(long ino) {
    Chunk c = chunks.getIfPresent(ino);
    if (c == null) {
      misses.incrementAndGet();
      return null;
    }
    hits.incrementAndGet();
    return copy(c);
  }

  /** The count a fill takes before it reads the store ({@link #fill}). */
  long invalidations() {
    return invalidations.get();
  }

  /** Keeps {@code c} (an inline block 0 read from the store) unless an invalidation came since {@code before}. */
  void fill(long ino, Chunk c, long before) {
    if (!c.isInline() || c.index() != 0) {
      return;
    }
    Chunk kept = copy(c);
    synchronized (lock) {
      if (invalidations.get() == before) {
        chunks.put(ino, kept);
      }
    }
  }

  /**
   * Drops what is kept of {@code inodes}, then keeps {@code written} (block 0 of some of them, as just
   * stored); called after their chunks changed in the store, in the order of the store's writes.
   */
  void invalidate(Collection<Long> inodes, Map<Long, Chunk> written) {
    synchronized (lock) {
      invalidations.incrementAndGet();
      chunks.invalidateAll(inodes);
      written.forEach((ino, c) -> chunks.put(ino, copy(c)));
    }
  }

  /** Drops everything (the store's files were replaced). */
  void clear() {
    synchronized (lock) {
      invalidations.incrementAndGet();
      chunks.invalidateAll();
    }
  }

  long hits() {
    return hits.get();
  }

  long misses() {
    return misses.get();
  }

  private static Chunk copy(Chunk c) {
    return new Chunk(c.index(), c.id(), c.length(), c.inline().clone());
  }
}
