package io.dynamicfs.core.block;

import io.dynamicfs.core.codec.Codec;

/** How a block sits in a store: its plain length, stored (compressed) length and codec. */
public record StoredBlock(BlockId id, int rawLength, int storedLength, Codec codec) {}
