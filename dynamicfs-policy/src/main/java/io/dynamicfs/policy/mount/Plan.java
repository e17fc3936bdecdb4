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
 */
public record Plan(String generatedAt, String decider, List<TierSpace> tiers, List<Proposal> proposals,
    int filesConsidered, int filesHeld, List<String> notes) {

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
