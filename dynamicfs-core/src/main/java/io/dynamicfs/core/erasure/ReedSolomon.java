package io.dynamicfs.core.erasure;

import java.util.Arrays;

/**
 * A systematic Reed–Solomon erasure code over GF(2^8) with {@code K} data shards and {@code M}
 * parity shards.
 *
 * <p>A stripe is an array of {@code K + M} shards: indexes {@code 0..K-1} hold data, {@code
 * K..K+M-1} hold parity. Every byte position is coded independently, so any byte range {@code
 * [offset, offset + length)} common to all shards can be encoded, checked or rebuilt on its own.
 * Any {@code K} of the {@code K + M} shards are enough to rebuild all the others.
 *
 * <p>The {@code (K + M) x K} encoding matrix is the {@code K x K} identity on top of an {@code M x
 * K} Cauchy matrix {@code 1 / (x_i + y_j)} with distinct {@code x_i = K + i} and {@code y_j = j}.
 * Every square sub-matrix of a Cauchy matrix is invertible, so any {@code K} rows of the encoding
 * matrix are. The Cauchy part is scaled (rows and columns by non-zero constants, which keeps that
 * property) so that its first row and first column are all ones: the first parity shard is the
 * XOR of the data shards, and a single lost data shard is rebuilt with XOR only.
 *
 * <p>Reconstruction does not invert a {@code K x K} matrix: with {@code e} data shards missing,
 * {@code e} present parity shards minus the contribution of the present data shards leave an
 * {@code e x e} system in the missing shards, which is solved in place by Gauss–Jordan elimination
 * mirrored on the buffers. Lost parity is then re-encoded. The resulting step list is cached per
 * erasure pattern.
 *
 * <p>Instances are immutable apart from that cache, and are safe to use from several threads at
 * once (on different shard arrays). All shard arrays of one call must be distinct objects.
 */
public final class ReedSolomon {

  private final int dataShards;
  private final int parityShards;
  private final int totalShards;
  /** {@code (K + M) x K}: identity on top of the scaled Cauchy matrix. */
  private final Matrix encodingMatrix;
  /** Computes all parity shards from the data shards. */
  private final CodingLoop.Program encodeProgram;
  /** Rebuilds missing shards, one cached program per erasure pattern. */
  private final Decoder decoder;

  private ReedSolomon(int dataShards, int parityShards) {
    this.dataShards = dataShards;
    this.parityShards = parityShards;
    this.totalShards = dataShards + parityShards;
    this.encodingMatrix = buildEncodingMatrix(dataShards, parityShards);
    int[] allParity = new int[parityShards];
    for (int p = 0; p < parityShards; p++) {
      allParity[p] = dataShards + p;
    }
    this.encodeProgram =
        new CodingLoop.ProgramBuilder().encodeRows(encodingMatrix, allParity).build();
    this.decoder = new Decoder(encodingMatrix);
  }

  /**
   * Creates a codec.
   *
   * @param dataShards number of data shards {@code K}, at least 1
   * @param parityShards number of parity shards {@code M}, at least 1
   * @return the codec
   * @throws IllegalArgumentException if {@code K < 1}, {@code M < 1} or {@code K + M > 256}
   */
  public static ReedSolomon create(int dataShards, int parityShards) {
    if (dataShards < 1) {
      throw new IllegalArgumentException("dataShards must be >= 1, got " + dataShards);
    }
    if (parityShards < 1) {
      throw new IllegalArgumentException("parityShards must be >= 1, got " + parityShards);
    }
    if (dataShards + parityShards > GaloisField.SIZE) {
      throw new IllegalArgumentException(
          "dataShards + parityShards must be <= 256, got " + dataShards + " + " + parityShards
              + " = " + (dataShards + parityShards));
    }
    return new ReedSolomon(dataShards, parityShards);
  }

  /** Number of data shards {@code K}. */
  public int dataShards() {
    return dataShards;
  }

  /** Number of parity shards {@code M}. */
  public int parityShards() {
    return parityShards;
  }

  /** Total number of shards {@code K + M}. */
  public int totalShards() {
    return totalShards;
  }

  /** Returns the decoding program for a presence pattern (for tests). */
  CodingLoop.Program decodeProgram(boolean[] present) {
    return decoder.program(present);
  }

  /** Returns a copy of the {@code (K + M) x K} encoding matrix. */
  Matrix encodingMatrix() {
    return encodingMatrix.subMatrix(0, totalShards, 0, dataShards);
  }

  /**
   * Computes the parity shards {@code K..K+M-1} from the data shards {@code 0..K-1} over the byte
   * range {@code [offset, offset + length)}. Bytes outside that range are not touched.
   *
   * @param shards {@code K + M} distinct, non-null arrays, each at least {@code offset + length}
   *     long
   * @param offset first byte of the range
   * @param length number of bytes in the range; 0 does nothing
   * @throws IllegalArgumentException if the shards or the range are invalid
   */
  public void encodeParity(byte[][] shards, int offset, int length) {
    checkShards(shards, null, offset, length);
    if (length == 0) {
      return;
    }
    encodeProgram.run(shards, offset, length);
  }

