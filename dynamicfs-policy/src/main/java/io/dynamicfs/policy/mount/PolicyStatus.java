package io.dynamicfs.policy.mount;

import java.util.List;
import java.util.Map;

/**
 * What {@code dynamicfs policy status MNT} answers: the tracker (or why it is off), the rules in force, who
 * predicts, the hottest files, and what the engine does with all that (the executor, when enabled).
 */
public record PolicyStatus(boolean tracking, String trackingOff, MountTracker.Status tracker, RulesInForce rules,
    Decider decider, MountTraining.Status training, List<HotFile> hottestFiles, String actions,
    Execution execution) {

  /**
   * The executor (null when moves are not executed on this mount): whether it runs on its own and how often,
   * the audit log, the limits, runs so far, audited decisions by outcome and refusals by check, bytes moved,
   * ping-pong moves, the back-off (paused now, times, seconds, the foreground at the last look) and the last run.
   */
  public record Execution(boolean automatic, Long intervalSeconds, String auditLog, String limits, long runs,
      Map<String, Long> decisions, Map<String, Long> refusals, long bytesMoved, long pingPongs, boolean paused,
      long pauses, double pausedSeconds, double foregroundLatencyMillis, long foregroundInFlight, String lastRun) {}

  /** The rules file in force: where from, each rule, the limits. */
  public record RulesInForce(String source, List<RuleLine> rules, String schedule, String budget,
      Map<String, String> headroom, Map<String, String> capacity, String precedence) {}

  public record RuleLine(String name, int line, String rule) {}

  /**
   * Who predicts: a model that passed the gate, or a heuristic; the horizon it predicts for; its PR-AUC on the
   * held-out window of the round that made it decide (null before any round).
   */
  public record Decider(String kind, String name, long horizonSeconds, Double heldOutPrAuc, String note) {}

  /** A file among the most accessed lately (by the 1 h counter). */
  public record HotFile(long ino, String path, double count1h, long accesses, String lastAccess) {}
}
