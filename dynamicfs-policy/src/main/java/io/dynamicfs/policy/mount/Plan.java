package io.dynamicfs.policy.mount;

import java.util.List;

/**
 * What {@code dynamicfs policy plan MNT} answers: the moves the engine would make now, each with the safety
 * checks it passed or failed. Nothing is executed.
 *
 * @param decider         who ranked the files the rules leave to the model ({@code model vN} or {@code heuristic count})
 * @param tiers           the tiers' space as the plan counts it: capacity, free, the headroom the rules keep
 * @param proposals       rule-driven moves, then demotions, then promotions, in the order they would run
 * @param filesConsidered regular files with stored blocks
 * @param filesHeld       files a never_move rule holds, or already where they belong
 * @param compactions     the tiers whose dead space to reclaim after the moves (empty until {@link #with})
 * @param warm            the blocks to read ahead into the caches last (null until {@link #with})
 */
public record Plan(String generatedAt, String decider, List<TierSpace> tiers, List<Proposal> proposals,
    int filesConsidered, int filesHeld, List<String> notes, List<Compaction> compactions, Warm warm) {

  public Plan(String generatedAt, String decider, List<TierSpace> tiers, List<Proposal> proposals,
      int filesConsidered, int filesHeld, List<String> notes) {
    this(generatedAt, decider, tiers, proposals, filesConsidered, filesHeld, notes, List.of(), null);
  }

  /** This plan's moves followed by {@code c} and {@code w}. */
  public Plan with(List<Compaction> c, Warm w) {
    return new Plan(generatedAt, decider, tiers, proposals, filesConsidered, filesHeld, notes, c, w);
  }

  /**
   * The compact action on one tier: its sealed segments whose live share is under {@code liveBelow} hold
   * {@code reclaimBytes} of dead records and {@code copyBytes} of live ones (what compacting them copies);
   * {@code refused} with the failed checks when it would not run now.
   */
  public record Compaction(String tier, int segments, long reclaimBytes, long copyBytes, double liveBelow,
      List<Check> checks, boolean refused) {}

  /**
   * The warm action: the blocks the decider expects to be read within the horizon ({@code rule}), best first,
   * as many as fit in {@code budgetBytes} (half the cache of {@code cacheBytes}); {@code eligible} qualified in
   * all; the first files' paths; why nothing is warmed ({@code note}) when there is nothing to warm into.
   */
  public record Warm(long cacheBytes, long budgetBytes, int eligible, int blocks, int files, long bytes, String rule,
      List<String> paths, @com.fasterxml.jackson.annotation.JsonIgnore List<WarmBlock> toRead, String note) {
    static Warm none(String why) {
      return new Warm(0, 0, 0, 0, 0, 0, null, List.of(), List.of(), why);
    }
  }

  /** A block to read ahead: file, index, the stored block, its bytes and its score. */
  public record WarmBlock(long ino, long index, io.dynamicfs.core.block.BlockId id, int bytes, double score) {}

  /** A tier as the plan sees it (capacity and free space of its devices' filesystems, scaled by its redundancy). */
  public record TierSpace(String name, long capacityBytes, long freeBytes, long headroomBytes) {}

  /**
   * One proposed move of a whole file: {@code action} is promote (to the fast tier), demote (to the slow one)
   * or move (a rule's tier); {@code bytes} the stored bytes not yet on {@code to}; {@code reason} the rule or
   * the ranking; {@code refused} when a check failed (then it would not run); {@code expectedBytes} the benefit
   * (bytes expected to be read from the file in the next hour); {@code prediction} the model's probability (null
   * when the heuristic ranks); {@code features} the hottest block's features (null when untracked).
   */
  public record Proposal(String path, long ino, String action, String from, String to, long bytes, String reason,
      Double score, List<Check> checks, boolean refused, Long expectedBytes, Double prediction,
      java.util.Map<String, Double> features) {

    /** Each failed check as {@code name: detail}. */
    public List<String> failed() {
      return checks.stream().filter(c -> !c.ok()).map(c -> c.name() + ": " + c.detail()).toList();
    }
  }

  /** One safety check: its name, whether it passed, and why. */
  public record Check(String name, boolean ok, String detail) {}
}
