package io.dynamicfs.cluster.blocks;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Sha256;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * One Reed–Solomon shard of a block as stored on a node: a self-verifying record under a key derived from the
 * block id, so a reader that knows only the block id (and, from metadata, the nodes) finds every shard, and
 * anyone holding the record, a node included, can check it without the block. Big-endian:
 *
 * <pre>
 *  0  magic "DFSS" (4)      4  version 1 (u8)       5  shard index (u8)
 *  6  K (u8)                7  M (u8)               8  block length (i32: plain bytes of the whole block)
 * 12  shard length (i32)   16  block id (32)       48  SHA-256 of the shard bytes (32)
 * 80  shard bytes …
 * </pre>
 *
 * The key is {@code SHA-256("dfs-shard-v1" ‖ block id ‖ index ‖ K ‖ M)} ({@link #key}). A record is valid for a
 * key when its header's block id, index, K and M derive that key, its lengths agree with each other, and its
 * bytes hash to the header's digest ({@link #parse}). The block length lets the reader cut the padding of the
 * last data shard; the reassembled block is checked against the block id as well, end to end.
 */
public record ShardRecord(BlockId block, int index, int k, int m, int blockLength, byte[] bytes) {
  public static final int HEADER = 80;
  private static final int MAGIC = 0x44465353;
  private static final int VERSION = 1;
  private static final byte[] DOMAIN = "dfs-shard-v1".getBytes(StandardCharsets.US_ASCII);

  /** The id a shard is stored under on its node. */
  public static BlockId key(BlockId block, int index, int k, int m) {
    byte[] b = new byte[DOMAIN.length + BlockId.LENGTH + 3];
    System.arraycopy(DOMAIN, 0, b, 0, DOMAIN.length);
    block.writeTo(b, DOMAIN.length);
    b[b.length - 3] = (byte) index;
    b[b.length - 2] = (byte) k;
    b[b.length - 1] = (byte) m;
    return BlockId.hash(b, 0, b.length);
  }

  /** The shard size for a block of {@code length} bytes over K data shards (at least 1). */
  static int shardSize(int length, int k) {
    return Math.max(1, (int) (((long) length + k - 1) / k));
  }

  /** The record of shard {@code index}: header, then {@code shardLength} bytes of {@code shard} from {@code offset}. */
  static byte[] encode(BlockId block, int index, int k, int m, int blockLength, byte[] shard, int offset,
      int shardLength) {
    byte[] r = new byte[HEADER + shardLength];
    ByteBuffer h = ByteBuffer.wrap(r);
    h.putInt(MAGIC).put((byte) VERSION).put((byte) index).put((byte) k).put((byte) m).putInt(blockLength)
        .putInt(shardLength);
    block.writeTo(r, 16);
    MessageDigest md = Sha256.newDigest();
    md.update(shard, offset, shardLength);
    System.arraycopy(md.digest(), 0, r, 48, 32);
    System.arraycopy(shard, offset, r, HEADER, shardLength);
    return r;
  }

  /** The record in {@code r}, checked to be a whole, intact shard stored under {@code key}; EIO otherwise. */
  public static ShardRecord parse(BlockId key, byte[] r) throws FsException {
    if (r.length < HEADER) {
      throw FsException.of(Errno.EIO, "shard %s: record of %d bytes is shorter than its header", key, r.length);
    }
    ByteBuffer h = ByteBuffer.wrap(r);
    int magic = h.getInt();
    int version = h.get() & 0xff;
    int index = h.get() & 0xff;
    int k = h.get() & 0xff;
    int m = h.get() & 0xff;
    int blockLength = h.getInt();
    int shardLength = h.getInt();
    if (magic != MAGIC || version != VERSION || k < 1 || m < 1 || k + m > 256 || index >= k + m
        || blockLength < 0 || shardLength != shardSize(blockLength, k) || r.length != HEADER + shardLength) {
      throw FsException.of(Errno.EIO, "shard %s: malformed header (version %d, index %d, rs-%d-%d, lengths %d/%d)",
          key, version, index, k, m, blockLength, shardLength);
    }
    BlockId block = BlockId.of(r, 16);
    if (!key(block, index, k, m).equals(key)) {
      throw FsException.of(Errno.EIO, "shard %s: record is shard %d of block %s, stored under another key", key,
          index, block);
    }
    MessageDigest md = Sha256.newDigest();
    md.update(r, HEADER, shardLength);
    if (!Arrays.equals(md.digest(), Arrays.copyOfRange(r, 48, 80))) {
      throw FsException.of(Errno.EIO, "shard %s (shard %d of block %s): bytes do not match their digest", key,
          index, block);
    }
    return new ShardRecord(block, index, k, m, blockLength, Arrays.copyOfRange(r, HEADER, r.length));
  }
}
