package io.dynamicfs.core.erasure;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Builds and caches, per erasure pattern, the {@link CodingLoop.Program} that rebuilds the missing
 * shards of a stripe. Thread-safe.
 */
final class Decoder {

  /** Largest number of programs kept; the cache is simply cleared when it overflows. */
  private static final int MAX_CACHED_PROGRAMS = 4096;

  /** Elimination step kinds: {@code row *= c} and {@code row ^= c * pivotRow}. */
  private static final int SCALE = 0;

  private static final int ELIMINATE = 1;

  /** {@code (K + M) x K}: identity on top of the scaled Cauchy matrix. */
  private final Matrix encodingMatrix;
  private final int dataShards;
  private final int totalShards;
  private final Map<PresentKey, CodingLoop.Program> programs = new ConcurrentHashMap<>();

  Decoder(Matrix encodingMatrix) {
    this.encodingMatrix = encodingMatrix;
    this.dataShards = encodingMatrix.cols();
    this.totalShards = encodingMatrix.rows();
  }

  /**
   * Returns the (cached) program rebuilding the shards not flagged in {@code present}; at least
   * {@code K} must be present.
   */
  CodingLoop.Program program(boolean[] present) {
    PresentKey key = PresentKey.of(present);
    CodingLoop.Program program = programs.get(key);
    if (program == null) {
      program = build(present);
      if (programs.size() >= MAX_CACHED_PROGRAMS) {
        programs.clear();
      }
      programs.put(key, program);
    }
    return program;
  }

  /**
   * Builds the decoding program for one presence pattern (with at least {@code K} present).
   *
   * <p>With {@code e} data shards missing, {@code e} present parity shards are chosen (the lowest
   * ones). Each missing data buffer first receives a syndrome: one chosen parity shard minus the
   * contribution of the present data shards, which leaves {@code A * missing}, where {@code A} is
   * the {@code e x e} sub-matrix of the parity rows on the missing columns (invertible, being a
   * square sub-matrix of a Cauchy matrix). Gauss–Jordan elimination on {@code A}, mirrored as row
   * operations on the buffers themselves, then turns the syndromes into the missing data in place.
   * Because the parity matrix has a row and a column of ones, many steps are plain XORs. Missing
   * parity shards are finally re-encoded from the (now complete) data.
   */
  private CodingLoop.Program build(boolean[] present) {
    int[] missingData = new int[dataShards];
    int e = 0;
    for (int i = 0; i < dataShards; i++) {
      if (!present[i]) {
        missingData[e++] = i;
      }
    }
    CodingLoop.ProgramBuilder program = new CodingLoop.ProgramBuilder();
    if (e > 0) {
      int[] parityRows = new int[e];
      for (int p = dataShards, n = 0; n < e; p++) {
        if (present[p]) {
          parityRows[n++] = p;
        }
      }
      // A[i][c]: coefficient of missing data shard c in chosen parity row i.
      int[][] a = new int[e][e];
      for (int i = 0; i < e; i++) {
        for (int c = 0; c < e; c++) {
          a[i][c] = encodingMatrix.get(parityRows[i], missingData[c]);
        }
      }
      // Symbolic Gauss–Jordan elimination. Every leading minor of A is a square sub-matrix of the
      // Cauchy part, hence non-zero, so no pivot is ever zero and rows never need swapping: row i
      // (the syndrome of parity row i, stored in the buffer of missing data shard i) ends up
      // holding missing data shard i.
      int[] stepKind = new int[e * e];
      int[] stepCoef = new int[e * e];
      int[] stepSrc = new int[e * e];
      int[] stepDst = new int[e * e];
      int steps = 0;
      for (int col = 0; col < e; col++) {
        int diag = a[col][col];
        if (diag == 0) {
          throw new IllegalStateException("zero pivot decoding missing data "
              + Arrays.toString(Arrays.copyOf(missingData, e)) + " with parity rows "
              + Arrays.toString(parityRows) + ": encoding matrix is not MDS");
        }
        if (diag != 1) {
          int scale = GaloisField.inverse(diag);
          for (int c = 0; c < e; c++) {
            a[col][c] = GaloisField.multiply(a[col][c], scale);
          }
          stepKind[steps] = SCALE;
          stepCoef[steps] = scale;
          stepSrc[steps] = col;
          stepDst[steps++] = col;
        }
        for (int r = 0; r < e; r++) {
          int factor = a[r][col];
          if (r != col && factor != 0) {
            for (int c = 0; c < e; c++) {
              a[r][c] ^= GaloisField.multiply(factor, a[col][c]);
            }
            stepKind[steps] = ELIMINATE;
            stepCoef[steps] = factor;
            stepSrc[steps] = col;
            stepDst[steps++] = r;
          }
        }
      }
      for (int i = 0; i < e; i++) {
        program.set(1, parityRows[i], missingData[i]);
      }
      for (int j = 0; j < dataShards; j++) {
        if (present[j]) {
          for (int i = 0; i < e; i++) {
            program.xor(encodingMatrix.get(parityRows[i], j), j, missingData[i]);
          }
        }
      }
      for (int s = 0; s < steps; s++) {
        if (stepKind[s] == SCALE) {
          program.set(stepCoef[s], missingData[stepSrc[s]], missingData[stepDst[s]]);
        } else {
          program.xor(stepCoef[s], missingData[stepSrc[s]], missingData[stepDst[s]]);
        }
      }
    }
    int[] missingParity = new int[totalShards - dataShards];
    int lostParity = 0;
    for (int p = dataShards; p < totalShards; p++) {
      if (!present[p]) {
        missingParity[lostParity++] = p;
      }
    }
    if (lostParity > 0) {
      program.encodeRows(encodingMatrix, Arrays.copyOf(missingParity, lostParity));
    }
    return program.build();
  }

  /** A presence pattern of up to 256 shards, as a bit set. */
  private static final class PresentKey {
    private final long[] bits;

    private PresentKey(long[] bits) {
      this.bits = bits;
    }

    static PresentKey of(boolean[] present) {
      long[] bits = new long[(present.length + 63) >>> 6];
      for (int i = 0; i < present.length; i++) {
        if (present[i]) {
          bits[i >>> 6] |= 1L << i;
        }
      }
      return new PresentKey(bits);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof PresentKey && Arrays.equals(bits, ((PresentKey) o).bits);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bits);
    }
  }
}
