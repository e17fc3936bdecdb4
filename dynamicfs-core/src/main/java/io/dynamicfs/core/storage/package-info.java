/**
 * Storage tiers over devices: the layout (named tiers, each a list of device directories with a
 * redundancy, {@code replicate-N} or {@code rs-K-M}), the block stores that keep a block's copies or
 * Reed–Solomon shards on distinct devices, verify every read and repair what they find bad, and the
 * scrubber that walks every block at a bounded rate.
 */
package io.dynamicfs.core.storage;
