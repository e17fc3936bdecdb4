package io.dynamicfs.policy.mount;

import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.core.storage.TieredStore;
import io.dynamicfs.policy.rules.PolicyRules;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;

/**
 * Plans the compact action: the engine's background compaction rewrites a segment only once less than half of
 * it is live (space amplification up to 2×); the policy goes further when it is allowed to act, rewriting the
 * sealed segments under {@value #LIVE_BELOW} live (at most 1.33×), so the tiers, and the fast one first of all,
 * give back what deleted and moved files left behind. A tier is proposed when that reclaims at least
 * {@value #MIN_RECLAIM_MIB} MiB; each proposal carries the schedule check, and the benefit check that the space
 * given back is at least a third of the bytes copied (which the live share under 0.75 guarantees).
 */
final class Compacting {
  static final double LIVE_BELOW = 0.75;
  static final long MIN_RECLAIM_MIB = 16;

  private Compacting() {}

  static List<Plan.Compaction> plan(TieredStore storage, PolicyRules rules, long nowMillis, ZoneId zone) {
    List<Plan.Compaction> out = new ArrayList<>();
    if (storage == null) {
      return out;
    }
    for (Tier t : storage.tiers()) {
      int segments = 0;
      long dead = 0;
      long live = 0;
      for (SegmentStore.SegmentUsage u : t.segmentUsage()) {
        if (!u.active() && u.fileBytes() > 0 && (double) u.liveBytes() / u.fileBytes() < LIVE_BELOW) {
          segments++;
          dead += u.deadBytes();
          live += u.liveBytes();
        }
      }
      if (dead < (MIN_RECLAIM_MIB << 20)) {
        continue;
      }
      List<Plan.Check> checks = new ArrayList<>();
      boolean inWindow = rules.schedule().allows(java.time.Instant.ofEpochMilli(nowMillis).atZone(zone).toLocalDateTime());
      checks.add(new Plan.Check("schedule", inWindow, inWindow ? "may run now (" + rules.schedule().describe() + ")"
          : "outside the schedule (" + rules.schedule().describe() + ")"));
      boolean pays = 3 * dead >= live;
      checks.add(new Plan.Check("benefit", pays, Planner.mib(dead) + " given back for " + Planner.mib(live)
          + " copied" + (pays ? "" : ": under a third")));
      out.add(new Plan.Compaction(t.name(), segments, dead, live, LIVE_BELOW, checks, !inWindow || !pays));
    }
    return out;
  }
}
