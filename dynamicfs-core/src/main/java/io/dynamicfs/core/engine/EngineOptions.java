package io.dynamicfs.core.engine;

import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.meta.ApplyListener;
import java.time.Duration;
import java.util.function.UnaryOperator;

/**
 * How the engine runs (not how data is laid out, which {@link io.dynamicfs.core.format.FormatOptions}
 * fixes). {@code storeDecorator} wraps the block store, e.g. with caches; {@code applyListener} is told of
 * every applied metadata operation (after the engine's own listeners); {@code accessObserver} hears every
 * read and write served through a handle, cache hits included (the policy engine's tracker).
 * {@code intentLogBytes} bounds the write intent log of a single-node mount (fsync of small changes), 0 to
 * switch it off (fsync then stores whole blocks, as a cluster mount always does).
 */
public record EngineOptions(UnaryOperator<BlockStore> storeDecorator, TimeSource clock, int workerThreads,
    Duration commitInterval, long segmentBytes, ApplyListener applyListener, AccessObserver accessObserver,
    long intentLogBytes) {
  /** The default bound of the write intent log. */
  public static final long DEFAULT_INTENT_LOG_BYTES = 256L << 20;

  public EngineOptions(UnaryOperator<BlockStore> storeDecorator, TimeSource clock, int workerThreads,
      Duration commitInterval, long segmentBytes, ApplyListener applyListener, AccessObserver accessObserver) {
    this(storeDecorator, clock, workerThreads, commitInterval, segmentBytes, applyListener, accessObserver,
        DEFAULT_INTENT_LOG_BYTES);
  }

  public EngineOptions(UnaryOperator<BlockStore> storeDecorator, TimeSource clock, int workerThreads,
      Duration commitInterval, long segmentBytes) {
    this(storeDecorator, clock, workerThreads, commitInterval, segmentBytes, ApplyListener.NONE);
  }

  public EngineOptions(UnaryOperator<BlockStore> storeDecorator, TimeSource clock, int workerThreads,
      Duration commitInterval, long segmentBytes, ApplyListener applyListener) {
    this(storeDecorator, clock, workerThreads, commitInterval, segmentBytes, applyListener, AccessObserver.NONE);
  }

  public EngineOptions {
    java.util.Objects.requireNonNull(accessObserver, "accessObserver (AccessObserver.NONE for none)");
    if (workerThreads < 1) {
      throw new IllegalArgumentException("worker threads must be at least 1, got " + workerThreads);
    }
    if (commitInterval.isNegative() || commitInterval.isZero()) {
      throw new IllegalArgumentException("commit interval must be positive, got " + commitInterval);
    }
    if (segmentBytes < (4L << 20)) {
      throw new IllegalArgumentException("segment size must be at least 4 MiB, got " + segmentBytes);
    }
    if (intentLogBytes != 0 && intentLogBytes < (4L << 20)) {
      throw new IllegalArgumentException("intent log size must be 0 (off) or at least 4 MiB, got " + intentLogBytes);
    }
  }

  public static EngineOptions defaults() {
    return new EngineOptions(UnaryOperator.identity(), TimeSource.SYSTEM,
        Math.max(2, Runtime.getRuntime().availableProcessors()), Duration.ofSeconds(5), 64L << 20);
  }

  public EngineOptions withStoreDecorator(UnaryOperator<BlockStore> d) {
    return new EngineOptions(d, clock, workerThreads, commitInterval, segmentBytes, applyListener, accessObserver,
        intentLogBytes);
  }

  /**
   * {@code n} block pipeline threads (hash, compress, store). A store across the network waits far longer than it
   * computes, so a cluster mount runs more threads than cores.
   */
  public EngineOptions withWorkerThreads(int n) {
    return new EngineOptions(storeDecorator, clock, n, commitInterval, segmentBytes, applyListener, accessObserver,
        intentLogBytes);
  }

  public EngineOptions withClock(TimeSource c) {
    return new EngineOptions(storeDecorator, c, workerThreads, commitInterval, segmentBytes, applyListener,
        accessObserver, intentLogBytes);
  }

  public EngineOptions withApplyListener(ApplyListener l) {
    return new EngineOptions(storeDecorator, clock, workerThreads, commitInterval, segmentBytes, l, accessObserver,
        intentLogBytes);
  }

  public EngineOptions withAccessObserver(AccessObserver o) {
    return new EngineOptions(storeDecorator, clock, workerThreads, commitInterval, segmentBytes, applyListener, o,
        intentLogBytes);
  }

  /** {@code bytes} of write intent log at most, or 0 for none. */
  public EngineOptions withIntentLogBytes(long bytes) {
    return new EngineOptions(storeDecorator, clock, workerThreads, commitInterval, segmentBytes, applyListener,
        accessObserver, bytes);
  }
}
