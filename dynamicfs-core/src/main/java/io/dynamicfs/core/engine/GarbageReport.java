package io.dynamicfs.core.engine;

/**
 * What {@link DynamicFileSystem#collectGarbage} found and, when applied, reclaimed.
 *
 * <p>Pending blocks lost their last reference and wait for the block reclaimer (it runs every second;
 * applying gc runs it first). Unreferenced blocks are records in the block store that no metadata
 * references, that are not pending and that no writer has pinned (left when a delete failed or a crash
 * came between a purge and the delete). Dead bytes are segment space held
 * by deleted or superseded records and tombstones; compaction gives back the dead bytes of sealed segments
 * whose dead fraction is at least the threshold ({@code reclaimableBytes}); the active segment's dead
 * space waits until it is sealed.
 */
public record GarbageReport(boolean applied, long pendingBlocks, long unreferencedBlocks, long unreferencedBytes,
    int segments,
    long segmentBytes, long deadBytes, int reclaimableSegments, long reclaimableBytes, long deletedBlocks,
    long freedBytes) {}
