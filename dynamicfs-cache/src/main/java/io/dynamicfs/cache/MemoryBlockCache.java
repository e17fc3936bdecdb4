package io.dynamicfs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
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

/**
 * L1: plain (decompressed, verified) blocks in memory, in front of any {@link BlockStore}. A Caffeine
 * cache weighed in bytes. Blocks are immutable and content-addressed, so a cached block is never stale;
 * written blocks are cached too (a file is often read right after it is written). Cached arrays are
 * shared with callers, who must not modify them. Meters: {@link LevelMetrics} with {@code level=l1}.
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
  private final Cache<BlockId, byte[]> cache;
  private final java.util.Set<BlockId> loading = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.ThreadPoolExecutor prefetcher;
  private final LevelMetrics metrics;
  /** Bytes served by range reads from below, per block not (yet) held here; bounded, approximate. */
  private final Cache<BlockId, java.util.concurrent.atomic.AtomicLong> rangeBytes;

  /** An L1 whose meters go to a private registry (tests, tools). */
  public MemoryBlockCache(BlockStore delegate, long maxBytes) {
    this(delegate, maxBytes, new SimpleMeterRegistry());
  }

  public MemoryBlockCache(BlockStore delegate, long maxBytes, MeterRegistry registry) {
    super(delegate);
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("memory cache size must be positive, got " + maxBytes);
    }
    this.cache = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((BlockId k, byte[] v) -> v.length + 64)
        .evictionListener((BlockId k, byte[] v, com.github.benmanes.caffeine.cache.RemovalCause cause) -> {
          if (cause.wasEvicted()) {
            evicted();
          }
        })
        .executor(Runnable::run)
        .recordStats()
        .build();
    this.metrics = new LevelMetrics(registry, "l1",
        () -> cache.policy().eviction().map(e -> e.weightedSize().orElse(0)).orElse(0L));
    this.prefetcher = new java.util.concurrent.ThreadPoolExecutor(2, 2, 30, java.util.concurrent.TimeUnit.SECONDS,
        new java.util.concurrent.ArrayBlockingQueue<>(64), r -> {
          Thread t = new Thread(r, "dfs-prefetch");
          t.setDaemon(true);
          return t;
        });
    prefetcher.allowCoreThreadTimeOut(true);
    this.rangeBytes = Caffeine.newBuilder()
        .maximumSize(Math.max(1024, Math.min(1 << 16, maxBytes >> 14)))
        .executor(Runnable::run)
        .build();
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    StoredBlock sb = delegate.put(id, data, length);
    cache.put(id, length == data.length ? data : Arrays.copyOf(data, length));
    return sb;
  }

  /** Concurrent misses on one block load it once; the others wait for that load. */
  @Override
  public byte[] get(BlockId id) throws IOException {
    long start = System.nanoTime();
    byte[] b = cache.getIfPresent(id);
    if (b != null) {
      metrics.hit(start, b.length);
      return b;
    }
    boolean[] loaded = new boolean[1];
    try {
      b = cache.get(id, k -> {
        loaded[0] = true;
        try {
          return delegate.get(k);
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

  /** A cached block's range; on a miss the range from below when it can serve it (see the class notes). */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    long start = System.nanoTime();
    byte[] b = cache.getIfPresent(id);
    if (b != null) {
      int n = Math.max(0, Math.min(length, b.length - offset));
      if (n > 0) {
        System.arraycopy(b, offset, dst, dstOffset, n);
      }
      metrics.hit(start, n);
      return n;
    }
    if (loading.contains(id)) {
      return -1; // a prefetch is loading it: get() waits for that load instead of reading twice
    }
    int n = delegate.readRange(id, offset, dst, dstOffset, length);
    if (n < 0) {
      return -1;
    }
    metrics.miss(start);
    var served = rangeBytes.get(id, k -> new java.util.concurrent.atomic.AtomicLong());
    if (served.addAndGet(Math.max(n, 1)) >= PROMOTE_AFTER_BYTES) {
      rangeBytes.invalidate(id);
      prefetch(id);
    }
    return n;
  }

  /** Range reads of one block from below that earn it a place here (one block's worth at the usual size). */
  static final long PROMOTE_AFTER_BYTES = 1 << 20;

  private void evicted() {
    if (metrics != null) {
      metrics.evictions.increment();
    }
  }

  /** Loads the block into the cache on the prefetch pool unless it is there or already loading. */
  @Override
  public void prefetch(BlockId id) {
    if (cache.getIfPresent(id) != null || !loading.add(id)) {
      return;
    }
    try {
      prefetcher.execute(() -> {
        try {
          get(id);
        } catch (IOException | RuntimeException e) {
          // a prefetch is only a hint; the real read reports the error
        } finally {
          loading.remove(id);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      loading.remove(id);
    }
  }

  @Override
  public void delete(BlockId id) throws IOException {
    cache.invalidate(id);
    delegate.delete(id);
  }

  /** Caffeine's own hits, misses and evictions so far (the Micrometer meters are {@link LevelMetrics}). */
  public CacheStats cacheStats() {
    return cache.stats();
  }

  @Override
  public void close() throws IOException {
    prefetcher.shutdown();
    try {
      prefetcher.awaitTermination(10, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    metrics.close();
    cache.invalidateAll();
    delegate.close();
  }
}
