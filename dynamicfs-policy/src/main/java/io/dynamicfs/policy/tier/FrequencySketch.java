package io.dynamicfs.policy.tier;

/**
 * A count-min sketch of 4-bit-like counters (bytes capped at 15) over four rows, halved every
 * {@code sampleSize} increments so that old popularity fades (TinyLFU, Einziger et al.).
 */
final class FrequencySketch {
  private static final long[] SEEDS = {0xc3a5c85c97cb3127L, 0xb492b66fbe98f273L, 0x9ae16a3b2f90404fL,
      0xcbf29ce484222325L};
  private final byte[][] rows = new byte[4][];
  private final int mask;
  private final long sampleSize;
  private long additions;

  FrequencySketch(int expectedKeys) {
    int width = Integer.highestOneBit(Math.max(64, expectedKeys) - 1) << 1;
    for (int i = 0; i < 4; i++) {
      rows[i] = new byte[width];
    }
    mask = width - 1;
    sampleSize = 10L * Math.max(64, expectedKeys);
  }

  private int index(long key, int row) {
    long h = (key + SEEDS[row]) * 0x9E3779B97F4A7C15L;
    h ^= h >>> 29;
    return (int) h & mask;
  }

  int frequency(long key) {
    int f = Integer.MAX_VALUE;
    for (int r = 0; r < 4; r++) {
      f = Math.min(f, rows[r][index(key, r)]);
    }
    return f;
  }

  void increment(long key) {
    for (int r = 0; r < 4; r++) {
      int i = index(key, r);
      if (rows[r][i] < 15) {
        rows[r][i]++;
      }
    }
    if (++additions >= sampleSize) {
      for (byte[] row : rows) {
        for (int i = 0; i < row.length; i++) {
          row[i] = (byte) (row[i] >>> 1);
        }
      }
      additions /= 2;
    }
  }
}
