/**
 * The access tracker: {@link io.dynamicfs.policy.track.AccessTable} (bounded, allocation-free statistics per
 * key), {@link io.dynamicfs.policy.track.AccessTracker} (one table per file and per extent),
 * {@link io.dynamicfs.policy.track.TrackerFile} (persistence with a checksum) and
 * {@link io.dynamicfs.policy.track.AccessLog} (the bounded binary ring log for training and replay).
 */
package io.dynamicfs.policy.track;
