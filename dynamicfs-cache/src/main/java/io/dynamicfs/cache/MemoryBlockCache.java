package io.dynamicfs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.stats.CacheStats;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.block.StoredBlock;
import java.io.IOException;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * L1: plain (decompressed, verified) blocks in memory, in front of any {@link BlockStore}. A Caffeine
 * cache weighed in bytes. Blocks are immutable and content-addressed, so a cached block is never stale;
 * written blocks are cached too (a file is often read right after it is written). Cached arrays are
 * shared with callers, who must not modify them.
 */
public final class MemoryBlockCache implements BlockStore {
  private final BlockStore delegate;
  private final Cache<BlockId, byte[]> cache;

  public MemoryBlockCache(BlockStore delegate, long maxBytes) {
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("memory cache size must be positive, got " + maxBytes);
    }
    this.delegate = delegate;
    this.cache = Caffeine.newBuilder()
        .maximumWeight(maxBytes)
        .weigher((BlockId k, byte[] v) -> v.length + 64)
        .recordStats()
        .build();
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    StoredBlock sb = delegate.put(id, data, length);
    cache.put(id, length == data.length ? data : Arrays.copyOf(data, length));
    return sb;
  }

  @Override
  public byte[] get(BlockId id) throws IOException {
    byte[] b = cache.getIfPresent(id);
    if (b != null) {
      return b;
    }
    b = delegate.get(id);
    cache.put(id, b);
    return b;
  }

  @Override
  public StoredBlock stat(BlockId id) {
    return delegate.stat(id);
  }

  @Override
  public void delete(BlockId id) throws IOException {
    cache.invalidate(id);
    delegate.delete(id);
  }

  @Override
  public void forEach(Consumer<StoredBlock> action) {
    delegate.forEach(action);
  }

  @Override
  public void sync() throws IOException {
    delegate.sync();
  }

  @Override
  public StoreStats stats() {
    return delegate.stats();
  }

  /** Hits, misses and evictions so far. */
  public CacheStats cacheStats() {
    return cache.stats();
  }

  @Override
  public void close() throws IOException {
    cache.invalidateAll();
    delegate.close();
  }
}
