package io.dynamicfs.cache;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.dynamicfs.core.block.BlockId;
import java.util.Locale;
import java.util.function.DoubleSupplier;

/**
 * Which blocks a miss may write into the disk cache (L2). A write costs disk bandwidth and pushes
 * something else out, so a one-off scan should not flush a hot working set.
 *
 * <ul>
 *   <li>{@code always}: every miss is admitted.
 *   <li>{@code hot-only}: a block is admitted on its second miss; the first only leaves its id in a
 *       bounded "ghost" set (ids only, no data), so a block read once is never written.
 *   <li>{@code sampled}: each miss is admitted with probability 1/{@value #SAMPLE_ONE_IN}, so a block read
 *       often gets in after a few misses and a scan writes about 1 block in {@value #SAMPLE_ONE_IN}.
 * </ul>
 */
public enum Admission {
  ALWAYS,
  HOT_ONLY,
  SAMPLED;

  static final int SAMPLE_ONE_IN = 8;

  /** Parses the CLI spelling ({@code always}, {@code hot-only}, {@code sampled}). */
  public static Admission parse(String s) {
    for (Admission a : values()) {
      if (a.cliName().equals(s.toLowerCase(Locale.ROOT))) {
        return a;
      }
    }
    throw new IllegalArgumentException("unknown cache admission policy '" + s + "' (always, hot-only, sampled)");
  }

  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** A fresh decision-maker for one cache; {@code ghosts} bounds hot-only's memory of first misses. */
  Filter newFilter(long ghosts, DoubleSupplier random) {
    return switch (this) {
      case ALWAYS -> id -> true;
      case SAMPLED -> id -> random.getAsDouble() * SAMPLE_ONE_IN < 1;
      case HOT_ONLY -> new Ghosts(ghosts);
    };
  }

  /** Decides, per miss, whether the block is written into the cache. Thread-safe. */
  @FunctionalInterface
  interface Filter {
    boolean admit(BlockId id);
  }

  /** The ids of blocks missed once (Caffeine-bounded, so the oldest ghosts fade). */
  private static final class Ghosts implements Filter {
    private final Cache<BlockId, Boolean> seen;

    Ghosts(long max) {
      seen = Caffeine.newBuilder().maximumSize(max).executor(Runnable::run).build();
    }

    @Override
    public boolean admit(BlockId id) {
      if (seen.asMap().remove(id) != null) {
        return true;
      }
      seen.put(id, Boolean.TRUE);
      return false;
    }
  }
}
