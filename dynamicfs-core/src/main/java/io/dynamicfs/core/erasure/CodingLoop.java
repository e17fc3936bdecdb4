package io.dynamicfs.core.erasure;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The per-byte hot loops of the codec.
 *
 * <p>Encoding and decoding are both expressed as a {@link Program}: a list of steps {@code dst =
 * c * src} or {@code dst ^= c * src} over whole shard buffers. A program is run over a byte range
 * in chunks of a few KiB so that every shard touched by one chunk stays in L1/L2 while all steps
 * are applied to it.
 *
 * <p>A step with a general coefficient {@code c} reads row {@code c} of the flattened {@link
 * GaloisField#MUL_TABLE} eight bytes at a time: eight source bytes are read as one {@code long},
 * translated byte by byte and written (or XORed) as one {@code long}. Because the table is one
 * constant array and every index is {@code (c << 8) + (b & 0xFF)}, the JIT drops the bounds checks.
 * Coefficients 0 and 1 take plain fill, copy and XOR paths.
 */
final class CodingLoop {

  /** Reads and writes eight bytes at a time; byte order is irrelevant as long as it is fixed. */
  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.nativeOrder());

  /** Step kind {@code dst = c * src}. */
  private static final int SET = 0;

  /** Step kind {@code dst ^= c * src}. */
  private static final int XOR = 1;

  private CodingLoop() {}

  /**
   * Bytes per chunk for a program touching {@code shardsTouched} buffers: together they should
   * fit in about 256 KiB, with 4 KiB to 32 KiB per buffer.
   */
  static int chunkSize(int shardsTouched) {
    int size = (256 * 1024) / Math.max(1, shardsTouched);
    size = Math.max(4 * 1024, Math.min(32 * 1024, size));
    return size & ~63;
  }

  /**
   * An immutable sequence of steps over shard indexes. Steps are applied in order, so a step may
   * read a buffer written by an earlier one (within the same chunk).
   */
  static final class Program {
    /** Quads {@code (kind, coefficient, src, dst)}. */
    private final int[] steps;

    private final int chunkSize;

    private Program(int[] steps) {
      this.steps = steps;
      boolean[] touched = new boolean[GaloisField.SIZE];
      int count = 0;
      for (int i = 0; i < steps.length; i += 4) {
        for (int s = 2; s <= 3; s++) {
          if (!touched[steps[i + s]]) {
            touched[steps[i + s]] = true;
            count++;
          }
        }
      }
      this.chunkSize = chunkSize(count);
    }

    /** Number of steps. */
    int size() {
      return steps.length / 4;
    }

    /** Number of steps whose coefficient is neither 0 nor 1 (table lookups). */
    int tableSteps() {
      int n = 0;
      for (int i = 0; i < steps.length; i += 4) {
        if (steps[i + 1] > 1) {
          n++;
        }
      }
      return n;
    }

    /**
     * Runs the program over {@code [offset, offset + length)} of {@code shards}. The caller has
     * checked that every buffer the program touches is non-null and long enough.
     */
    void run(byte[][] shards, int offset, int length) {
      int end = offset + length;
      int[] s = steps;
      for (int from = offset; from < end; from += chunkSize) {
        int n = Math.min(chunkSize, end - from);
        for (int i = 0; i < s.length; i += 4) {
          byte[] src = shards[s[i + 2]];
          byte[] dst = shards[s[i + 3]];
          if (s[i] == SET) {
            mulSet(s[i + 1], src, from, dst, from, n);
          } else {
            mulXor(s[i + 1], src, from, dst, from, n);
          }
        }
      }
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < steps.length; i += 4) {
        sb.append(steps[i + 3]).append(steps[i] == SET ? " = " : " ^= ").append(steps[i + 1])
            .append(" * ").append(steps[i + 2]).append('\n');
      }
      return sb.toString();
    }
  }

  /** Accumulates the steps of a {@link Program}. */
  static final class ProgramBuilder {
    private int[] steps = new int[64];
    private int size;

    /** Adds {@code shards[dst] = c * shards[src]} ({@code src == dst} scales in place). */
    ProgramBuilder set(int c, int src, int dst) {
      return add(SET, c, src, dst);
    }

    /** Adds {@code shards[dst] ^= c * shards[src]}; a zero coefficient adds nothing. */
    ProgramBuilder xor(int c, int src, int dst) {
      if (src == dst) {
        throw new IllegalArgumentException("xor step needs distinct buffers, got " + src);
      }
      return c == 0 ? this : add(XOR, c, src, dst);
    }

    private ProgramBuilder add(int kind, int c, int src, int dst) {
      if (c < 0 || c > 255) {
        throw new IllegalArgumentException("coefficient out of range: " + c);
      }
      if (src < 0 || src >= GaloisField.SIZE || dst < 0 || dst >= GaloisField.SIZE) {
        throw new IllegalArgumentException("shard index out of range: " + src + ", " + dst);
      }
      if (size + 4 > steps.length) {
        steps = Arrays.copyOf(steps, steps.length * 2);
      }
      steps[size++] = kind;
      steps[size++] = c;
      steps[size++] = src;
      steps[size++] = dst;
      return this;
    }

    /**
     * Adds the steps computing {@code shards[r] = sum_j matrix[r][j] * shards[j]} for each {@code
     * r} in {@code rows}, input by input; the rows must not be among the inputs.
     */
    ProgramBuilder encodeRows(Matrix matrix, int[] rows) {
      for (int r : rows) {
        set(matrix.get(r, 0), 0, r);
      }
      for (int j = 1; j < matrix.cols(); j++) {
        for (int r : rows) {
          xor(matrix.get(r, j), j, r);
        }
      }
      return this;
    }

    Program build() {
      return new Program(Arrays.copyOf(steps, size));
    }
  }

  /** {@code out[outPos + i] = c * in[inPos + i]} for {@code i} in {@code [0, n)}. */
  static void mulSet(int c, byte[] in, int inPos, byte[] out, int outPos, int n) {
    if (c == 0) {
      Arrays.fill(out, outPos, outPos + n, (byte) 0);
    } else if (c == 1) {
      if (in != out || inPos != outPos) {
        System.arraycopy(in, inPos, out, outPos, n);
      }
    } else {
      mulSetTable(c, in, inPos, out, outPos, n);
    }
  }

  /** {@code out[outPos + i] ^= c * in[inPos + i]} for {@code i} in {@code [0, n)}. */
  static void mulXor(int c, byte[] in, int inPos, byte[] out, int outPos, int n) {
    if (c == 1) {
      xor(in, inPos, out, outPos, n);
    } else if (c != 0) {
      mulXorTable(c, in, inPos, out, outPos, n);
    }
  }

  /** {@code out[outPos + i] ^= in[inPos + i]} for {@code i} in {@code [0, n)}. */
  private static void xor(byte[] in, int inPos, byte[] out, int outPos, int n) {
    int i = 0;
    for (int last = n - 8; i <= last; i += 8) {
      long v = (long) LONGS.get(in, inPos + i);
      LONGS.set(out, outPos + i, (long) LONGS.get(out, outPos + i) ^ v);
    }
    for (; i < n; i++) {
      out[outPos + i] ^= in[inPos + i];
    }
  }

  /** {@code out[outPos + i] = c * in[inPos + i]} for {@code i} in {@code [0, n)}, {@code c > 1}. */
  private static void mulSetTable(int c, byte[] in, int inPos, byte[] out, int outPos, int n) {
    byte[] t = GaloisField.MUL_TABLE;
    int row = (c & 0xFF) << 8;
    int i = 0;
    for (int last = n - 8; i <= last; i += 8) {
      long v = (long) LONGS.get(in, inPos + i);
      LONGS.set(out, outPos + i, translate(row, v));
    }
    for (; i < n; i++) {
      out[outPos + i] = t[row + (in[inPos + i] & 0xFF)];
    }
  }

  /** {@code out[outPos + i] ^= c * in[inPos + i]} for {@code i} in {@code [0, n)}, {@code c > 1}. */
  private static void mulXorTable(int c, byte[] in, int inPos, byte[] out, int outPos, int n) {
    byte[] t = GaloisField.MUL_TABLE;
    int row = (c & 0xFF) << 8;
    int i = 0;
    for (int last = n - 8; i <= last; i += 8) {
      long v = (long) LONGS.get(in, inPos + i);
      long o = (long) LONGS.get(out, outPos + i);
      LONGS.set(out, outPos + i, o ^ translate(row, v));
    }
    for (; i < n; i++) {
      out[outPos + i] ^= t[row + (in[inPos + i] & 0xFF)];
    }
  }

  /**
   * Multiplies each of the eight bytes of {@code v} by the coefficient whose table row starts at
   * {@code row} ({@code c << 8}, with {@code c} in {@code [0, 255]}). The JIT can prove every index
   * {@code row + (byte)} below the constant table length, so no bounds check remains.
   */
  private static long translate(int row, long v) {
    byte[] t = GaloisField.MUL_TABLE;
    row &= 0xFF00; // no-op for valid rows; bounds the index range even if not inlined
    return (t[row + ((int) v & 0xFF)] & 0xFFL)
        | (t[row + ((int) (v >>> 8) & 0xFF)] & 0xFFL) << 8
        | (t[row + ((int) (v >>> 16) & 0xFF)] & 0xFFL) << 16
        | (t[row + ((int) (v >>> 24) & 0xFF)] & 0xFFL) << 24
        | (t[row + ((int) (v >>> 32) & 0xFF)] & 0xFFL) << 32
        | (t[row + ((int) (v >>> 40) & 0xFF)] & 0xFFL) << 40
        | (t[row + ((int) (v >>> 48) & 0xFF)] & 0xFFL) << 48
        | (t[row + ((int) (v >>> 56) & 0xFF)] & 0xFFL) << 56;
  }
}
