package io.dynamicfs.fuse.lowlevel;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.Delegate;

/**
 * The callback signatures of {@code struct fuse_lowlevel_ops} (libfuse 2.9 and 3.14: the same where both
 * have an operation, except rename, which gains flags in 3) as jnr-ffi delegates.
 * C types: fuse_ino_t, size_t, off_t, dev_t, unsigned long → long; mode_t, int → int; {@code fuse_req_t}
 * and struct pointers → Pointer; {@code const char*} names → String.
 */
public final class LowLevelCallbacks {
  private LowLevelCallbacks() {}

  public interface Init { @Delegate void init(Pointer userdata, Pointer conn); }

  public interface Destroy { @Delegate void destroy(Pointer userdata); }

  public interface Lookup { @Delegate void lookup(Pointer req, long parent, String name); }

  public interface Forget { @Delegate void forget(Pointer req, long ino, long nlookup); }

  public interface GetAttr { @Delegate void getattr(Pointer req, long ino, Pointer fi); }

  public interface SetAttr { @Delegate void setattr(Pointer req, long ino, Pointer attr, int toSet, Pointer fi); }

  public interface ReadLink { @Delegate void readlink(Pointer req, long ino); }

  public interface Mknod { @Delegate void mknod(Pointer req, long parent, String name, int mode, long rdev); }

  public interface Mkdir { @Delegate void mkdir(Pointer req, long parent, String name, int mode); }

  /** unlink and rmdir. */
  public interface Remove { @Delegate void remove(Pointer req, long parent, String name); }

  public interface Symlink { @Delegate void symlink(Pointer req, String link, long parent, String name); }

  public interface Rename {
    @Delegate void rename(Pointer req, long parent, String name, long newParent, String newName);
  }

  /** libfuse 3: rename with renameat2's flags (RENAME_NOREPLACE, RENAME_EXCHANGE). */
  public interface Rename3 {
    @Delegate void rename(Pointer req, long parent, String name, long newParent, String newName, int flags);
  }

  public interface Link { @Delegate void link(Pointer req, long ino, long newParent, String newName); }

  /** open, flush, release, opendir, releasedir, getattr-like calls taking a file info. */
  public interface FileOp { @Delegate void call(Pointer req, long ino, Pointer fi); }

  /** read and readdir. */
  public interface Read { @Delegate void read(Pointer req, long ino, long size, long off, Pointer fi); }

  public interface Write {
    @Delegate void write(Pointer req, long ino, Pointer buf, long size, long off, Pointer fi);
  }

  /** fsync and fsyncdir. */
  public interface Fsync { @Delegate void fsync(Pointer req, long ino, int datasync, Pointer fi); }

  public interface Statfs { @Delegate void statfs(Pointer req, long ino); }

  public interface SetXattr {
    @Delegate void setxattr(Pointer req, long ino, String name, Pointer value, long size, int flags);
  }

  public interface GetXattr { @Delegate void getxattr(Pointer req, long ino, String name, long size); }

  public interface ListXattr { @Delegate void listxattr(Pointer req, long ino, long size); }

  public interface RemoveXattr { @Delegate void removexattr(Pointer req, long ino, String name); }

  public interface Access { @Delegate void access(Pointer req, long ino, int mask); }

  public interface Create {
    @Delegate void create(Pointer req, long parent, String name, int mode, Pointer fi);
  }

  public interface Fallocate {
    @Delegate void fallocate(Pointer req, long ino, int mode, long offset, long length, Pointer fi);
  }

  /** libfuse 3: copy_file_range(2) from {@code inoIn} at {@code offIn} to {@code inoOut} at {@code offOut}. */
  public interface CopyFileRange {
    @Delegate void copyFileRange(Pointer req, long inoIn, long offIn, Pointer fiIn, long inoOut, long offOut,
        Pointer fiOut, long len, int flags);
  }

  /** libfuse 3: lseek(2) with SEEK_DATA or SEEK_HOLE (the kernel answers the others itself). */
  public interface Lseek { @Delegate void lseek(Pointer req, long ino, long off, int whence, Pointer fi); }
}
