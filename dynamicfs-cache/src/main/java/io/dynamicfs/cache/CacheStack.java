package io.dynamicfs.cache;

import io.dynamicfs.core.block.BlockStore;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Composes the cache levels in front of a block store: {@code L1 → L2 → L3 → store}. A read falls through
 * the levels in that order and the bytes it finds are promoted on the way back up (L2 admits them by its
 * policy, L1 keeps them). Every level is optional; all report to one {@link MeterRegistry}. Closing the
 * outermost store closes every level (each logs its summary) and then the store.
 *
 * <pre>{@code
 * EngineOptions.defaults().withStoreDecorator(CacheStack.builder(registry)
 *     .memory(512 << 20).disk(Path.of("/nvme/dfs-cache"), 20L << 30, Admission.HOT_ONLY)
 *     .build());
 * }</pre>
 */
public final class CacheStack {
  private CacheStack() {}

  public static Builder builder(MeterRegistry registry) {
    return new Builder(registry);
  }

  /** Fail-fast settings for one stack; {@link #build} returns the store decorator. */
  public static final class Builder {
    private final MeterRegistry registry;
    private long memoryBytes;
    private Path diskDir;
    private long diskBytes;
    private Admission admission = Admission.ALWAYS;
    private RemoteBlockSource remote;

    private Builder(MeterRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
    }

    /** L1 of {@code bytes} (0 = no L1). */
    public Builder memory(long bytes) {
      if (bytes < 0) {
        throw new IllegalArgumentException("memory cache size must not be negative, got " + bytes);
      }
      this.memoryBytes = bytes;
      return this;
    }

    /** L2 in {@code dir}, at most {@code bytes}, admitting by {@code policy}. */
    public Builder disk(Path dir, long bytes, Admission policy) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("disk cache size must be positive, got " + bytes);
      }
      this.diskDir = Objects.requireNonNull(dir, "dir");
      this.diskBytes = bytes;
      this.admission = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /** L3: a remote source consulted before the block store. */
    public Builder remote(RemoteBlockSource source) {
      this.remote = Objects.requireNonNull(source, "source");
      return this;
    }

    /**
     * The decorator for {@code EngineOptions.withStoreDecorator}. Opening L2 can fail (directory not
     * creatable, in use by another mount): that surfaces as an UncheckedIOException from the decorator.
     */
    public UnaryOperator<BlockStore> build() {
      return store -> {
        BlockStore s = store;
        if (remote != null) {
          s = new RemoteBlockTier(s, remote, registry);
        }
        if (diskDir != null) {
          try {
            s = DiskBlockCache.open(s, diskDir, diskBytes, admission, registry);
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
        if (memoryBytes > 0) {
          s = new MemoryBlockCache(s, memoryBytes, registry);
        }
        return s;
      };
    }
  }
}
