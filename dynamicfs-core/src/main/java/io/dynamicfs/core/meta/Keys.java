package io.dynamicfs.core.meta;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Key encodings of the metadata column families (big-endian, so keys sort by inode, then by name/index). */
final class Keys {
  private Keys() {}

  static byte[] ino(long ino) {
    return ByteBuffer.allocate(8).putLong(ino).array();
  }

  static long readIno(byte[] key) {
    return ByteBuffer.wrap(key, 0, 8).getLong();
  }

  static byte[] named(long ino, String name) {
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(8 + n.length).putLong(ino).put(n).array();
  }

  static String nameOf(byte[] key) {
    return new String(key, 8, key.length - 8, StandardCharsets.UTF_8);
  }

  static byte[] chunk(long ino, long index) {
    return ByteBuffer.allocate(16).putLong(ino).putLong(index).array();
  }

  static long chunkIndex(byte[] key) {
    return ByteBuffer.wrap(key, 8, 8).getLong();
  }

  /** A key of the META family: an ASCII prefix, then big-endian longs. */
  static byte[] meta(String prefix, long... parts) {
    byte[] p = prefix.getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(p.length + 8 * parts.length).put(p);
    for (long v : parts) {
      b.putLong(v);
    }
    return b.array();
  }

  /** The {@code i}-th long after {@code prefix} in a {@link #meta} key. */
  static long metaLong(byte[] key, String prefix, int i) {
    return ByteBuffer.wrap(key, prefix.length() + 8 * i, 8).getLong();
  }

  /** An intent-log overlay: (ino, block index, log file, record position), so a block's overlays sort in log order. */
  static byte[] overlay(long ino, long index, int logFile, long logPos) {
    return ByteBuffer.allocate(28).putLong(ino).putLong(index).putInt(logFile).putLong(logPos).array();
  }

  static boolean hasPrefix(byte[] key, byte[] prefix) {
    if (key.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (key[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }
}
