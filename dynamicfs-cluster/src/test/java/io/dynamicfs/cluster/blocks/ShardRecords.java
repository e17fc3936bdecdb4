package io.dynamicfs.cluster.blocks;

import io.dynamicfs.core.block.BlockId;

/** Test access to {@link ShardRecord}'s package-private encoder, for the transport's tests. */
public final class ShardRecords {
  private ShardRecords() {}

  /** The record of shard {@code index} of rs-K-M of a block of {@code blockLength} bytes with these shard bytes. */
  public static byte[] encode(BlockId block, int index, int k, int m, int blockLength, byte[] shard) {
    if (shard.length != ShardRecord.shardSize(blockLength, k)) {
      throw new IllegalArgumentException("shard of " + shard.length + " bytes; rs-" + k + "-" + m + " of a "
          + blockLength + " byte block has " + ShardRecord.shardSize(blockLength, k));
    }
    return ShardRecord.encode(block, index, k, m, blockLength, shard, 0, shard.length);
  }

  /** A valid record of shard 0 of rs-1-1 of a block of {@code bytes} (the shard is the block itself). */
  public static byte[] wholeBlockShard(byte[] bytes) {
    return encode(BlockId.hash(bytes, 0, bytes.length), 0, 1, 1, bytes.length,
        bytes.length == 0 ? new byte[1] : bytes);
  }

  /** The key {@link #wholeBlockShard} is stored under. */
  public static BlockId wholeBlockKey(byte[] bytes) {
    return ShardRecord.key(BlockId.hash(bytes, 0, bytes.length), 0, 1, 1);
  }
}
