package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.codec.Codec;
import java.nio.ByteBuffer;

/**
 * What metadata knows of a stored block: how many block-list entries reference it, its plain and stored
 * lengths, codec, and placement (tier and device numbers; 0/0 on a default single-device install).
 */
public record BlockRecord(long refs, int rawLength, int storedLength, Codec codec, int tier, int device) {
  private static final byte VERSION = 1;
  static final int ENCODED = 1 + 8 + 4 + 4 + 1 + 2 + 2;

  BlockRecord withRefs(long r) {
    return new BlockRecord(r, rawLength, storedLength, codec, tier, device);
  }

  BlockRecord withTier(int t) {
    return new BlockRecord(refs, rawLength, storedLength, codec, t, device);
  }

  byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(ENCODED);
    b.put(VERSION).putLong(refs).putInt(rawLength).putInt(storedLength).put((byte) codec.id())
        .putShort((short) tier).putShort((short) device);
    return b.array();
  }

  static BlockRecord decode(byte[] v) throws FsException {
    if (v.length != ENCODED || v[0] != VERSION) {
      throw FsException.of(Errno.EIO, "block record is malformed (%d bytes)", v.length);
    }
    ByteBuffer b = ByteBuffer.wrap(v, 1, v.length - 1);
    return new BlockRecord(b.getLong(), b.getInt(), b.getInt(), Codec.byId(b.get()), b.getShort(), b.getShort());
  }
}
