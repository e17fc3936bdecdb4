package io.dynamicfs.cache;

import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.ForwardingBlockStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * L3 as a {@link BlockStore} decorator: a read asks the {@link RemoteBlockSource} first and falls through
 * to the block store below when the source has nothing, fails, or returns bytes whose SHA-256 is not the
 * block id (counted as {@code dfs.cache.corrupt}). Writes, deletes and everything else go to the store:
 * the source is a cache, never a copy we own. Meters: {@link LevelMetrics} with {@code level=l3}.
 */
public final class RemoteBlockTier extends ForwardingBlockStore {
  private static final Logger log = LoggerFactory.getLogger(RemoteBlockTier.class);

  private final RemoteBlockSource source;
  private final LevelMetrics metrics;

  public RemoteBlockTier(BlockStore delegate, RemoteBlockSource source, MeterRegistry registry) {
    super(delegate);
    this.source = source;
    this.metrics = new LevelMetrics(registry, "l3", () -> 0L);
  }

  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    long start = System.nanoTime();
    byte[] b = null;
    try {
      b = source.fetch(id);
    } catch (IOException | RuntimeException e) {
      log.warn("remote block fetch failed source={} block={} error=\"{}\"", source.name(), id, e.toString());
    }
    if (b != null && !BlockId.hash(b, 0, b.length).equals(id)) {
      metrics.corrupt.increment();
      log.warn("remote block failed verification source={} block={}", source.name(), id);
      b = null;
    }
    if (b != null) {
      metrics.hit(start, b.length);
      return b;
    }
    try {
      return delegate.get(id, sequential);
    } finally {
      metrics.miss(start);
    }
  }

  @Override
  public void prefetch(BlockId id) {
    source.prefetch(id);
    delegate.prefetch(id);
  }

  @Override
  public void close() throws IOException {
    metrics.close();
    try {
      source.close();
    } finally {
      delegate.close();
    }
  }
}
