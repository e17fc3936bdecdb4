package io.dynamicfs.policy.model;

import java.util.Arrays;

/**
 * A logistic regression over standardised features: {@code P = sigmoid(b + sum w_i (x_i - mean_i) / sd_i)}.
 * Small enough to read: {@link #contributions} gives each feature's share of the log-odds, which is what
 * {@code explain} prints. Immutable once trained; {@link #predict} allocates nothing.
 *
 * <p>Trained by {@link #train}: Newton's method (iteratively reweighted least squares) with an L2 penalty
 * on the weights, from zero, a fixed number of steps at most: deterministic, no learning rate to tune, and
 * exact for the dozen features it has. Constant features get weight zero.
 */
public final class LogisticModel {
  private final double bias;
  private final double[] weights;
  private final double[] mean;
  private final double[] scale;
  private final int version;

  LogisticModel(double bias, double[] weights, double[] mean, double[] scale, int version) {
    this.bias = bias;
    this.weights = weights.clone();
    this.mean = mean.clone();
    this.scale = scale.clone();
    this.version = version;
  }

  /**
   * Fits a model to rows {@code x[0..n)} with labels {@code y}. {@code lambda} is the L2 penalty (on
   * standardised weights, not the bias); {@code version} names the model in logs and audits.
   */
  public static LogisticModel train(double[][] x, boolean[] y, int n, double lambda, int version) {
    if (n == 0) {
      throw new IllegalArgumentException("no training rows");
    }
    int d = x[0].length;
    double[] mean = new double[d];
    double[] scale = new double[d];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        mean[j] += x[i][j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= n;
    }
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < d; j++) {
        double c = x[i][j] - mean[j];
        scale[j] += c * c;
      }
    }
    boolean[] constant = new boolean[d];
    for (int j = 0; j < d; j++) {
      scale[j] = Math.sqrt(scale[j] / n);
      if (scale[j] < 1e-9) {
        constant[j] = true;
        scale[j] = 1;
      }
    }
    int p = d + 1; // bias last
    double[] beta = new double[p];
    double[] z = new double[p];
    double[] grad = new double[p];
    double[][] hess = new double[p][p];
    for (int iter = 0; iter < 30; iter++) {
      Arrays.fill(grad, 0);
      for (double[] row : hess) {
        Arrays.fill(row, 0);
      }
      for (int i = 0; i < n; i++) {
        standardise(x[i], mean, scale, constant, z);
        double eta = beta[d];
        for (int j = 0; j < d; j++) {
          eta += beta[j] * z[j];
        }
        double pr = sigmoid(eta);
        double r = (y[i] ? 1 : 0) - pr;
        double w = Math.max(pr * (1 - pr), 1e-9);
        for (int j = 0; j < p; j++) {
          grad[j] += r * z[j];
          for (int k = 0; k <= j; k++) {
            hess[j][k] += w * z[j] * z[k];
          }
        }
      }
      for (int j = 0; j < p; j++) {
        for (int k = 0; k < j; k++) {
          hess[k][j] = hess[j][k];
        }
      }
      for (int j = 0; j < d; j++) {
        grad[j] -= lambda * beta[j];
        hess[j][j] += lambda;
        if (constant[j]) {
          hess[j][j] += 1; // keeps the system solvable; its gradient is zero so its weight stays zero
        }
      }
      hess[d][d] += 1e-9;
      double[] step = solve(hess, grad);
      double size = 0;
      for (int j = 0; j < p; j++) {
        beta[j] += step[j];
        size = Math.max(size, Math.abs(step[j]));
      }
      if (size < 1e-7) {
        break;
      }
    }
    double[] weights = Arrays.copyOf(beta, d);
    for (int j = 0; j < d; j++) {
      if (constant[j]) {
        weights[j] = 0;
      }
    }
    return new LogisticModel(beta[d], weights, mean, scale, version);
  }

  private static void standardise(double[] x, double[] mean, double[] scale, boolean[] constant, double[] z) {
    for (int j = 0; j < x.length; j++) {
      z[j] = constant[j] ? 0 : (x[j] - mean[j]) / scale[j];
    }
    z[x.length] = 1;
  }

  /** Solves {@code a x = b} by Gaussian elimination with partial pivoting (a is small and positive definite). */
  private static double[] solve(double[][] a, double[] b) {
    int n = b.length;
    double[][] m = new double[n][];
    for (int i = 0; i < n; i++) {
      m[i] = Arrays.copyOf(a[i], n + 1);
      m[i][n] = b[i];
    }
    for (int c = 0; c < n; c++) {
      int piv = c;
      for (int r = c + 1; r < n; r++) {
        if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) {
          piv = r;
        }
      }
      double[] t = m[c];
      m[c] = m[piv];
      m[piv] = t;
      for (int r = c + 1; r < n; r++) {
        double f = m[r][c] / m[c][c];
        for (int k = c; k <= n; k++) {
          m[r][k] -= f * m[c][k];
        }
      }
    }
    double[] x = new double[n];
    for (int r = n - 1; r >= 0; r--) {
      double s = m[r][n];
      for (int k = r + 1; k < n; k++) {
        s -= m[r][k] * x[k];
      }
      x[r] = s / m[r][r];
    }
    return x;
  }

  static double sigmoid(double eta) {
    return eta >= 0 ? 1 / (1 + Math.exp(-eta)) : Math.exp(eta) / (1 + Math.exp(eta));
  }

  /** P(read within the horizon) for feature vector {@code x}. */
  public double predict(double[] x) {
    double eta = bias;
    for (int j = 0; j < weights.length; j++) {
      eta += weights[j] * (x[j] - mean[j]) / scale[j];
    }
    return sigmoid(eta);
  }

  /** {@link #predict} of a one-feature model (a calibration), without an array. */
  public double predictOne(double x) {
    return sigmoid(bias + weights[0] * (x - mean[0]) / scale[0]);
  }

  /** Each feature's term in the log-odds for {@code x} (they add up, with {@link #bias()}, to the logit). */
  public double[] contributions(double[] x) {
    double[] c = new double[weights.length];
    for (int j = 0; j < weights.length; j++) {
      c[j] = weights[j] * (x[j] - mean[j]) / scale[j];
    }
    return c;
  }

  public double bias() {
    return bias;
  }

  /** Weights on standardised features. */
  public double[] weights() {
    return weights.clone();
  }

  /** The features' means the weights are standardised by. */
  public double[] means() {
    return mean.clone();
  }

  /** The features' standard deviations the weights are standardised by (1 for a constant feature). */
  public double[] scales() {
    return scale.clone();
  }

  public int version() {
    return version;
  }
}
