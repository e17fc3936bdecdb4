package io.dynamicfs.fuse.lowlevel;

import jnr.ffi.Pointer;
import jnr.ffi.Struct;

/**
 * One libfuse low-level session on a mounted kernel connection: what the libfuse 2.9 and libfuse 3
 * bindings do differently ({@link Fuse2Session}, {@link Fuse3Session}) over what they share.
 * {@link LowLevelMount} runs the worker threads over it; the request handling is {@link LowLevelAdapter}'s,
 * the same for both.
 */
abstract class FuseSession {
  private final LibFuseCommon lib;
  final String mountPoint;
  final Pointer session;
  /** Native code calls through it for as long as the session lives. */
  private final LowLevelOps ops;

  FuseSession(LibFuseCommon lib, String mountPoint, Pointer session, LowLevelOps ops) {
    this.lib = lib;
    this.mountPoint = mountPoint;
    this.session = session;
    this.ops = ops;
  }

  abstract FuseAbi abi();

  /** The command that unmounts this session's mount point as a user ({@code fusermount} or {@code fusermount3}). */
  abstract String fusermount();

  /** The {@code /dev/fuse} descriptor the workers read. */
  abstract int fd();

  /** A worker thread's own receive buffer. */
  abstract Worker worker();

  /** {@code fuse_lowlevel_notify_inval_inode}: 0 or -errno. */
  abstract int invalInode(long ino, long off, long len);

  /** {@code fuse_lowlevel_notify_inval_entry}: 0 or -errno. */
  abstract int invalEntry(long parent, String name);

  /** {@code name} as libfuse's notify wants it: UTF-8 with a NUL after it (it sends the NUL too). */
  static byte[] cString(String name) {
    byte[] b = name.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    return java.util.Arrays.copyOf(b, b.length + 1);
  }

  /** Frees the session once every worker has stopped, unmounting first if still mounted. */
  abstract void destroy();

  final boolean exited() {
    return lib.fuse_session_exited(session) != 0;
  }

  final void exit() {
    lib.fuse_session_exit(session);
  }

  @Override
  public String toString() {
    return abi().libName + " session " + mountPoint + " (" + Struct.size(ops) + "-byte ops)";
  }

  /** One worker's loop step: read a request from the kernel, then process it on this thread. */
  interface Worker {
    /** Bytes read; 0 when the session has ended (unmounted); -errno on failure (-EINTR, -EAGAIN: retry). */
    int receive();

    /** Processes the request {@link #receive} read ({@code size} bytes). */
    void process(int size);

    /** The opcode of the request {@link #receive} read ({@code fuse_in_header.opcode}), -1 if not at hand. */
    int opcode();

    /** Frees the buffer. */
    void close();
  }
}
