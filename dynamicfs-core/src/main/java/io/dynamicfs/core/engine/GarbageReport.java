package io.dynamicfs.core.engine;

/**
 * What {@link DynamicFileSystem#collectGarbage} found and, when applied, reclaimed.
 *
 * <p>Unreferenced blocks are records in the block store that no metadata references and no writer has
 * pinned (normally deleted at once; they remain when a delete failed). Dead bytes are segment space held
 * by deleted or superseded records and tombstones; compaction gives back the dead bytes of sealed segments
 * whose dead fraction is at least the threshold ({@code reclaimableBytes}); the active segment's dead
 * space waits until it is sealed.
 */
public record GarbageReport(boolean applied, long unreferencedBlocks, long unreferencedBytes, int segments,
    long segmentBytes, long deadBytes, int reclaimableSegments, long reclaimableBytes, long deletedBlocks,
    long freedBytes) {}
