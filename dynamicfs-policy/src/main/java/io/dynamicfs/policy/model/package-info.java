/**
 * The hotness model: {@link io.dynamicfs.policy.model.Features} from the tracker, the
 * {@link io.dynamicfs.policy.model.LogisticModel} with per-feature contributions, the
 * {@link io.dynamicfs.policy.model.Heuristic}s that decide while no model has earned it,
 * the {@link io.dynamicfs.policy.model.Predictor} (whichever decides; {@link io.dynamicfs.policy.model.HotnessScorer}
 * on the evaluation's hot path, {@link io.dynamicfs.policy.model.PredictorFile} to keep it), the training loop
 * with its go-live gate ({@link io.dynamicfs.policy.model.WindowedTrainer}, {@link io.dynamicfs.policy.model.ModelGate})
 * and the prediction {@link io.dynamicfs.policy.model.Metrics}.
 */
package io.dynamicfs.policy.model;
