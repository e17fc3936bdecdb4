package io.dynamicfs.core.block;

import io.dynamicfs.core.codec.Codec;

/**
 * How a block sits in a store: its plain length, stored (compressed) length, codec, and where it is
 * ({@link Placement#UNKNOWN} from a store that does not say).
 */
public record StoredBlock(BlockId id, int rawLength, int storedLength, Codec codec, Placement placement) {
  public StoredBlock(BlockId id, int rawLength, int storedLength, Codec codec) {
    this(id, rawLength, storedLength, codec, Placement.UNKNOWN);
  }

  public StoredBlock withPlacement(Placement p) {
    return new StoredBlock(id, rawLength, storedLength, codec, p);
  }
}
