package io.dynamicfs.core.block;

/** Figures of a block store: live blocks, their plain and stored bytes, and the bytes of all segment files. */
public record StoreStats(long blocks, long rawBytes, long storedBytes, long fileBytes) {}
