package io.dynamicfs.policy.mount;

import java.util.List;

/**
 * What {@code dynamicfs policy explain PATH} answers: where a file's blocks are, its access figures, the
 * model's (or heuristic's) prediction with what drove it, the rules that matched, and the decisions. Plain
 * records, written as JSON by the admin API (snake_case) and rendered as text by the command.
 */
public record Explanation(String path, long ino, long size, int blockSize, Placement placement, Access access,
    List<BlockAccess> blocks, int blocksTracked, Prediction prediction, Rules rules, String decisions) {

  /** The file's blocks: counts, and runs of consecutive blocks in one place ({@code extents}). */
  public record Placement(long blocks, long storedBlocks, long inlineBlocks, long holeBlocks, List<Extent> extents,
      boolean extentsTruncated) {}

  /**
   * Blocks {@code firstBlock..lastBlock} (inclusive) in one place: a tier's name ({@code tier #N} where the
   * mount does not know the names), {@code inline} (in the metadata) or {@code hole}; their plain bytes.
   */
  public record Extent(long firstBlock, long lastBlock, String location, long bytes) {}

  /** One decayed access counter: its half-life ({@code 1m}, {@code 1h}, {@code 1d}) and value now. */
  public record Counter(String halfLife, double value) {}

  /**
   * A file's or block's figures from the tracker; {@code tracked} false (and the rest empty) when it has no
   * entry: never accessed since tracking began, or evicted as cold.
   */
  public record Access(boolean tracked, String firstAccess, String lastAccess, Double secondsSinceLastAccess,
      long accesses, long writes, long bytes, double sequentialRatio, List<Counter> counters) {
    static final Access UNTRACKED = new Access(false, null, null, null, 0, 0, 0, 0, List.of());
  }

  /** A tracked block: its index, where it is, its figures and the prediction for it. */
  public record BlockAccess(long index, String location, Access access, Double probability, double score) {}

  /** One feature's value and its term in the model's log-odds (null while a heuristic decides). */
  public record Contribution(String feature, double value, Double contribution) {}

  /**
   * P(read within the horizon): who decided ({@code model vN} or {@code heuristic NAME}), the probability
   * (null while an uncalibrated heuristic decides: its score is then only an order), the raw score, the block
   * it is for (the file's hottest), the decider's PR-AUC on the held-out window of the gate round that made
   * it decide (null before any round), and the features ordered by their contribution (or the heuristic's own).
   */
  public record Prediction(long horizonSeconds, String decider, Double probability, double score, Long block,
      Double heldOutPrAuc, List<Contribution> contributions, String note) {}

  /** Every rule whose glob matches the path, in file order, and what the rules decide. */
  public record Rules(String source, List<RuleMatch> matches, String decision) {}

  /** A matching rule: whether its condition holds now and whether it is the one that decides. */
  public record RuleMatch(String name, int line, String rule, boolean applies, boolean decides) {}
}
