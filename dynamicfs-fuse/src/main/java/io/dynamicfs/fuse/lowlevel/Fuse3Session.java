package io.dynamicfs.fuse.lowlevel;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/**
 * A libfuse 3 session: {@code fuse_session_new} over {@link LowLevelOps}, then {@code fuse_session_mount}
 * (libfuse 3 has no channels: the session owns {@code /dev/fuse}). Each worker keeps one
 * {@code struct fuse_buf} whose memory libfuse allocates at the first read (its own size: 256 pages plus a
 * header, what the kernel's largest request needs) and reuses; the worker frees it when it stops. Splice
 * reads stay off (no {@code write_buf}), so a request is always in that memory.
 */
final class Fuse3Session extends FuseSession {
  private final LibFuse3LowLevel lib;

  private Fuse3Session(LibFuse3LowLevel lib, String mountPoint, Pointer session, LowLevelOps ops) {
    super(lib, mountPoint, session, ops);
    this.lib = lib;
  }

  /** The library, or an error naming it when libfuse3.so.3 cannot be loaded. */
  static LibFuse3LowLevel load() {
    return LibFuse3LowLevel.Holder.LIB;
  }

  /** Mounts at {@code mountPoint} with {@code -o options} and serves {@code adapter}'s callbacks. */
  static Fuse3Session mount(LibFuse3LowLevel lib, LowLevelAdapter adapter, String mountPoint, String options)
      throws FsException {
    Runtime rt = Runtime.getRuntime(lib);
    LowLevelOps ops = new LowLevelOps(rt, FuseAbi.FUSE3);
    adapter.install(ops);
    Pointer args = LowLevelMount.args(lib, rt, options);
    Pointer se;
    try {
      se = lib.fuse_session_new(args, Struct.getMemory(ops), ops.expectedSize(), null);
    } finally {
      lib.fuse_opt_free_args(args);
    }
    if (se == null) {
      throw FsException.of(Errno.EIO, "cannot mount at %s: fuse_session_new rejected options \"%s\"", mountPoint,
          options);
    }
    if (lib.fuse_session_mount(se, mountPoint) != 0) {
      lib.fuse_session_destroy(se);
      throw FsException.of(Errno.EIO, "cannot mount at %s: fuse_session_mount failed (its message is on stderr)",
          mountPoint);
    }
    return new Fuse3Session(lib, mountPoint, se, ops);
  }

  @Override
  FuseAbi abi() {
    return FuseAbi.FUSE3;
  }

  @Override
  String fusermount() {
    return "fusermount3";
  }

  @Override
  int fd() {
    return lib.fuse_session_fd(session);
  }

  @Override
  Worker worker() {
    Pointer buf = Memory.allocateDirect(Runtime.getRuntime(lib), Layout.Fuse3Buf.SIZE, true);
    return new Worker() {
      @Override
      public int receive() {
        return lib.fuse_session_receive_buf(session, buf);
      }

      @Override
      public void process(int n) {
        lib.fuse_session_process_buf(session, buf);
      }

      @Override
      public int opcode() {
        Pointer mem = buf.getPointer(Layout.Fuse3Buf.MEM);
        boolean inMemory = (buf.getInt(Layout.Fuse3Buf.FLAGS) & Layout.Fuse3Buf.IS_FD) == 0;
        return mem != null && inMemory ? mem.getInt(Layout.IN_HEADER_OPCODE) : -1;
      }

      @Override
      public void close() {
        Pointer mem = buf.getPointer(Layout.Fuse3Buf.MEM);
        if (mem != null) {
          buf.putAddress(Layout.Fuse3Buf.MEM, 0L);
          LibC.Holder.LIB.free(mem);
        }
      }
    };
  }

  @Override
  int invalInode(long ino, long off, long len) {
    return lib.fuse_lowlevel_notify_inval_inode(session, ino, off, len);
  }

  @Override
  int invalEntry(long parent, String name) {
    byte[] c = cString(name);
    return lib.fuse_lowlevel_notify_inval_entry(session, parent, c, c.length - 1);
  }

  @Override
  void destroy() {
    lib.fuse_session_unmount(session);
    lib.fuse_session_destroy(session);
  }
}
