package io.dynamicfs.fuse.lowlevel;

/**
 * One libfuse low-level session on a mounted kernel connection: what the libfuse 2.9 and libfuse 3
 * bindings do differently ({@link Fuse2Session}, {@link Fuse3Session}). {@link LowLevelMount} runs the
 * worker threads over it; the request handling is {@link LowLevelAdapter}'s, the same for both.
 */
interface FuseSession {
  FuseAbi abi();

  /** The command that unmounts this session's mount point as a user ({@code fusermount} or {@code fusermount3}). */
  String fusermount();

  /** A worker thread's own receive buffer. */
  Worker worker();

  boolean exited();

  void exit();

  /** {@code fuse_lowlevel_notify_inval_inode}: 0 or -errno. */
  int invalInode(long ino, long off, long len);

  /** Frees the session once every worker has stopped, unmounting first if still mounted. */
  void destroy();

  /** One worker's loop step: read a request from the kernel, then process it on this thread. */
  interface Worker {
    /** Bytes read; 0 when the session has ended (unmounted); -errno on failure (-EINTR, -EAGAIN: retry). */
    int receive();

    /** Processes the request {@link #receive} read ({@code size} bytes). */
    void process(int size);

    /** Frees the buffer. */
    void close();
  }
}
