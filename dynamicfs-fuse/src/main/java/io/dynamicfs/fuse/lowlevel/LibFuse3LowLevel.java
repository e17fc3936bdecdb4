package io.dynamicfs.fuse.lowlevel;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;

/**
 * The part of libfuse 3's low-level API ({@code fuse3/fuse_lowlevel.h}, 3.14 on Debian 12) DynamicFS uses,
 * bound with jnr-ffi: the session calls here, the replies in {@link LibFuseCommon}. Symbols resolve to
 * their default versions ({@code @@FUSE_3.0}). A session has no channel in libfuse 3: it owns the
 * {@code /dev/fuse} descriptor, and notifications take the session.
 *
 * <p>DynamicFS does not run {@code fuse_session_loop_mt}: its worker threads are native, and jffi would
 * attach and detach each one to the JVM per callback (see {@code io.dynamicfs.fuse.FuseLoop}). Java threads
 * call {@code fuse_session_receive_buf} and {@code fuse_session_process_buf}, which the header documents as
 * the building blocks of a custom loop; libfuse reads the one session descriptor from several threads in
 * its own multi-threaded loop too.
 *
 * <p>Pointers: {@code args} a {@code struct fuse_args*}; {@code se} a {@code struct fuse_session*};
 * {@code buf} a {@code struct fuse_buf*} ({@link Layout.Fuse3Buf}); {@code e} a
 * {@code struct fuse_entry_param*}.
 */
public interface LibFuse3LowLevel extends LibFuseCommon {
  /** NULL when an option is unknown or the ops struct is rejected (the reason is printed on stderr). */
  Pointer fuse_session_new(Pointer args, Pointer ops, long opSize, Pointer userdata);

  /** 0 on success. */
  int fuse_session_mount(Pointer se, String mountpoint);

  /** Bytes read, 0 when the session exited (unmounted), or -errno (-EINTR: try again). */
  int fuse_session_receive_buf(Pointer se, Pointer buf);

  void fuse_session_process_buf(Pointer se, Pointer buf);

  /** The session's {@code /dev/fuse} descriptor. */
  int fuse_session_fd(Pointer se);



  void fuse_session_unmount(Pointer se);


  /** As libfuse 2's, but on the session: 0 or -errno (-ENOENT when the kernel does not have the inode). */
  int fuse_lowlevel_notify_inval_inode(Pointer se, long ino, long off, long len);

  /** As libfuse 2's, but on the session. */
  int fuse_lowlevel_notify_inval_entry(Pointer se, long parent, byte[] name, long namelen);

  int fuse_reply_lseek(Pointer req, long off);

  /** Like {@code fuse_add_direntry}, with a whole {@code struct fuse_entry_param} (readdirplus). */
  long fuse_add_direntry_plus(Pointer req, Pointer buf, long bufsize, String name, Pointer e, long off);

  /** Loaded on first use; fails at once if libfuse3.so.3 is missing. */
  final class Holder {
    static final LibFuse3LowLevel LIB = LibraryLoader.create(LibFuse3LowLevel.class).failImmediately()
        .load("libfuse3.so.3");

    private Holder() {}
  }
}
