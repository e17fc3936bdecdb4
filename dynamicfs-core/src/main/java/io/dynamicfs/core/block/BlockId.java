package io.dynamicfs.core.block;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/** The SHA-256 of a block's plain bytes: its name everywhere (metadata, stores, caches). Immutable. */
public final class BlockId implements Comparable<BlockId> {
  public static final int LENGTH = 32;
  private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(Sha256::newDigest);

  private final byte[] bytes;
  private final int hash;

  private BlockId(byte[] bytes) {
    this.bytes = bytes;
    this.hash = (bytes[0] & 0xff) << 24 | (bytes[1] & 0xff) << 16 | (bytes[2] & 0xff) << 8 | (bytes[3] & 0xff);
  }

  /** Wraps 32 bytes (copied). */
  public static BlockId of(byte[] src, int offset) {
    return new BlockId(Arrays.copyOfRange(src, offset, offset + LENGTH));
  }

  /** The id of the given plain bytes. */
  public static BlockId hash(byte[] data, int offset, int length) {
    MessageDigest md = SHA256.get();
    md.update(data, offset, length);
    return new BlockId(md.digest());
  }

  public void writeTo(byte[] dst, int offset) {
    System.arraycopy(bytes, 0, dst, offset, LENGTH);
  }

  public byte[] toBytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof BlockId other && hash == other.hash && Arrays.equals(bytes, other.bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public int compareTo(BlockId o) {
    return Arrays.compareUnsigned(bytes, o.bytes);
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(bytes, 0, 8);
  }

  public String toHex() {
    return HexFormat.of().formatHex(bytes);
  }
}
