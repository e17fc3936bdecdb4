/**
 * The hotness model: {@link io.dynamicfs.policy.model.Features} from the tracker, the
 * {@link io.dynamicfs.policy.model.LogisticModel} with per-feature contributions, the
 * {@link io.dynamicfs.policy.model.Heuristic}s that decide while no model has earned it,
 * {@link io.dynamicfs.policy.model.HotnessScorer} (whichever is live) and the prediction
 * {@link io.dynamicfs.policy.model.Metrics}.
 */
package io.dynamicfs.policy.model;
