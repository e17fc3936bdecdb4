package io.dynamicfs.policy.mount;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.policy.trace.TraceReader;
import java.io.IOException;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code dynamicfs policy simulate MNT [--since D]} answers, executing nothing: the plan's accepted moves
 * (bytes per direction), how long they would take (at the budget's MB/s, else at the rate the audit log
 * measured, else unknown), the benefit the plan expects (bytes to be read in the next hour from the files it
 * promotes), and a replay of the reads of the last {@code since} from the ring log against the placement now
 * and the placement after the plan: the fast tier's byte hit ratio either way. The replay counts reads of
 * stored blocks (not holes or inline data) whatever served them then, cache hits included: it says which
 * tier would hold the bytes, not what the caches would have done.
 */
public record Simulation(String generatedAt, String since, String decider, int moves, int refused, long bytesToMove,
    long bytesToPromote, long bytesToDemote, Double estimatedSeconds, String estimateBasis, long expectedBytesNextHour,
    Replay replay, List<Plan.Proposal> proposals, List<String> notes) {

  /**
   * The reads since {@code from}: how many, their bytes, the bytes on the fast tier now and after the plan.
   * {@code logFrom} is the oldest access the ring log still holds (the window may reach past it).
   */
  public record Replay(String from, String logFrom, long reads, long bytes, long fastBytesNow, long fastBytesAfter,
      Double hitRatioNow, Double hitRatioAfter) {}

  /** Replays {@code log} (the mount's ring log) from {@code fromMillis} against {@code plan}'s placement. */
  static Replay replay(DynamicFileSystem fs, Plan plan, TraceReader log, long fromMillis) throws IOException {
    Map<Long, Integer> after = new HashMap<>(); // ino -> target tier of an accepted move
    List<Tier> tiers = fs.storage() == null ? List.of() : fs.storage().tiers();
    for (Plan.Proposal p : plan.proposals()) {
      if (!p.refused()) {
        for (int t = 0; t < tiers.size(); t++) {
          if (tiers.get(t).name().equals(p.to())) {
            after.put(p.ino(), t);
          }
        }
      }
    }
    MetadataStore meta = fs.metadata();
    Map<Long, Integer> where = new HashMap<>(); // extent key -> tier now (-1: not a stored block)
    long reads = 0;
    long bytes = 0;
    long fastNow = 0;
    long fastAfter = 0;
    long oldest = -1;
    while (log.next()) {
      if (oldest < 0) {
        oldest = log.time();
      }
      if (log.write() || log.time() < fromMillis) {
        continue;
      }
      long key = log.key();
      Integer tier = where.get(key);
      if (tier == null) {
        tier = tierOf(meta, MountTracker.inodeOf(key), key & ((1L << MountTracker.BLOCK_BITS) - 1));
        where.put(key, tier);
      }
      if (tier < 0) {
        continue;
      }
      reads++;
      bytes += log.bytes();
      if (tier == 0) {
        fastNow += log.bytes();
      }
      if (after.getOrDefault(MountTracker.inodeOf(key), tier) == 0) {
        fastAfter += log.bytes();
      }
    }
    return new Replay(Instant.ofEpochMilli(fromMillis).toString(), oldest < 0 ? null : Instant.ofEpochMilli(oldest).toString(),
        reads, bytes, fastNow, fastAfter, bytes == 0 ? null : MountPolicy.round((double) fastNow / bytes),
        bytes == 0 ? null : MountPolicy.round((double) fastAfter / bytes));
  }

  private static int tierOf(MetadataStore meta, long ino, long index) {
    try {
      Chunk c = meta.chunk(ino, index);
      if (c == null || c.isInline()) {
        return -1;
      }
      BlockRecord r = meta.block(c.id());
      return r == null ? -1 : r.tier();
    } catch (FsException e) {
      return -1;
    }
  }
}
