package io.dynamicfs.core.erasure;

/**
 * Arithmetic in GF(2^8) with the primitive polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D) and
 * generator 2.
 *
 * <p>Addition and subtraction are XOR. Multiplication and division go through log/exp tables;
 * the hot loops of the codec use {@link #MUL_TABLE}, whose row {@code c} maps every byte {@code
 * b} to {@code c * b}. Elements are passed as ints in {@code [0, 255]}.
 */
final class GaloisField {

  /** The field polynomial, including the x^8 term. */
  static final int POLYNOMIAL = 0x11D;

  /** Number of field elements. */
  static final int SIZE = 256;

  /** {@code EXP[i] = 2^i}; doubled in length so {@code EXP[log a + log b]} needs no modulo. */
  private static final int[] EXP = new int[2 * SIZE];

  /** {@code LOG[a]} for {@code a != 0}; {@code LOG[0]} is unused. */
  private static final int[] LOG = new int[SIZE];

  /**
   * The full 256 x 256 multiplication table, flattened row by row: {@code MUL_TABLE[(a << 8) + b]
   * = a * b}. One constant array (rather than 256 rows) lets the JIT prove that {@code (a << 8) +
   * (b & 0xFF)} with {@code a} in {@code [0, 255]} is in bounds and drop the bounds checks from the
   * hot loops. 64 KiB.
   */
  static final byte[] MUL_TABLE = new byte[SIZE * SIZE];

  static {
    int x = 1;
    for (int i = 0; i < SIZE - 1; i++) {
      EXP[i] = x;
      LOG[x] = i;
      x <<= 1;
      if ((x & 0x100) != 0) {
        x ^= POLYNOMIAL;
      }
    }
    if (x != 1) {
      throw new AssertionError("0x11D is not primitive with generator 2");
    }
    for (int i = SIZE - 1; i < EXP.length; i++) {
      EXP[i] = EXP[i - (SIZE - 1)];
    }
    for (int a = 0; a < SIZE; a++) {
      for (int b = 0; b < SIZE; b++) {
        MUL_TABLE[(a << 8) + b] = (byte) multiplySlow(a, b);
      }
    }
  }

  private GaloisField() {}

  /** Product via log/exp tables (used to build {@link #MUL_TABLE}). */
  private static int multiplySlow(int a, int b) {
    if (a == 0 || b == 0) {
      return 0;
    }
    return EXP[LOG[a] + LOG[b]];
  }

  /** Returns {@code a + b} (= {@code a - b}). */
  static int add(int a, int b) {
    return (a ^ b) & 0xFF;
  }

  /** Returns {@code a * b}. */
  static int multiply(int a, int b) {
    return MUL_TABLE[((a & 0xFF) << 8) + (b & 0xFF)] & 0xFF;
  }

  /**
   * Returns {@code a / b}.
   *
   * @throws ArithmeticException if {@code b == 0}
   */
  static int divide(int a, int b) {
    a &= 0xFF;
    b &= 0xFF;
    if (b == 0) {
      throw new ArithmeticException("division by zero in GF(256)");
    }
    if (a == 0) {
      return 0;
    }
    return EXP[LOG[a] + (SIZE - 1) - LOG[b]];
  }

  /**
   * Returns the multiplicative inverse of {@code a}.
   *
   * @throws ArithmeticException if {@code a == 0}
   */
  static int inverse(int a) {
    return divide(1, a);
  }

  /** Returns {@code 2^n} for any {@code n >= 0}. */
  static int exp(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("exponent must be >= 0, got " + n);
    }
    return EXP[n % (SIZE - 1)];
  }

  /**
   * Returns the discrete logarithm of {@code a} to base 2.
   *
   * @throws ArithmeticException if {@code a == 0}
   */
  static int log(int a) {
    a &= 0xFF;
    if (a == 0) {
      throw new ArithmeticException("log(0) is undefined in GF(256)");
    }
    return LOG[a];
  }
}
