package io.dynamicfs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.ForwardingBlockStore;
import io.dynamicfs.core.block.StoredBlock;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * L1: plain (decompressed, verified) blocks in memory, in front of any {@link BlockStore}. A Caffeine
 * cache weighed in bytes. Blocks are immutable and content-addressed, so a cached block is never stale;
 * written blocks are cached too (a file is often read right after it is written). Cached arrays are
 * shared with callers, who must not modify them. Meters: {@link LevelMetrics} with {@code level=l1}.
 *
 * <h2>Read-ahead is kept apart</h2>
 * Blocks loaded by {@link #prefetch} (a file read sequentially) go to a small ring of their own, at most
 * 1/8 of the size and 16 MiB, not into the cache proper: a stream reads each block once, so letting it
 * through the cache would evict the working set for blocks that are never read again (the same reason
 * databases give sequential scans a small ring of buffers), and keeping every streamed block alive until
 * the cache evicts it makes the garbage collector copy it into the old generation first. Blocks read on
 * demand ({@link #get}, the warmup command) are cached as before.
 *
 * <h2>Range reads</h2>
 * {@link #readRange} copies from a cached block; on a miss it asks the level below for just the range (an
 * L2 entry serves it chunk by chunk). Such a block is not loaded at once: a random reader touching a few
 * KiB of many blocks would otherwise pull a whole block through for every read and churn this cache. Once
 * the range reads of one block have moved as many bytes as the block holds, it is promoted (loaded whole
 * in the background), as a block that is read that often has earned its place. When the level below
 * cannot serve ranges, {@code readRange} returns -1 and the caller's {@link #get} loads and keeps the block.
 */
public final class MemoryBlockCache extends ForwardingBlockStore {
  /** Range reads of one block from below that earn it a place here (one block's worth at the usual size). */
  static final long PROMOTE_AFTER_BYTES = 1 << 20;
  private static final long MAX_AHEAD_BYTES = 16 << 20;
  /**
   * Background loads at once. A load from a cluster's block servers waits a network round for a
   * megabyte; with two, a sequential read of a cluster mount kept two blocks in flight.
   */
  private static final int LOADERS = 4;

  private final Cache<BlockId, byte[]> cache;
  /** Blocks loaded by read-ahead, waiting for their stream (see the class notes). */
  private final ReadAheadRing ahead;
  /** Background loads in flight: read-ahead into {@link #ahead}, promotions into {@link #cache}. */
  private final ConcurrentHashMap<BlockId, CompletableFuture<byte[]>> loading = new ConcurrentHashMap<>();
  private final ThreadPoolExecutor loader;
  private final LevelMetrics metrics;
  /** Bytes served by range reads from below, per block not (yet) held here; bounded, approximate. */
  private final Cache<BlockId, AtomicLong> rangeBytes;

  /** An L1 whose meters go to a private registry (tests, tools). */
  public MemoryBlockCache(BlockStore delegate, long maxBytes) {
    this(delegate, maxBytes, new SimpleMeterRegistry());
  }

  public MemoryBlockCache(BlockStore delegate, long maxBytes, MeterRegistry registry) {
    super(delegate);
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("memory cache size must be positive, got " + maxBytes);
    }
    long aheadBytes = Math.min(maxBytes / 8, MAX_AHEAD_BYTES);
    // the ring's share comes out of the size, so that L1 as a whole stays within it
    this.cache = Caffeine.newBuilder()
        .maximumWeight(maxBytes - aheadBytes)
        .weigher(MemoryBlockCache::weigh)
        .evictionListener((BlockId k, byte[] v, RemovalCause cause) -> {
          if (cause.wasEvicted()) {
            evicted();
          }
        })
        .executor(Runnable::run)
        .recordStats()
        .build();
    this.ahead = new ReadAheadRing(aheadBytes);
    this.metrics = new LevelMetrics(registry, "l1", this::sizeBytes);
    this.loader = new ThreadPoolExecutor(LOADERS, LOADERS, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(64), r -> {
      Thread t = new Thread(r, "dfs-prefetch");
      t.setDaemon(true);
      return t;
    });
    loader.allowCoreThreadTimeOut(true);
    this.rangeBytes = Caffeine.newBuilder()
        .maximumSize(Math.max(1024, Math.min(1 << 16, maxBytes >> 14)))
        .executor(Runnable::run)
        .build();
  }

  private static int weigh(BlockId id, byte[] block) {
    return block.length + 64;
  }

  private long sizeBytes() {
    return cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L) + ahead.bytes();
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    StoredBlock sb = delegate.put(id, data, length);
    cache.put(id, length == data.length ? data : Arrays.copyOf(data, length));
    return sb;
  }

  /** The block if it is held here (cached or read ahead), or when a background load of it finishes. */
  private byte[] held(BlockId id) {
    byte[] b = cache.getIfPresent(id);
    if (b != null) {
      return b;
    }
    // The load before the ring: a load puts its block and only then leaves the map, so a block missed
    // in the map is in the ring already (or was never loaded).
    CompletableFuture<byte[]> f = loading.get(id);
    if (f != null) {
      try {
        return f.join();
      } catch (CompletionException | CancellationException e) {
        return null; // the caller loads it itself and sees the error, if any, first hand
      }
    }
    return ahead.get(id);
  }

  /**
   * Concurrent misses on one block load it once; the others wait for that load. A block read this way is
   * cached, sequential or not: only {@link #prefetch} feeds the read-ahead ring.
   */
  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    long start = System.nanoTime();
    byte[] b = held(id);
    if (b != null) {
      metrics.hit(start, b.length);
      return b;
    }
    boolean[] loaded = new boolean[1];
    try {
      b = cache.get(id, k -> {
        loaded[0] = true;
        try {
          return delegate.get(k, sequential);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    } catch (UncheckedIOException e) {
      metrics.miss(start);
      throw e.getCause();
    }
    if (loaded[0]) {
      metrics.miss(start);
    } else {
      metrics.hit(start, b.length); // another thread's load of the same block
    }
    return b;
  }

  /** A held block's range; on a miss the range from below when it can serve it (see the class notes). */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    long start = System.nanoTime();
    byte[] b = held(id);
    if (b != null) {
      int n = Math.max(0, Math.min(length, b.length - offset));
      if (n > 0) {
        System.arraycopy(b, offset, dst, dstOffset, n);
      }
      metrics.hit(start, n);
      return n;
    }
    int n = delegate.readRange(id, offset, dst, dstOffset, length);
    if (n < 0) {
      return -1;
    }
    metrics.miss(start);
    AtomicLong served = rangeBytes.get(id, k -> new AtomicLong());
    if (served.addAndGet(Math.max(n, 1)) >= PROMOTE_AFTER_BYTES) {
      rangeBytes.invalidate(id);
      loadInBackground(id, true);
    }
    return n;
  }

  private void evicted() {
    if (metrics != null) {
      metrics.evictions.increment();
    }
  }

  /** Loads the block into the read-ahead ring in the background unless it is held or already loading. */
  @Override
  public void prefetch(BlockId id) {
    if (ahead.get(id) == null) {
      loadInBackground(id, false);
    }
  }

  /** Loads {@code id} from below on the loader pool into the cache or the ring; a hint, errors are dropped. */
  private void loadInBackground(BlockId id, boolean intoCache) {
    if (cache.getIfPresent(id) != null) {
      return;
    }
    CompletableFuture<byte[]> f = new CompletableFuture<>();
    if (loading.putIfAbsent(id, f) != null) {
      return;
    }
    try {
      loader.execute(() -> {
        long start = System.nanoTime();
        try {
          byte[] b = delegate.get(id, !intoCache); // read-ahead is a sequential read
          metrics.miss(start);
          if (intoCache) { // before the future is dropped: a reader finds one or the other
            cache.put(id, b);
          } else {
            ahead.put(id, b);
          }
          f.complete(b);
        } catch (IOException | RuntimeException e) {
          f.completeExceptionally(e); // a prefetch is only a hint; the real read reports the error
        } finally {
          loading.remove(id, f);
        }
      });
    } catch (RejectedExecutionException e) {
      loading.remove(id, f);
      f.cancel(false);
    }
  }

  @Override
  public void delete(BlockId id) throws IOException {
    cache.invalidate(id);
    ahead.remove(id);
    delegate.delete(id);
  }

  /** Caffeine's own hits, misses and evictions so far (the Micrometer meters are {@link LevelMetrics}). */
  public CacheStats cacheStats() {
    return cache.stats();
  }

  @Override
  public void close() throws IOException {
    loader.shutdown();
    try {
      loader.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    metrics.close();
    cache.invalidateAll();
    ahead.clear();
    delegate.close();
  }
}
