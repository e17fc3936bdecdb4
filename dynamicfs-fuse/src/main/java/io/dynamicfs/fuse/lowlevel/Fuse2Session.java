package io.dynamicfs.fuse.lowlevel;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/**
 * A libfuse 2.9 session: {@code fuse_mount} opens the channel, {@code fuse_lowlevel_new} builds the session
 * over {@link LowLevelOps}; each worker reads with {@code fuse_chan_recv} into its own buffer of the
 * channel's size and runs {@code fuse_session_process}.
 */
final class Fuse2Session extends FuseSession {
  private final LibFuseLowLevel lib;
  private final Pointer channel;

  private Fuse2Session(LibFuseLowLevel lib, String mountPoint, Pointer session, Pointer channel, LowLevelOps ops) {
    super(lib, mountPoint, session, ops);
    this.lib = lib;
    this.channel = channel;
  }

  /** The library, or an error naming it when libfuse.so.2 cannot be loaded. */
  static LibFuseLowLevel load() {
    return LibFuseLowLevel.Holder.LIB;
  }

  /** Mounts at {@code mountPoint} with {@code -o options} and serves {@code adapter}'s callbacks. */
  static Fuse2Session mount(LibFuseLowLevel lib, LowLevelAdapter adapter, String mountPoint, String options)
      throws FsException {
    Runtime rt = Runtime.getRuntime(lib);
    LowLevelOps ops = new LowLevelOps(rt, FuseAbi.FUSE2);
    adapter.install(ops);
    Pointer args = LowLevelMount.args(lib, rt, options);
    try {
      Pointer ch = lib.fuse_mount(mountPoint, args);
      if (ch == null) {
        throw FsException.of(Errno.EIO, "cannot mount at %s: fuse_mount failed (its message is on stderr)",
            mountPoint);
      }
      Pointer se = lib.fuse_lowlevel_new(args, Struct.getMemory(ops), ops.expectedSize(), null);
      if (se == null) {
        lib.fuse_unmount(mountPoint, ch);
        throw FsException.of(Errno.EIO, "cannot mount at %s: fuse_lowlevel_new rejected options \"%s\"",
            mountPoint, options);
      }
      lib.fuse_session_add_chan(se, ch);
      return new Fuse2Session(lib, mountPoint, se, ch, ops);
    } finally {
      lib.fuse_opt_free_args(args);
    }
  }

  @Override
  FuseAbi abi() {
    return FuseAbi.FUSE2;
  }

  @Override
  String fusermount() {
    return "fusermount";
  }

  @Override
  int fd() {
    return lib.fuse_chan_fd(channel);
  }

  @Override
  Worker worker() {
    long size = lib.fuse_chan_bufsize(channel);
    Runtime rt = Runtime.getRuntime(lib);
    Pointer buf = Memory.allocateDirect(rt, size);
    Pointer chp = Memory.allocateDirect(rt, 8, true);
    return new Worker() {
      @Override
      public int receive() {
        chp.putPointer(0, channel);
        return lib.fuse_chan_recv(chp, buf, size);
      }

      @Override
      public void process(int n) {
        lib.fuse_session_process(session, buf, n, chp.getPointer(0));
      }

      @Override
      public int opcode() {
        return buf.getInt(Layout.IN_HEADER_OPCODE);
      }

      @Override
      public void close() {
        // direct memory: freed with the Pointer
      }
    };
  }

  @Override
  int invalInode(long ino, long off, long len) {
    return lib.fuse_lowlevel_notify_inval_inode(channel, ino, off, len);
  }

  @Override
  int invalEntry(long parent, String name) {
    byte[] c = cString(name);
    return lib.fuse_lowlevel_notify_inval_entry(channel, parent, c, c.length - 1);
  }

  @Override
  void destroy() {
    lib.fuse_session_remove_chan(channel);
    lib.fuse_session_destroy(session);
    lib.fuse_unmount(mountPoint, channel);
  }
}
