/**
 * The write intent log (ZFS's ZIL is the model): an fsync of partial-block changes appends just the changed
 * byte ranges, checksummed, to an append-only log and syncs it (concurrent fsyncs share one device sync);
 * metadata then records the overlays that point into it, and a folder later merges them into whole
 * content-addressed blocks and reclaims the log files nothing references.
 */
package io.dynamicfs.core.intent;
