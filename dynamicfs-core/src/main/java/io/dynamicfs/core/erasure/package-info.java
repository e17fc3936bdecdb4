/**
 * Systematic Reed–Solomon erasure coding over GF(2^8) for striping blocks across devices.
 *
 * <p>{@link io.dynamicfs.core.erasure.ReedSolomon} splits nothing itself: the caller hands it
 * {@code K} equally sized data shards and {@code M} parity buffers, and it computes parity, checks
 * it, or rebuilds any {@code M} lost shards from the {@code K} others. The code is systematic
 * (data shards are stored as is) and MDS: its encoding matrix is the identity over a Cauchy matrix
 * scaled to have a row and a column of ones, so the first parity shard is plain XOR. Arithmetic
 * uses the field polynomial 0x11D and a 256 x 256 multiplication table; the hot loops translate
 * eight bytes per step, in cache-sized chunks, in pure Java.
 */
package io.dynamicfs.core.erasure;
