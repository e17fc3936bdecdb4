/**
 * Fast-tier policies of a byte capacity on one interface ({@link io.dynamicfs.policy.tier.FastTier}): the
 * engine's own decision ({@link io.dynamicfs.policy.tier.ScoredTier}) and the baselines it is measured
 * against, with the moves each makes counted by {@link io.dynamicfs.policy.tier.TierMoves}.
 */
package io.dynamicfs.policy.tier;
