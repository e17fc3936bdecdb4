package io.dynamicfs.policy.model;

import io.dynamicfs.policy.track.AccessTable;
import io.dynamicfs.policy.track.AccessTracker;
import java.util.List;

/**
 * The hotness model's inputs for one extent at one moment, read from the {@link AccessTracker}: log-scaled
 * recency and frequency of the extent, its size and access pattern, and aggregates of its file (so a new
 * extent of a busy file starts warm). Times are scaled by the horizon {@code H} the model predicts for.
 * Computing them allocates nothing: the caller passes the output array.
 */
public final class Features {
  /** Feature names, in vector order. */
  public static final List<String> NAMES = List.of("extent_recency", "extent_count_short", "extent_count_mid",
      "extent_count_long", "extent_accesses", "extent_size", "extent_sequential", "extent_reuse_span",
      "extent_write_share", "file_count_mid", "file_recency");
  public static final int COUNT = NAMES.size();
  /** The recency an unknown key gets, in horizons. */
  static final double UNKNOWN_AGE = 64;

  private final AccessTracker tracker;
  private final double horizon;

  public Features(AccessTracker tracker, double horizon) {
    if (!(horizon > 0)) {
      throw new IllegalArgumentException("horizon must be positive: " + horizon);
    }
    this.tracker = tracker;
    this.horizon = horizon;
  }

  /** Fills {@code out} (length {@link #COUNT}) for {@code extent} of {@code file} at {@code now}. */
  public void extract(long file, long extent, long now, double[] out) {
    AccessTable ex = tracker.extents();
    int counters = ex.counters();
    int mid = Math.min(1, counters - 1);
    int s = ex.find(extent);
    if (s < 0) {
      out[0] = Math.log1p(UNKNOWN_AGE);
      for (int i = 1; i <= 9; i++) {
        out[i] = 0;
      }
    } else {
      out[0] = Math.log1p((now - ex.lastAccess(s)) / horizon);
      out[1] = Math.log1p(ex.counter(s, 0, now));
      out[2] = Math.log1p(ex.counter(s, mid, now));
      out[3] = Math.log1p(ex.counter(s, counters - 1, now));
      out[4] = Math.log1p(ex.accesses(s));
      out[5] = Math.log1p(ex.lastSize(s) / 4096.0);
      out[6] = ex.sequentialRatio(s);
      out[7] = Math.log1p((ex.lastAccess(s) - ex.firstAccess(s)) / horizon);
      out[8] = ex.accesses(s) == 0 ? 0 : (double) ex.writes(s) / ex.accesses(s);
    }
    AccessTable fs = tracker.files();
    int f = fs.find(file);
    if (f < 0) {
      out[9] = 0;
      out[10] = Math.log1p(UNKNOWN_AGE);
    } else {
      out[9] = Math.log1p(fs.counter(f, mid, now));
      out[10] = Math.log1p((now - fs.lastAccess(f)) / horizon);
    }
  }

  public double horizon() {
    return horizon;
  }
}
