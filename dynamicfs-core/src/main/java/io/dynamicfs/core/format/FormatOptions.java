package io.dynamicfs.core.format;

import io.dynamicfs.core.codec.Codec;

/**
 * Choices fixed when a DATA directory is formatted: block size (a power of two, 64 KiB – 16 MiB), the
 * compression of stored records, and the largest file kept inline in metadata.
 */
public record FormatOptions(int blockSize, Codec codec, int inlineMax) {
  public static final FormatOptions DEFAULT = new FormatOptions(1 << 20, Codec.LZ4, 64 << 10);

  public FormatOptions {
    if (blockSize < (64 << 10) || blockSize > (16 << 20) || Integer.bitCount(blockSize) != 1) {
      throw new IllegalArgumentException(
          "block size " + blockSize + " must be a power of two between 64K and 16M");
    }
    if (codec == null) {
      throw new IllegalArgumentException("compression must be lz4, zstd or none");
    }
    if (inlineMax < 0 || inlineMax > Math.min(blockSize, 1 << 20)) {
      throw new IllegalArgumentException("inline limit " + inlineMax + " must be between 0 and the block size");
    }
  }
}
