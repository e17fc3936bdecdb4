package io.dynamicfs.core.engine;

/**
 * What the metadata says about stored data: {@code blocks} distinct blocks holding {@code uniqueBytes}
 * plain bytes, referenced {@code referencedBytes} times over by files (counting each reference, so dedup
 * shows as referenced &gt; unique), and taking {@code storedBytes} after compression. Inline small files
 * live in the metadata itself and are not counted.
 */
public record SpaceUsage(long blocks, long uniqueBytes, long referencedBytes, long storedBytes) {
  /** Referenced over unique bytes: 1.0 without duplicates, 2.0 when every block is used twice. */
  public double dedupRatio() {
    return uniqueBytes == 0 ? 1.0 : (double) referencedBytes / uniqueBytes;
  }

  /** Plain over stored bytes: 1.0 when nothing compressed. */
  public double compressionRatio() {
    return storedBytes == 0 ? 1.0 : (double) uniqueBytes / storedBytes;
  }
}
