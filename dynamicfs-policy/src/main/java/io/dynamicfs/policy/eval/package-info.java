/**
 * The trace-driven evaluation: {@link io.dynamicfs.policy.eval.Evaluator} replays a trace on a virtual clock
 * through the tracker, the model's time-split training and go-live gate and every policy's fast tier, and
 * returns an {@link io.dynamicfs.policy.eval.Evaluation}.
 */
package io.dynamicfs.policy.eval;
