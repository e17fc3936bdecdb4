package io.dynamicfs.core.erasure;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class MatrixTest {

  private static Matrix random(Random random, int rows, int cols) {
    Matrix m = new Matrix(rows, cols);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        m.set(r, c, random.nextInt(256));
      }
    }
    return m;
  }

  @Test
  void invert_randomInvertibleMatrices_productIsIdentity() {
    long seed = 20240601L;
    Random random = new Random(seed);
    int inverted = 0;
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + random.nextInt(12);
      Matrix m = random(random, n, n);
      Matrix inv;
      try {
        inv = m.invert();
      } catch (ArithmeticException singular) {
        continue;
      }
      inverted++;
      assertEquals(Matrix.identity(n), m.times(inv), "seed " + seed + " trial " + trial + "\n" + m);
      assertEquals(Matrix.identity(n), inv.times(m), "seed " + seed + " trial " + trial + "\n" + m);
    }
    assertTrue(inverted > 150, "too few invertible samples: " + inverted);
  }

  @Test
  void invert_singularMatrix_throwsArithmeticException() {
    Matrix m = new Matrix(3, 3);
    m.set(0, 0, 5);
    m.set(0, 1, 7);
    m.set(1, 0, 5);
    m.set(1, 1, 7);
    m.set(2, 2, 1);
    ArithmeticException e = assertThrows(ArithmeticException.class, m::invert);
    assertTrue(e.getMessage().contains("singular"), e.getMessage());
  }

  @Test
  void invert_nonSquare_throwsIllegalArgument() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new Matrix(2, 3).invert());
    assertTrue(e.getMessage().contains("2x3"), e.getMessage());
  }

  @Test
  void times_identity_isNeutralAndDimensionMismatchFails() {
    Matrix m = random(new Random(7), 4, 3);
    assertEquals(m, Matrix.identity(4).times(m));
    assertEquals(m, m.times(Matrix.identity(3)));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> m.times(Matrix.identity(4)));
    assertTrue(e.getMessage().contains("4x3") && e.getMessage().contains("4x4"), e.getMessage());
  }

  @Test
  void subMatrixAndSelectRows_copyTheRightCells() {
    Matrix m = random(new Random(11), 5, 4);
    Matrix sub = m.subMatrix(1, 4, 2, 4);
    assertEquals(3, sub.rows());
    assertEquals(2, sub.cols());
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 2; c++) {
        assertEquals(m.get(r + 1, c + 2), sub.get(r, c));
      }
    }
    Matrix picked = m.selectRows(new int[] {4, 0});
    for (int c = 0; c < 4; c++) {
      assertEquals(m.get(4, c), picked.get(0, c));
      assertEquals(m.get(0, c), picked.get(1, c));
    }
    sub.set(0, 0, m.get(1, 2) ^ 1);
    assertNotEquals(sub.get(0, 0), m.get(1, 2), "sub-matrix must be a copy");
    assertThrows(IllegalArgumentException.class, () -> m.subMatrix(0, 6, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> m.set(0, 0, 256));
  }
}
