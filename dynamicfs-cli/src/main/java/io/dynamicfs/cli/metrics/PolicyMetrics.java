package io.dynamicfs.cli.metrics;

import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.core.storage.TieredStore;
import io.dynamicfs.policy.mount.MountPolicy;
import io.dynamicfs.policy.mount.PolicyExecutor;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * The policy engine's figures, read at scrape time (docs/observability.md):
 *
 * <ul>
 *   <li>{@code dfs.tier.reads}, {@code dfs.tier.read.bytes} (counters, tag {@code tier}): the engine's block
 *       reads each tier served (cache misses), and their bytes; {@code dfs.policy.fast.tier.hit.ratio}: the first
 *       tier's share of those bytes since the mount (for a window: the rate of the counters);
 *   <li>{@code dfs.policy.decisions} (counter, tag {@code outcome}: moved, stopped, failed, refused): audited
 *       decisions, a refusal repeated unchanged counted once; {@code dfs.policy.moves} (tag {@code action}:
 *       promote, demote, move); {@code dfs.policy.moved.bytes}; {@code dfs.policy.compacted.bytes} (segment files
 *       given back by the compact action); {@code dfs.policy.warmed.bytes} (read ahead into the caches by the warm
 *       action); {@code dfs.policy.refusals} (tag {@code check});
 *       {@code dfs.policy.runs}; {@code dfs.policy.ping.pongs} (a file moved back within a day);
 *   <li>{@code dfs.policy.paused} (1 while the executor backs off from a busy foreground),
 *       {@code dfs.policy.paused.seconds} (counter); {@code dfs.policy.model.live} (1 when a model that passed the
 *       gate ranks, 0 when a heuristic does); {@code dfs.policy.model.held.out.pr.auc} (the decider's PR-AUC on the
 *       held-out window of the gate round that made it decide, NaN before any); {@code dfs.policy.model.rounds}
 *       (gate rounds run on this mount).
 * </ul>
 *
 * Without an executor (its audit log could not be opened) only the model figures are bound; on a cluster mount
 * ({@code store} null) there are no tier figures, and the executor only warms the caches.
 */
public final class PolicyMetrics implements MeterBinder {
  static final List<String> OUTCOMES = List.of("moved", "stopped", "failed", "refused");
  static final List<String> ACTIONS = List.of("promote", "demote", "move");
  static final List<String> CHECKS = List.of("schedule", "budget", "space", "open", "residency", "cooldown",
      "hysteresis", "benefit");

  private final MountPolicy policy;
  private final TieredStore store;

  /** {@code store} is null on a cluster mount. */
  public PolicyMetrics(MountPolicy policy, TieredStore store) {
    this.policy = policy;
    this.store = store;
  }

  @Override
  public void bindTo(MeterRegistry r) {
    Gauge.builder("dfs.policy.model.live", policy, p -> p.model() == null ? 0 : 1)
        .description("1 when a model that passed the gate ranks files, 0 when a heuristic does").register(r);
    Gauge.builder("dfs.policy.model.held.out.pr.auc", policy, p -> p.predictor().heldOut())
        .description("The deciding model's or heuristic's PR-AUC on the latest held-out window of its gate round")
        .register(r);
    if (policy.tracker() != null) {
      FunctionCounter.builder("dfs.policy.model.rounds", policy.tracker(), t -> t.training().rounds())
          .description("Gate rounds run on this mount (a candidate model trained and tested)").register(r);
    }
    if (store != null) {
      for (Tier t : store.tiers()) {
        FunctionCounter.builder("dfs.tier.reads", t, Tier::readsServed).tag("tier", t.name())
            .description("Block reads of the engine this tier served (cache misses)").register(r);
        FunctionCounter.builder("dfs.tier.read.bytes", t, Tier::bytesServed).tag("tier", t.name()).baseUnit("bytes")
            .description("Bytes of the engine's block reads this tier served").register(r);
      }
      Gauge.builder("dfs.policy.fast.tier.hit.ratio", store, PolicyMetrics::fastShare)
          .description("The first tier's share of the bytes the tiers served since the mount").register(r);
    }
    PolicyExecutor e = policy.executor();
    if (e == null) {
      return;
    }
    for (String o : OUTCOMES) {
      FunctionCounter.builder("dfs.policy.decisions", e.decisions(), m -> sum(m, o)).tag("outcome", o)
          .description("Audited policy decisions by outcome (a repeated refusal counts once)").register(r);
    }
    for (String a : ACTIONS) {
      FunctionCounter.builder("dfs.policy.moves", e.moves(), m -> sum(m, a)).tag("action", a)
          .description("Files moved by the policy executor").register(r);
    }
    for (String c : CHECKS) {
      FunctionCounter.builder("dfs.policy.refusals", e.refusals(), m -> sum(m, c)).tag("check", c)
          .description("Audited refusals by the safety check that failed").register(r);
    }
    FunctionCounter.builder("dfs.policy.moved.bytes", e, PolicyExecutor::bytesMoved).baseUnit("bytes")
        .description("Bytes moved between tiers by the policy executor").register(r);
    FunctionCounter.builder("dfs.policy.compacted.bytes", e, PolicyExecutor::compactedBytes).baseUnit("bytes")
        .description("Bytes of segment files the policy's compact action gave back").register(r);
    FunctionCounter.builder("dfs.policy.warmed.bytes", e, PolicyExecutor::warmedBytes).baseUnit("bytes")
        .description("Bytes the policy's warm action read into the block caches").register(r);
    FunctionCounter.builder("dfs.policy.runs", e, PolicyExecutor::runs)
        .description("Plans executed (automatic runs and policy apply)").register(r);
    FunctionCounter.builder("dfs.policy.ping.pongs", e, x -> x.audit().history().pingPongs())
        .description("Moves that took a file back to the tier it left less than a day before").register(r);
    Gauge.builder("dfs.policy.paused", e, x -> x.pacer().paused() ? 1 : 0)
        .description("1 while the executor waits for a busy foreground").register(r);
    FunctionCounter.builder("dfs.policy.paused.seconds", e, x -> x.pacer().pausedNanos() / 1e9)
        .description("Time the executor spent waiting for a busy foreground").register(r);
  }

  private static double sum(Map<String, LongAdder> m, String key) {
    LongAdder a = m.get(key);
    return a == null ? 0 : a.sum();
  }

  private static double fastShare(TieredStore s) {
    long all = 0;
    for (Tier t : s.tiers()) {
      all += t.bytesServed();
    }
    return all == 0 ? Double.NaN : (double) s.tiers().get(0).bytesServed() / all;
  }
}
