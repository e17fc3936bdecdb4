package io.dynamicfs.policy.model;

import java.util.Arrays;

/**
 * Prediction metrics over scored, labelled rows. Accuracy is deliberately absent: most data is never read
 * again, so "nothing is hot" scores high. Ranking metrics treat tied scores as one group (no credit for
 * an arbitrary tie order).
 */
public final class Metrics {
  private Metrics() {}

  /** Share of positive labels. */
  public static double positiveRate(boolean[] y, int n) {
    int pos = 0;
    for (int i = 0; i < n; i++) {
      if (y[i]) {
        pos++;
      }
    }
    return n == 0 ? Double.NaN : (double) pos / n;
  }

  private static Integer[] orderByScoreDesc(double[] s, int n) {
    Integer[] idx = new Integer[n];
    for (int i = 0; i < n; i++) {
      idx[i] = i;
    }
    Arrays.sort(idx, (a, b) -> Double.compare(s[b], s[a]));
    return idx;
  }

  /** Area under the ROC curve (Mann-Whitney, ties count half); NaN without both classes. */
  public static double rocAuc(double[] s, boolean[] y, int n) {
    Integer[] idx = orderByScoreDesc(s, n);
    long pos = 0;
    long neg = 0;
    double area = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      long gp = 0;
      long gn = 0;
      while (j < n && s[idx[j]] == s[idx[i]]) {
        if (y[idx[j]]) {
          gp++;
        } else {
          gn++;
        }
        j++;
      }
      area += gn * (pos + gp / 2.0); // negatives in this group rank below every positive seen so far
      pos += gp;
      neg += gn;
      i = j;
    }
    return pos == 0 || neg == 0 ? Double.NaN : area / ((double) pos * neg);
  }

  /** Area under the precision-recall curve as average precision (tied groups enter together); NaN without positives. */
  public static double prAuc(double[] s, boolean[] y, int n) {
    Integer[] idx = orderByScoreDesc(s, n);
    long totalPos = 0;
    for (int i = 0; i < n; i++) {
      if (y[i]) {
        totalPos++;
      }
    }
    if (totalPos == 0) {
      return Double.NaN;
    }
    double ap = 0;
    long tp = 0;
    long seen = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      long gp = 0;
      while (j < n && s[idx[j]] == s[idx[i]]) {
        if (y[idx[j]]) {
          gp++;
        }
        j++;
      }
      tp += gp;
      seen += j - i;
      ap += (double) gp / totalPos * ((double) tp / seen);
      i = j;
    }
    return ap;
  }

  /** Mean squared error of probabilities {@code p}. */
  public static double brier(double[] p, boolean[] y, int n) {
    double sum = 0;
    for (int i = 0; i < n; i++) {
      double d = p[i] - (y[i] ? 1 : 0);
      sum += d * d;
    }
    return n == 0 ? Double.NaN : sum / n;
  }

  /**
   * Precision of the highest-scored rows that fit in {@code fraction} of all rows' bytes: of what a fast
   * tier of that share would hold by this ranking, the share of bytes actually read within the horizon.
   */
  public static double precisionAtCapacity(double[] s, boolean[] y, int[] bytes, int n, double fraction) {
    Integer[] idx = orderByScoreDesc(s, n);
    long total = 0;
    for (int i = 0; i < n; i++) {
      total += bytes[i];
    }
    double budget = total * fraction;
    long taken = 0;
    long hit = 0;
    for (int k = 0; k < n && taken + bytes[idx[k]] <= budget; k++) {
      taken += bytes[idx[k]];
      if (y[idx[k]]) {
        hit += bytes[idx[k]];
      }
    }
    return taken == 0 ? Double.NaN : (double) hit / taken;
  }
}
