package io.dynamicfs.core.erasure;

import java.util.Arrays;

/**
 * A small dense matrix over GF(2^8), used to build encoding and decoding matrices (never in the
 * per-byte hot loops). Instances are mutable only through {@link #set}; every operation returns a
 * new matrix.
 */
final class Matrix {

  private final int rows;
  private final int cols;
  private final int[][] data;

  /** Creates a {@code rows x cols} zero matrix. */
  Matrix(int rows, int cols) {
    if (rows < 1 || cols < 1) {
      throw new IllegalArgumentException(
          "matrix dimensions must be >= 1, got " + rows + "x" + cols);
    }
    this.rows = rows;
    this.cols = cols;
    this.data = new int[rows][cols];
  }

  /** Returns the {@code n x n} identity matrix. */
  static Matrix identity(int n) {
    Matrix m = new Matrix(n, n);
    for (int i = 0; i < n; i++) {
      m.data[i][i] = 1;
    }
    return m;
  }

  int rows() {
    return rows;
  }

  int cols() {
    return cols;
  }

  int get(int r, int c) {
    return data[r][c];
  }

  void set(int r, int c, int value) {
    if (value < 0 || value > 255) {
      throw new IllegalArgumentException("GF(256) element out of range: " + value);
    }
    data[r][c] = value;
  }

  /** Returns a copy of row {@code r}. */
  int[] row(int r) {
    return data[r].clone();
  }

  /** Returns {@code this * other}. */
  Matrix times(Matrix other) {
    if (cols != other.rows) {
      throw new IllegalArgumentException(
          "cannot multiply " + rows + "x" + cols + " by " + other.rows + "x" + other.cols);
    }
    Matrix result = new Matrix(rows, other.cols);
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < other.cols; c++) {
        int sum = 0;
        for (int i = 0; i < cols; i++) {
          sum ^= GaloisField.multiply(data[r][i], other.data[i][c]);
        }
        result.data[r][c] = sum;
      }
    }
    return result;
  }

  /** Returns the sub-matrix of rows {@code [rowFrom, rowTo)} and columns {@code [colFrom, colTo)}. */
  Matrix subMatrix(int rowFrom, int rowTo, int colFrom, int colTo) {
    if (rowFrom < 0 || rowTo > rows || rowFrom >= rowTo || colFrom < 0 || colTo > cols
        || colFrom >= colTo) {
      throw new IllegalArgumentException(
          "bad sub-matrix [" + rowFrom + "," + rowTo + ")x[" + colFrom + "," + colTo + ") of "
              + rows + "x" + cols);
    }
    Matrix result = new Matrix(rowTo - rowFrom, colTo - colFrom);
    for (int r = rowFrom; r < rowTo; r++) {
      System.arraycopy(data[r], colFrom, result.data[r - rowFrom], 0, colTo - colFrom);
    }
    return result;
  }

  /** Returns the matrix made of the given rows of this one, in the given order. */
  Matrix selectRows(int[] rowIndexes) {
    Matrix result = new Matrix(rowIndexes.length, cols);
    for (int i = 0; i < rowIndexes.length; i++) {
      System.arraycopy(data[rowIndexes[i]], 0, result.data[i], 0, cols);
    }
    return result;
  }

  /**
   * Returns the inverse, computed by Gauss–Jordan elimination.
   *
   * @throws IllegalArgumentException if the matrix is not square
   * @throws ArithmeticException if the matrix is singular
   */
  Matrix invert() {
    if (rows != cols) {
      throw new IllegalArgumentException("only square matrices can be inverted, got "
          + rows + "x" + cols);
    }
    int n = rows;
    int[][] a = new int[n][];
    for (int r = 0; r < n; r++) {
      a[r] = data[r].clone();
    }
    Matrix inv = identity(n);
    int[][] b = inv.data;
    for (int col = 0; col < n; col++) {
      int pivot = col;
      while (pivot < n && a[pivot][col] == 0) {
        pivot++;
      }
      if (pivot == n) {
        throw new ArithmeticException("matrix is singular (no pivot in column " + col + ")");
      }
      if (pivot != col) {
        int[] t = a[pivot];
        a[pivot] = a[col];
        a[col] = t;
        t = b[pivot];
        b[pivot] = b[col];
        b[col] = t;
      }
      int scale = GaloisField.inverse(a[col][col]);
      if (scale != 1) {
        scaleRow(a[col], scale);
        scaleRow(b[col], scale);
      }
      for (int r = 0; r < n; r++) {
        int factor = a[r][col];
        if (r != col && factor != 0) {
          addScaledRow(a[r], a[col], factor);
          addScaledRow(b[r], b[col], factor);
        }
      }
    }
    return inv;
  }

  private static void scaleRow(int[] row, int factor) {
    for (int i = 0; i < row.length; i++) {
      row[i] = GaloisField.multiply(row[i], factor);
    }
  }

  /** {@code target += factor * source}. */
  private static void addScaledRow(int[] target, int[] source, int factor) {
    for (int i = 0; i < target.length; i++) {
      target[i] ^= GaloisField.multiply(source[i], factor);
    }
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Matrix && Arrays.deepEquals(data, ((Matrix) o).data);
  }

  @Override
  public int hashCode() {
    return Arrays.deepHashCode(data);
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (int[] row : data) {
      sb.append(Arrays.toString(row)).append('\n');
    }
    return sb.toString();
  }
}
