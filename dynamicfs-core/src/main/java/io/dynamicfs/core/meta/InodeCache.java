package io.dynamicfs.core.meta;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToIntFunction;
import java.util.function.UnaryOperator;

/**
 * Records of one kind kept in memory by inode, coherent with the store's writes, bounded by weight. The
 * store keeps three: inode records (nearly every request reads one), small files' inline bytes (block 0 of
 * a file whose bytes metadata holds, up to {@code FormatOptions#inlineMax}; a mount's store only) and lease
 * records (a cluster mount checks them for every inode an op touches, several RocksDB reads per create
 * otherwise).
 *
 * <p>Why the inline bytes: without them such a read is a RocksDB read of the chunks family, which after a
 * compaction or a dropped page cache is a disk read of its SST block: about 150 µs of the 380 µs a cold
 * 16 KiB file took on a cluster mount (perl open, read, close after {@code drop_caches}).
 *
 * <p>Coherence: {@link MetadataStore} is the only writer of what is kept ({@link Tx#commit}, with its inode changes, and its
 * {@link Tx#putChunk}, {@link Tx#deleteChunk}, {@link Tx#putLease} and {@link Tx#deleteLease} note what
 * the batch changes); after each write it drops the inodes whose records the batch changed and keeps what
 * it wrote ({@link #invalidate}; writes to one store come one at a time: the applier's), and a replaced
 * store drops everything. A fill reads the store outside any lock, so it carries the invalidation count
 * taken before its read and is kept only when no invalidation came in between: checking and storing happen
 * under the same lock as counting and dropping, so a fill that read the old record either sees the newer
 * count or is dropped by the invalidation after it. Values go in and out through {@code copy}, so callers
 * may change what they get (identity for immutable values).
 */
final class InodeCache<V> {
  private final Cache<Long, V> kept;
  private final UnaryOperator<V> copy;
  private final Object lock = new Object();
  private final AtomicLong invalidations = new AtomicLong();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();

  InodeCache(long maxWeight, ToIntFunction<V> weigher, UnaryOperator<V> copy) {
    if (maxWeight <= 0) {
      throw new IllegalArgumentException("cache size must be positive, got " + maxWeight);
    }
    this.copy = copy;
    this.kept = Caffeine.newBuilder().maximumWeight(maxWeight)
        .<Long, V>weigher((ino, v) -> weigher.applyAsInt(v)).executor(Runnable::run).build();
  }

  /** Small files' inline block 0, bounded by {@code maxBytes} of their bytes. */
  static InodeCache<Chunk> inlineChunks(long maxBytes) {
    return new InodeCache<>(maxBytes, c -> 64 + c.inline().length,
        c -> new Chunk(c.index(), c.id(), c.length(), c.inline().clone()));
  }

  /** A copy of what is kept of {@code ino}, or null. */
  V get(long ino) {
    V v = kept.getIfPresent(ino);
    if (v == null) {
      misses.incrementAndGet();
      return null;
    }
    hits.incrementAndGet();
    return copy.apply(v);
  }

  /** Reads one record from the store. */
  interface Load<V> {
    V read() throws io.dynamicfs.core.api.FsException;
  }

  /**
   * What is kept of {@code ino}, else {@code load}'s answer, kept when non-null and {@code keep} accepts it
   * (through {@link #fill}, so a read that raced a write is not kept).
   */
  V getOrLoad(long ino, Load<V> load, java.util.function.Predicate<V> keep)
      throws io.dynamicfs.core.api.FsException {
    V hit = get(ino);
    if (hit != null) {
      return hit;
    }
    long before = invalidations();
    V read = load.read();
    if (read != null && keep.test(read)) {
      fill(ino, read, before);
    }
    return read;
  }

  /** The count a fill takes before it reads the store ({@link #fill}). */
  long invalidations() {
    return invalidations.get();
  }

  /** Keeps {@code v} (read from the store) unless an invalidation came since {@code before}. */
  void fill(long ino, V v, long before) {
    V k = copy.apply(v);
    synchronized (lock) {
      if (invalidations.get() == before) {
        kept.put(ino, k);
      }
    }
  }

  /**
   * Drops what is kept of {@code inodes}, then keeps {@code written} (the records of some of them as just
   * stored); called after their records changed in the store, in the order of the store's writes.
   */
  void invalidate(Collection<Long> inodes, Map<Long, V> written) {
    synchronized (lock) {
      invalidations.incrementAndGet();
      for (Long ino : inodes) {
        if (!written.containsKey(ino)) { // a put replaces: dropping first would be a second cache write
          kept.invalidate(ino);
        }
      }
      written.forEach((ino, v) -> kept.put(ino, copy.apply(v)));
    }
  }

  /** Drops everything (the store's files were replaced). */
  void clear() {
    synchronized (lock) {
      invalidations.incrementAndGet();
      kept.invalidateAll();
    }
  }

  long hits() {
    return hits.get();
  }

  long misses() {
    return misses.get();
  }
}
