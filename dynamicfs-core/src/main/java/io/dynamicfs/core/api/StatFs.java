package io.dynamicfs.core.api;

/** What statfs(2) reports: sizes in bytes, counts of inodes. */
public record StatFs(long totalBytes, long freeBytes, long availableBytes, long totalInodes, long freeInodes,
    int blockSize, int nameMax) {}
