package io.dynamicfs.policy.mount;

import java.util.List;
import java.util.Map;

/**
 * What {@code dynamicfs policy status MNT} answers: the tracker (or why it is off), the rules in force, who
 * predicts, the hottest files, and what the engine does with all that (so far: nothing is moved).
 */
public record PolicyStatus(boolean tracking, String trackingOff, MountTracker.Status tracker, RulesInForce rules,
    Decider decider, List<HotFile> hottestFiles, String actions) {

  /** The rules file in force: where from, each rule, the limits. */
  public record RulesInForce(String source, List<RuleLine> rules, String schedule, String budget,
      Map<String, String> headroom, String precedence) {}

  public record RuleLine(String name, int line, String rule) {}

  /** Who predicts: a model that passed the gate, or the heuristic; the horizon it predicts for. */
  public record Decider(String kind, String name, long horizonSeconds, String note) {}

  /** A file among the most accessed lately (by the 1 h counter). */
  public record HotFile(long ino, String path, double count1h, long accesses, String lastAccess) {}
}
