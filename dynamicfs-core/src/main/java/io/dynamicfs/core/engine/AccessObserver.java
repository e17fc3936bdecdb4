package io.dynamicfs.core.engine;

/**
 * Hears every read and write the engine serves through a file handle, whatever served it: the block
 * store, an L1/L2 cache, a block still being written, inline bytes or a hole. Called by
 * {@link DynamicFileSystem#read} and {@link DynamicFileSystem#write} after the operation succeeded, on the
 * caller's thread (a FUSE worker), with the bytes actually read or written ({@code length > 0}).
 *
 * <p>An implementation must be thread-safe, O(1) and allocation-free, and must not block or throw: it sits
 * on the read path. The policy engine's tracker (dynamicfs-policy) is one; {@link #NONE}, the default,
 * ignores everything.
 *
 * <p>Reads the kernel serves from its own page cache never reach the engine, so no observer sees them
 * (the {@code safe} FUSE preset keeps no pages across opens).
 */
public interface AccessObserver {
  /** Observes nothing. */
  AccessObserver NONE = new AccessObserver() { };

  /**
   * {@code length} bytes of inode {@code ino} were read at {@code offset}, at {@code nanos} (the engine's
   * clock, nanoseconds since the epoch, to the millisecond: {@link TimeSource#coarseNanos}).
   */
  default void read(long ino, long offset, int length, long nanos) {
  }

  /** {@code length} bytes of inode {@code ino} were written at {@code offset}, at {@code nanos}. */
  default void write(long ino, long offset, int length, long nanos) {
  }
}
