package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.meta.MetaOp.ChunkChange;
import java.io.IOException;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns filled block buffers into stored blocks on a worker pool: zero check (a hole), SHA-256, pin and
 * dedup lookup, compression and append. At most {@code maxInFlight} blocks wait or run at once; a
 * writer that gets ahead blocks in {@link #submit} (back-pressure instead of unbounded memory).
 *
 * <p>A buffer handed over belongs to the pipeline (and possibly to a cache) from then on: callers
 * never write to it again.
 */
final class BlockPipeline implements AutoCloseable {
  private final BlockStore store;
  private final MetaLog log;
  private final ExecutorService pool;
  private final Semaphore inFlight;
  private final byte[] zeros;

  BlockPipeline(BlockStore store, MetaLog log, int threads, int maxInFlight, int blockSize) {
    this.store = store;
    this.log = log;
    AtomicInteger n = new AtomicInteger();
    ThreadFactory tf = r -> {
      Thread t = new Thread(r, "dfs-block-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    this.pool = Executors.newFixedThreadPool(threads, tf);
    this.inFlight = new Semaphore(maxInFlight);
    this.zeros = new byte[blockSize];
  }

  /** Stores the block asynchronously; the future holds its pinned block-list change. */
  CompletableFuture<ChunkChange> submit(long index, byte[] buf, int len) throws FsException {
    try {
      inFlight.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FsException(Errno.EIO, "interrupted while waiting to store a block");
    }
    CompletableFuture<ChunkChange> f = new CompletableFuture<>();
    try {
      pool.execute(() -> {
        try {
          f.complete(storeNow(index, buf, len));
        } catch (Throwable t) {
          f.completeExceptionally(t);
        } finally {
          inFlight.release();
        }
      });
    } catch (RuntimeException e) {
      inFlight.release();
      throw new FsException(Errno.EIO, "block pipeline is closed", e);
    }
    return f;
  }

  /** Stores the block in the calling thread. A stored result is pinned: the caller must unpin it. */
  ChunkChange storeNow(long index, byte[] buf, int len) throws IOException {
    if (len == 0 || Arrays.mismatch(buf, 0, len, zeros, 0, len) == -1) {
      return ChunkChange.hole(index);
    }
    BlockId id = BlockId.hash(buf, 0, len);
    boolean present = log.pin(id);
    try {
      StoredBlock sb = present ? log.describePinned(id) : null;
      if (sb == null) {
        sb = store.put(id, buf, len);
      }
      return ChunkChange.stored(index, id, len, sb.storedLength(), sb.codec(), sb.placement());
    } catch (IOException | RuntimeException e) {
      log.unpin(id);
      throw e;
    }
  }

  @Override
  public void close() {
    pool.shutdown();
    try {
      if (!pool.awaitTermination(60, TimeUnit.SECONDS)) {
        throw new IllegalStateException("block pipeline did not drain in 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
