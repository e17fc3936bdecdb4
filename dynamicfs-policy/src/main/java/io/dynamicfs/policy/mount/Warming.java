package io.dynamicfs.policy.mount;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.meta.PathIndex;
import io.dynamicfs.policy.model.Features;
import io.dynamicfs.policy.model.Predictor;
import io.dynamicfs.policy.track.AccessTable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Plans the warm action: the blocks most likely to be read within the horizon, read ahead through the mount's
 * caches (L1 in memory, L2 on a fast disk when there is one) so that their next reads are cache hits, e.g. after
 * a remount left the caches cold.
 *
 * <p>A block qualifies when the decider gives it at least {@value #MIN_PROBABILITY} (a model, or a calibrated
 * heuristic) or, while the access count decides uncalibrated, when it was read at least
 * {@value #MIN_READS} times; the best go first until half the cache ({@link #BUDGET_SHARE}) is spoken for, so
 * warming never pushes out more than half of what the cache holds. Inline blocks and holes are left out (no
 * read reaches a store for them). Nothing is read here.
 */
final class Warming {
  static final double MIN_PROBABILITY = 0.5;
  static final int MIN_READS = 2;
  static final double BUDGET_SHARE = 0.5;
  static final int FILES_SHOWN = 10;

  private Warming() {}

  /** A block to warm: file, block index, the store's block and its stored bytes, and its score. */
  record Candidate(long ino, long index, double score) {}

  /**
   * The warm part of a plan for a cache of {@code cacheBytes} (0: none, so nothing to warm), read from the
   * tracker under its lock; block lists and paths read after ({@code paths}: an index already scanned for this
   * plan, or null to scan one if needed).
   */
  static Plan.Warm plan(DynamicFileSystem fs, MountTracker tracker, Predictor predictor, long horizonMillis, long now,
      long cacheBytes, PathIndex paths) throws java.io.IOException {
    if (cacheBytes <= 0) {
      return Plan.Warm.none("this mount has no block cache to warm (--cache-memory 0 and no --cache-dir)");
    }
    if (tracker == null) {
      return Plan.Warm.none("tracking is off: nothing to predict from");
    }
    long budget = (long) (cacheBytes * BUDGET_SHARE);
    List<Candidate> found = tracker.query(t -> {
      Features features = new Features(t, horizonMillis);
      double[] x = new double[Features.COUNT];
      AccessTable ex = t.extents();
      List<Candidate> out = new ArrayList<>();
      for (int s = 0; s < ex.slots(); s++) {
        if (!ex.occupied(s)) {
          continue;
        }
        long key = ex.key(s);
        long ino = MountTracker.inodeOf(key);
        features.extract(ino, key, now, x);
        double score = predictor.score(x);
        boolean hot = predictor.probability() ? score >= MIN_PROBABILITY
            : ex.accesses(s) - ex.writes(s) >= MIN_READS;
        if (hot) {
          out.add(new Candidate(ino, key & ((1L << MountTracker.BLOCK_BITS) - 1), score));
        }
      }
      return out;
    });
    found.sort(Comparator.comparingDouble((Candidate c) -> -c.score()));
    List<Plan.WarmBlock> blocks = new ArrayList<>();
    Set<Long> files = new HashSet<>();
    long bytes = 0;
    int eligible = 0;
    for (Candidate c : found) {
      Chunk chunk;
      try {
        chunk = fs.metadata().chunk(c.ino(), c.index());
      } catch (FsException e) { // the file is gone
        continue;
      }
      if (chunk == null || chunk.isInline()) {
        continue;
      }
      eligible++;
      if (bytes + chunk.length() > budget) {
        continue;
      }
      bytes += chunk.length();
      files.add(c.ino());
      blocks.add(new Plan.WarmBlock(c.ino(), c.index(), chunk.id(), chunk.length(), MountPolicy.round(c.score())));
    }
    List<String> shown = new ArrayList<>();
    if (!blocks.isEmpty()) {
      if (paths == null) {
        paths = PathIndex.scan(fs.metadata());
      }
      for (Plan.WarmBlock b : blocks) {
        String p = paths.pathOf(b.ino());
        if (shown.size() < FILES_SHOWN && !shown.contains(p)) {
          shown.add(p);
        }
      }
    }
    String rule = predictor.probability()
        ? "blocks " + predictor.describe() + " gives at least " + MIN_PROBABILITY + " to be read within the horizon"
        : "blocks read at least " + MIN_READS + " times (" + predictor.describe() + " decides, uncalibrated)";
    return new Plan.Warm(cacheBytes, budget, eligible, blocks.size(), files.size(), bytes, rule, shown, blocks, null);
  }
}
