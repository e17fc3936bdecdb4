package io.dynamicfs.core.block;

import java.io.Closeable;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Content-addressed block storage: the small interface every layer implements (a segment store per
 * device, erasure-coded and remote stores, caches as decorators). Blocks are immutable: a stored id
 * always names the same bytes, so a copy of it anywhere is never stale.
 *
 * <p>Implementations are thread-safe. Liveness (which ids are still referenced) is the metadata's
 * business; a store deletes what it is told to.
 */
public interface BlockStore extends Closeable {
  /** Stores {@code length} plain bytes under {@code id} (idempotent); durable only after {@link #sync}. */
  StoredBlock put(BlockId id, byte[] data, int length) throws IOException;

  /** The verified plain bytes of a block; FsException(EIO) when missing or corrupt. */
  default byte[] get(BlockId id) throws IOException {
    return get(id, false);
  }

  /** {@link #get} for a sequential reader that reads the block once (read-ahead of a stream). */
  default byte[] getSequential(BlockId id) throws IOException {
    return get(id, true);
  }

  /**
   * What {@link #get} and {@link #getSequential} call, and what a store implements. {@code sequential}
   * says the block is read once by a stream: a store may then read it around the OS page cache, which
   * would only keep a second copy of bytes the caches above already hold, at the price of a copy per
   * byte. A decorator passes it on to what it reads from.
   */
  byte[] get(BlockId id, boolean sequential) throws IOException;

  /**
   * Copies bytes {@code [offset, offset + length)} of the block's plain bytes to {@code dst[dstOffset..]}
   * (fewer at the block's end) and returns the count, <em>if</em> this store can serve and verify that range
   * without loading the whole block; otherwise returns -1 and the caller uses {@link #get}. A cache holding the
   * block (in memory, or on disk with per-chunk checksums) serves a small random read this way at the cost of
   * the bytes asked for; a segment store, whose records are compressed and checksummed whole, cannot.
   */
  default int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    return -1;
  }

  /**
   * A hint that {@code id} will be read soon: a caching layer may start loading it in the background.
   * Stores without a cache ignore it.
   */
  default void prefetch(BlockId id) {}

  /** Where the block sits, or null when this store does not hold it. */
  StoredBlock stat(BlockId id);

  default boolean contains(BlockId id) {
    return stat(id) != null;
  }

  /** Forgets a block; its space is reclaimed by compaction. */
  void delete(BlockId id) throws IOException;

  /** Calls {@code action} for every block held (a snapshot; concurrent changes may or may not show). */
  void forEach(Consumer<StoredBlock> action);

  /** Calls {@code action} with the id of every block held, each once; cheaper than {@link #forEach}. */
  default void forEachId(Consumer<BlockId> action) {
    forEach(sb -> action.accept(sb.id()));
  }

  /**
   * Calls {@code action} once for every id held by any of {@code stores} (a store made of several that may
   * hold the same block more than once: copies on devices, a block on two tiers mid-move).
   */
  static void forEachIdOnce(java.util.List<? extends BlockStore> stores, Consumer<BlockId> action) {
    if (stores.size() == 1) {
      stores.get(0).forEachId(action);
      return;
    }
    java.util.Set<BlockId> seen = new java.util.HashSet<>();
    for (BlockStore s : stores) {
      s.forEachId(id -> {
        if (seen.add(id)) {
          action.accept(id);
        }
      });
    }
  }

  /** {@link #forEach} for a store whose ids are cheap to list and whose {@link #stat} describes each. */
  static void forEachStat(BlockStore store, Consumer<StoredBlock> action) {
    store.forEachId(id -> {
      StoredBlock sb = store.stat(id);
      if (sb != null) {
        action.accept(sb);
      }
    });
  }

  /** Returns when everything put so far is durable. */
  void sync() throws IOException;

  /** Space and count figures. */
  StoreStats stats();
}
