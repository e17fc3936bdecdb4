package io.dynamicfs.policy.act;

import java.util.List;
import java.util.Map;

/**
 * One line of the audit log (JSON, snake_case keys, absent values left out).
 *
 * @param time          when, ISO-8601 UTC
 * @param millis        the same, milliseconds since the epoch
 * @param outcome       {@code started}, {@code moved}, {@code refused}, {@code failed}, {@code stopped} (cut short
 *                      by an unmount, the moved part stays moved) or {@code interrupted} (a start without an end,
 *                      found at the next mount: the daemon died during the move)
 * @param trigger       {@code apply} (the command) or {@code auto} (the executor in the mount)
 * @param action        promote, demote or move (a rule's tier)
 * @param bytes         the cost: stored bytes to move
 * @param expectedBytes the benefit: bytes expected to be read from the file in the next hour
 * @param score         the ranking score (the model's probability or the heuristic's); null for a rule's move
 * @param prediction    the model's P(read within 1 h), null when the heuristic decides
 * @param decider       {@code model vN} or {@code heuristic count}: the model version
 * @param rule          why: the deciding rule or the ranking
 * @param features      the hottest block's features at the decision
 * @param failedChecks  for a refusal, each failed check as {@code name: detail}
 * @param movedBytes    bytes actually moved (moved, stopped)
 * @param durationMillis how long the move took
 * @param error         why a move failed
 */
public record AuditEntry(String time, long millis, String outcome, String trigger, String path, long ino, String action,
    String from, String to, long bytes, Long expectedBytes, Double score, Double prediction, String decider,
    String rule, Map<String, Double> features, List<String> failedChecks, Long movedBytes, Long durationMillis,
    String error) {

  @com.fasterxml.jackson.annotation.JsonIgnore
  public boolean isMove() {
    return "moved".equals(outcome) || "stopped".equals(outcome);
  }
}
