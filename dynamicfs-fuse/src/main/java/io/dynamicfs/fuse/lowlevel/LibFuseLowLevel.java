package io.dynamicfs.fuse.lowlevel;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;

/**
 * The part of libfuse 2.9's low-level API ({@code fuse_lowlevel.h}) DynamicFS uses, bound with jnr-ffi: the
 * session and channel calls here, the replies in {@link LibFuseCommon}.
 * Symbols resolve to their default versions (e.g. {@code fuse_mount@@FUSE_2.6},
 * {@code fuse_lowlevel_new@@FUSE_2.6}, {@code fuse_reply_statfs@@FUSE_2.5}). x86_64 Linux only: the
 * struct layouts the pointers refer to are in {@link Layout}.
 *
 * <p>Pointers: {@code args} a {@code struct fuse_args*}; {@code ch} a {@code struct fuse_chan*};
 * {@code se} a {@code struct fuse_session*}.
 */
public interface LibFuseLowLevel extends LibFuseCommon {
  Pointer fuse_mount(String mountpoint, Pointer args);

  void fuse_unmount(String mountpoint, Pointer ch);

  Pointer fuse_lowlevel_new(Pointer args, Pointer ops, long opSize, Pointer userdata);

  void fuse_session_add_chan(Pointer se, Pointer ch);

  void fuse_session_remove_chan(Pointer ch);


  long fuse_chan_bufsize(Pointer ch);

  /** The channel's {@code /dev/fuse} descriptor. */
  int fuse_chan_fd(Pointer ch);

  /** {@code chp} is a {@code struct fuse_chan**}; returns bytes read, 0 when the session exited, or -errno. */
  int fuse_chan_recv(Pointer chp, Pointer buf, long size);

  void fuse_session_process(Pointer se, Pointer buf, long len, Pointer ch);


  /**
   * Tells the kernel its cached attributes of {@code ino} are stale ({@code off} &lt; 0: attributes only, no
   * page cache); 0 or -errno (-ENOENT when the kernel does not have the inode).
   */
  int fuse_lowlevel_notify_inval_inode(Pointer ch, long ino, long off, long len);

  /**
   * Drops the kernel's dentry {@code name} under {@code parent} (the next path walk looks it up again); {@code name}
   * NUL-terminated, {@code namelen} without the NUL. 0 or -errno (-ENOENT when the kernel has no such entry).
   */
  int fuse_lowlevel_notify_inval_entry(Pointer ch, long parent, byte[] name, long namelen);


  /** Loaded on first use; fails at once if libfuse.so.2 is missing. */
  final class Holder {
    static final LibFuseLowLevel LIB = LibraryLoader.create(LibFuseLowLevel.class).failImmediately()
        .load("fuse");

    private Holder() {}
  }
}
