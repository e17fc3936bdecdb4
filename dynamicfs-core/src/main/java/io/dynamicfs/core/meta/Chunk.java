package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * One entry of a file's block list: block number {@code index} (offset index × block size) holds the
 * first {@code length} bytes of that window; the rest of the window up to the file size reads as zeros.
 * The bytes live either in a stored block ({@code id}) or, for a small file, inline in this entry
 * ({@code inline}), written atomically with the metadata and needing no block store at all.
 */
public record Chunk(long index, BlockId id, int length, byte[] inline) {
  private static final byte REF = 0;
  private static final byte INLINE = 1;

  public boolean isInline() {
    return inline != null;
  }

  byte[] encodeValue() {
    if (inline != null) {
      byte[] v = new byte[1 + inline.length];
      v[0] = INLINE;
      System.arraycopy(inline, 0, v, 1, inline.length);
      return v;
    }
    byte[] v = new byte[1 + BlockId.LENGTH + 4];
    v[0] = REF;
    id.writeTo(v, 1);
    ByteBuffer.wrap(v, 1 + BlockId.LENGTH, 4).putInt(length);
    return v;
  }

  static Chunk decode(long index, byte[] v) throws FsException {
    if (v.length >= 1 && v[0] == INLINE) {
      return new Chunk(index, null, v.length - 1, Arrays.copyOfRange(v, 1, v.length));
    }
    if (v.length != 1 + BlockId.LENGTH + 4 || v[0] != REF) {
      throw FsException.of(Errno.EIO, "block list entry %d is malformed (%d bytes)", index, v.length);
    }
    return new Chunk(index, BlockId.of(v, 1), ByteBuffer.wrap(v, 1 + BlockId.LENGTH, 4).getInt(), null);
  }
}
