package io.dynamicfs.cluster.blocks;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import java.io.IOException;

/**
 * What {@link ErasureCodedNodeStore} needs of one node: keep a {@link ShardRecord} under its derived key. A
 * shard's key is not the hash of its bytes, so the content-addressed PUT of the block transport refuses it;
 * a remote node takes it through the transport's PUT_SHARD / GET_SHARD frames, verified with
 * {@link ShardRecord#parse} on both sides ({@code io.dynamicfs.cluster.transport.RemoteBlockStore} implements
 * this interface; docs/cluster-blocks.md). {@link #over} serves a store that takes any key, such as a node's
 * own SegmentStore (a node's repair task, and the tests).
 */
public interface ShardStore {
  /** Stores the record under {@code key}, durably when this returns. Idempotent. */
  void putShard(BlockId key, byte[] record) throws IOException;

  /**
   * The record's bytes; FsException(ENOENT or EIO) when absent. An implementation may verify them (a remote
   * one does: EIO when they do not parse); callers parse them regardless.
   */
  byte[] getShard(BlockId key) throws IOException;

  /** Forgets the shard; absent is not an error. */
  void deleteShard(BlockId key) throws IOException;

  /** A shard store over a block store that does not check ids against bytes (a local SegmentStore). */
  static ShardStore over(BlockStore store) {
    return new ShardStore() {
      @Override
      public void putShard(BlockId key, byte[] record) throws IOException {
        store.put(key, record, record.length);
        store.sync();
      }

      @Override
      public byte[] getShard(BlockId key) throws IOException {
        if (!store.contains(key)) {
          throw FsException.of(Errno.ENOENT, "shard %s is not on this node", key);
        }
        return store.get(key);
      }

      @Override
      public void deleteShard(BlockId key) throws IOException {
        store.delete(key);
      }
    };
  }
}
