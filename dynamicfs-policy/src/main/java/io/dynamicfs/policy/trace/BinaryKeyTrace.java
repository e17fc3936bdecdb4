package io.dynamicfs.policy.trace;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * A trace of fixed-width 32-bit keys, one per access, no timestamps (cloudphysics, cache2k): time is the
 * access's index, every key is one block of {@code blockBytes}. Reads through a small buffer.
 */
final class BinaryKeyTrace implements TraceReader {
  /** How the four bytes of a key are laid out. */
  enum Layout {
    /** Big-endian, signed (cache2k). */
    BIG_ENDIAN_SIGNED,
    /** Little-endian, unsigned (the cloudphysics file, whatever its README says: see docs/policy.md). */
    LITTLE_ENDIAN_UNSIGNED
  }

  private final String name;
  private final InputStream in;
  private final Layout layout;
  private final int blockBytes;
  private long time = -1;
  private long key;

  BinaryKeyTrace(String name, InputStream in, Layout layout, int blockBytes) {
    this.name = name;
    this.in = new BufferedInputStream(in, 1 << 16);
    this.layout = layout;
    this.blockBytes = blockBytes;
  }

  @Override
  public boolean next() throws IOException {
    int b0 = in.read();
    if (b0 < 0) {
      return false;
    }
    int b1 = in.read();
    int b2 = in.read();
    int b3 = in.read();
    if ((b1 | b2 | b3) < 0) {
      throw new EOFException(name + ": truncated record at access " + (time + 1)
          + " (the file is not a whole number of 4-byte keys)");
    }
    if (layout == Layout.BIG_ENDIAN_SIGNED) {
      key = (b0 << 24) | (b1 << 16) | (b2 << 8) | b3;
    } else {
      key = ((long) b3 << 24 | (long) b2 << 16 | (long) b1 << 8 | b0) & 0xFFFF_FFFFL;
    }
    time++;
    return true;
  }

  @Override
  public long time() {
    return time;
  }

  @Override
  public long key() {
    return key;
  }

  @Override
  public int bytes() {
    return blockBytes;
  }

  @Override
  public boolean write() {
    return false;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