  /**
   * Tells whether the parity shards match the data shards over the byte range {@code [offset,
   * offset + length)}. No shard is modified.
   *
   * @param shards {@code K + M} non-null arrays, each at least {@code offset + length} long
   * @param offset first byte of the range
   * @param length number of bytes in the range; 0 always gives {@code true}
   * @return {@code true} if every parity byte in the range is what {@link #encodeParity} writes
   * @throws IllegalArgumentException if the shards or the range are invalid
   */
  public boolean isParityCorrect(byte[][] shards, int offset, int length) {
    checkShards(shards, null, offset, length);
    if (length == 0) {
      return true;
    }
    int chunk = CodingLoop.chunkSize(dataShards + 1);
    byte[] expected = new byte[Math.min(chunk, length)];
    int end = offset + length;
    for (int from = offset; from < end; from += chunk) {
      int n = Math.min(chunk, end - from);
      for (int p = dataShards; p < totalShards; p++) {
        CodingLoop.mulSet(encodingMatrix.get(p, 0), shards[0], from, expected, 0, n);
        for (int j = 1; j < dataShards; j++) {
          CodingLoop.mulXor(encodingMatrix.get(p, j), shards[j], from, expected, 0, n);
        }
        if (!Arrays.equals(expected, 0, n, shards[p], from, from + n)) {
          return false;
        }
      }
    }
    return true;
  }

  /**
   * Rebuilds every missing shard, data and parity, over the byte range {@code [offset, offset +
   * length)} from any {@code K} present shards. Present shards are only read; bytes of missing
   * shards outside the range are not touched.
   *
   * @param shards {@code K + M} distinct arrays; present ones must be non-null and at least {@code
   *     offset + length} long; a missing one may be {@code null}, in which case a new array of
   *     {@code offset + length} bytes is stored in its place
   * @param present {@code K + M} flags, {@code true} for each shard whose content is valid; not
   *     modified
   * @param offset first byte of the range
   * @param length number of bytes in the range
   * @throws IllegalArgumentException if the arguments are invalid
   * @throws IllegalStateException if fewer than {@code K} shards are present
   */
  public void reconstruct(byte[][] shards, boolean[] present, int offset, int length) {
    if (present == null) {
      throw new IllegalArgumentException("present must not be null");
    }
    if (present.length != totalShards) {
      throw new IllegalArgumentException(
          "present must have " + totalShards + " entries, got " + present.length);
    }
    checkShards(shards, present, offset, length);
    int presentCount = 0;
    for (boolean p : present) {
      if (p) {
        presentCount++;
      }
    }
    if (presentCount < dataShards) {
      throw new IllegalStateException(
          "cannot reconstruct: only " + presentCount + " of " + totalShards
              + " shards present, at least " + dataShards + " needed");
    }
    if (presentCount == totalShards) {
      return;
    }
    for (int i = 0; i < totalShards; i++) {
      if (!present[i] && shards[i] == null) {
        shards[i] = new byte[offset + length];
      }
    }
    if (length == 0) {
      return;
    }

    decoder.program(present).run(shards, offset, length);
  }

  /**
   * Validates the shard array and the range; with {@code present == null} every shard must be
   * non-null, otherwise only the present ones (missing ones may be null or must be long enough).
   */
  private void checkShards(byte[][] shards, boolean[] present, int offset, int length) {
    if (shards == null) {
      throw new IllegalArgumentException("shards must not be null");
    }
    if (shards.length != totalShards) {
      throw new IllegalArgumentException(
          "expected " + totalShards + " shards (" + dataShards + " data + " + parityShards
              + " parity), got " + shards.length);
    }
    if (offset < 0 || length < 0) {
      throw new IllegalArgumentException(
          "offset and length must be >= 0, got offset=" + offset + " length=" + length);
    }
    long end = (long) offset + length;
    if (end > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          "offset + length overflows: offset=" + offset + " length=" + length);
    }
    for (int i = 0; i < totalShards; i++) {
      byte[] shard = shards[i];
      if (shard == null) {
        if (present == null || present[i]) {
          throw new IllegalArgumentException("shard " + i + " is null");
        }
      } else if (shard.length < end) {
        throw new IllegalArgumentException(
            "shard " + i + " has " + shard.length + " bytes, range [" + offset + ", " + end
                + ") does not fit");
      }
    }
  }

  /**
   * Builds the identity-over-Cauchy encoding matrix, with the Cauchy part scaled so that its first
   * row and first column are all ones.
   */
  static Matrix buildEncodingMatrix(int dataShards, int parityShards) {
    Matrix m = new Matrix(dataShards + parityShards, dataShards);
    for (int i = 0; i < dataShards; i++) {
      m.set(i, i, 1);
    }
    int[][] cauchy = new int[parityShards][dataShards];
    for (int r = 0; r < parityShards; r++) {
      for (int c = 0; c < dataShards; c++) {
        cauchy[r][c] = GaloisField.inverse((dataShards + r) ^ c);
      }
    }
    for (int c = 0; c < dataShards; c++) {
      int scale = GaloisField.inverse(cauchy[0][c]);
      for (int r = 0; r < parityShards; r++) {
        cauchy[r][c] = GaloisField.multiply(cauchy[r][c], scale);
      }
    }
    for (int r = 1; r < parityShards; r++) {
      int scale = GaloisField.inverse(cauchy[r][0]);
      for (int c = 0; c < dataShards; c++) {
        cauchy[r][c] = GaloisField.multiply(cauchy[r][c], scale);
      }
    }
    for (int r = 0; r < parityShards; r++) {
      for (int c = 0; c < dataShards; c++) {
        m.set(dataShards + r, c, cauchy[r][c]);
      }
    }
    return m;
  }
}
