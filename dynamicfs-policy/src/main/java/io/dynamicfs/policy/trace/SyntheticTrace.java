package io.dynamicfs.policy.trace;

import java.util.SplittableRandom;

/**
 * Seeded synthetic workloads that stress what a placement policy must get right. Every key's size is a
 * deterministic function of the key (4 KiB to 64 KiB, or one fixed block size), so a replay is identical.
 * <ul>
 *   <li>{@link Kind#ZIPF_SHIFT}: Zipf-distributed reads whose hot set moves to other keys every
 *       {@code phase} accesses (adapting matters);
 *   <li>{@link Kind#SCAN_HOT}: a Zipf hot set interleaved with long sequential scans of keys read once
 *       (scan resistance matters);
 *   <li>{@link Kind#LOOP}: a cyclic walk over every key (a loop larger than any fast tier evaluated:
 *       recency-only policies thrash, the optimum keeps a fixed part);
 *   <li>{@link Kind#PERIODIC}: two hot sets taking turns, phase after phase, over uniform background reads
 *       (keeping what comes back matters).
 * </ul>
 */
public final class SyntheticTrace implements TraceReader {
  /** The workload shapes. */
  public enum Kind {
    ZIPF_SHIFT("zipf-shift"), SCAN_HOT("scan-hot"), LOOP("loop"), PERIODIC("periodic");

    private final String id;

    Kind(String id) {
      this.id = id;
    }

    /** The name used in {@code synthetic:NAME}. */
    public String id() {
      return id;
    }
  }

  /** A workload: shape, length, key universe, phase length, Zipf exponent, seed, sizes. */
  public record Spec(Kind kind, long accesses, int universe, long phase, double zipfExponent, long seed,
      boolean uniformSizes) {
    public Spec {
      if (accesses <= 0 || universe < 16 || phase <= 0 || zipfExponent <= 0) {
        throw new IllegalArgumentException("synthetic trace needs accesses > 0, universe >= 16, phase > 0, "
            + "exponent > 0: " + accesses + "/" + universe + "/" + phase + "/" + zipfExponent);
      }
    }

    /** The standard shape used by {@code synthetic:NAME}: 400 k accesses over 20 k keys, 8 phases. */
    public static Spec standard(Kind kind, long seed) {
      return new Spec(kind, 400_000, 20_000, 50_000, 0.9, seed, false);
    }

    /** The same workload, {@code n} accesses long, phases scaled along. */
    public Spec withLength(long n, int keys) {
      return new Spec(kind, n, keys, Math.max(1, phase * n / accesses), zipfExponent, seed, uniformSizes);
    }

    /** The same workload with every key one fixed-size block. */
    public Spec withUniformSizes() {
      return new Spec(kind, accesses, universe, phase, zipfExponent, seed, true);
    }
  }

  /** A fixed block size used for uniform keys (and as the unit of the varying ones). */
  public static final int BLOCK = 4096;

  private final Spec spec;
  private final SplittableRandom random;
  private final double[] zipfCdf;
  private final int hotKeys;
  private long time = -1;
  private long key;
  private long scanNext;
  private long scanLeft;
  private long shiftOffset;

  public SyntheticTrace(Spec spec) {
    this.spec = spec;
    this.random = new SplittableRandom(spec.seed());
    this.hotKeys = spec.kind() == Kind.SCAN_HOT || spec.kind() == Kind.PERIODIC
        ? Math.max(8, spec.universe() / 4) : spec.universe();
    this.zipfCdf = zipfCdf(hotKeys, spec.zipfExponent());
    this.scanNext = spec.universe(); // scanned keys lie above the hot universe and are never re-read
  }

  private static double[] zipfCdf(int n, double s) {
    double[] cdf = new double[n];
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += 1 / Math.pow(i + 1, s);
      cdf[i] = sum;
    }
    for (int i = 0; i < n; i++) {
      cdf[i] /= sum;
    }
    return cdf;
  }

  private int zipfRank() {
    double u = random.nextDouble();
    int lo = 0;
    int hi = zipfCdf.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (zipfCdf[mid] < u) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** A fixed pseudo-random permutation-like scatter of ranks over the universe (bijective: odd multiplier). */
  private long scatter(long rank, int n) {
    return Math.floorMod(rank * 0x9E3779B1L + 12345, n);
  }

  @Override
  public boolean next() {
    if (time + 1 >= spec.accesses()) {
      return false;
    }
    time++;
    int n = spec.universe();
    switch (spec.kind()) {
      case ZIPF_SHIFT -> {
        if (time > 0 && time % spec.phase() == 0) {
          shiftOffset += 1 + random.nextInt(n - 1); // the hot ranks land on other keys
        }
        key = scatter(zipfRank() + shiftOffset, n);
      }
      case SCAN_HOT -> {
        if (scanLeft == 0 && random.nextDouble() < 0.0005) {
          scanLeft = n / 2 + random.nextInt(n); // a long scan of fresh keys
        }
        if (scanLeft > 0 && random.nextBoolean()) {
          scanLeft--;
          key = scanNext++;
        } else {
          key = scatter(zipfRank(), hotKeys);
        }
      }
      case LOOP -> key = time % n;
      case PERIODIC -> {
        long phaseNo = time / spec.phase();
        if (random.nextDouble() < 0.2) {
          key = random.nextInt(n); // background noise over the whole universe
        } else {
          long base = (phaseNo % 2 == 0) ? 0 : n / 2; // set A and set B take turns
          key = base + scatter(zipfRank(), hotKeys);
        }
      }
      default -> throw new AssertionError(spec.kind());
    }
    return true;
  }

  @Override
  public long time() {
    return time;
  }

  @Override
  public long key() {
    return key;
  }

  @Override
  public int bytes() {
    if (spec.uniformSizes()) {
      return BLOCK;
    }
    long h = key * 0xBF58476D1CE4E5B9L;
    h ^= h >>> 31;
    return BLOCK << (int) Math.floorMod(h, 5); // 4 KiB .. 64 KiB
  }

  @Override
  public boolean write() {
    return false;
  }

  @Override
  public String name() {
    return "synthetic:" + spec.kind().id();
  }

  @Override
  public void close() {
  }
}
