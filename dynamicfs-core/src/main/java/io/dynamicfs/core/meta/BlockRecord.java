package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.codec.Codec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * What metadata knows of a stored block: how many block-list entries reference it, its plain and stored
 * lengths, codec, and placement (tier, and the devices or nodes holding its copies or shards). Version 1
 * records (tier and one device number) still decode.
 */
public record BlockRecord(long refs, int rawLength, int storedLength, Codec codec, Placement placement) {
  private static final byte VERSION_1 = 1;
  private static final byte VERSION = 2;
  private static final int V1_LENGTH = 1 + 8 + 4 + 4 + 1 + 2 + 2;

  public int tier() {
    return placement.tier();
  }

  BlockRecord withRefs(long r) {
    return new BlockRecord(r, rawLength, storedLength, codec, placement);
  }

  BlockRecord withPlacement(Placement p) {
    return new BlockRecord(refs, rawLength, storedLength, codec, p);
  }

  byte[] encode() {
    List<Integer> locs = placement.locations();
    ByteBuffer b = ByteBuffer.allocate(1 + 8 + 4 + 4 + 1 + 2 + 1 + 4 * locs.size());
    b.put(VERSION).putLong(refs).putInt(rawLength).putInt(storedLength).put((byte) codec.id())
        .putShort((short) placement.tier()).put((byte) locs.size());
    for (int l : locs) {
      b.putInt(l);
    }
    return b.array();
  }

  static BlockRecord decode(byte[] v) throws FsException {
    if (v.length == V1_LENGTH && v[0] == VERSION_1) {
      ByteBuffer b = ByteBuffer.wrap(v, 1, v.length - 1);
      long refs = b.getLong();
      int raw = b.getInt();
      int stored = b.getInt();
      Codec codec = Codec.byId(b.get());
      int tier = b.getShort() & 0xFFFF;
      b.getShort(); // the device number version 1 never filled in
      return new BlockRecord(refs, raw, stored, codec, new Placement(tier, List.of()));
    }
    if (v.length < 21 || v[0] != VERSION || v.length != 21 + 4 * (v[20] & 0xFF)) {
      throw FsException.of(Errno.EIO, "block record is malformed (%d bytes)", v.length);
    }
    ByteBuffer b = ByteBuffer.wrap(v, 1, v.length - 1);
    long refs = b.getLong();
    int raw = b.getInt();
    int stored = b.getInt();
    Codec codec = Codec.byId(b.get());
    int tier = b.getShort() & 0xFFFF;
    int n = b.get() & 0xFF;
    List<Integer> locs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      locs.add(b.getInt());
    }
    return new BlockRecord(refs, raw, stored, codec, new Placement(tier, locs));
  }
}
