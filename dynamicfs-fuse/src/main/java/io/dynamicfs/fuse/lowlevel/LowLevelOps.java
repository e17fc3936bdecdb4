package io.dynamicfs.fuse.lowlevel;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/**
 * {@code struct fuse_lowlevel_ops}, function pointers in header order: libfuse 2.9's 41, or libfuse 3.14's
 * 44, which has 2.9's order up to {@code fallocate} with rename taking flags, then readdirplus,
 * copy_file_range and lseek. The members are made in the constructor, in that order (jnr lays a struct out
 * in the order its members are created), so one class serves both: {@link #rename} or {@link #rename3}
 * exists, and the last three only for libfuse 3. The ones DynamicFS does not implement ({@code getlk} …
 * {@code flock}) stay NULL; libfuse answers ENOSYS or falls back (forget_multi → forget, write_buf → write).
 */
public final class LowLevelOps extends Struct {
  final Function<LowLevelCallbacks.Init> init;
  final Function<LowLevelCallbacks.Destroy> destroy;
  final Function<LowLevelCallbacks.Lookup> lookup;
  final Function<LowLevelCallbacks.Forget> forget;
  final Function<LowLevelCallbacks.GetAttr> getattr;
  final Function<LowLevelCallbacks.SetAttr> setattr;
  final Function<LowLevelCallbacks.ReadLink> readlink;
  final Function<LowLevelCallbacks.Mknod> mknod;
  final Function<LowLevelCallbacks.Mkdir> mkdir;
  final Function<LowLevelCallbacks.Remove> unlink;
  final Function<LowLevelCallbacks.Remove> rmdir;
  final Function<LowLevelCallbacks.Symlink> symlink;
  /** libfuse 2.9's rename (null on libfuse 3). */
  final Function<LowLevelCallbacks.Rename> rename;
  /** libfuse 3's rename with flags (null on libfuse 2.9). */
  final Function<LowLevelCallbacks.Rename3> rename3;
  final Function<LowLevelCallbacks.Link> link;
  final Function<LowLevelCallbacks.FileOp> open;
  final Function<LowLevelCallbacks.Read> read;
  final Function<LowLevelCallbacks.Write> write;
  final Function<LowLevelCallbacks.FileOp> flush;
  final Function<LowLevelCallbacks.FileOp> release;
  final Function<LowLevelCallbacks.Fsync> fsync;
  final Function<LowLevelCallbacks.FileOp> opendir;
  final Function<LowLevelCallbacks.Read> readdir;
  final Function<LowLevelCallbacks.FileOp> releasedir;
  final Function<LowLevelCallbacks.Fsync> fsyncdir;
  final Function<LowLevelCallbacks.Statfs> statfs;
  final Function<LowLevelCallbacks.SetXattr> setxattr;
  final Function<LowLevelCallbacks.GetXattr> getxattr;
  final Function<LowLevelCallbacks.ListXattr> listxattr;
  final Function<LowLevelCallbacks.RemoveXattr> removexattr;
  final Function<LowLevelCallbacks.Access> access;
  final Function<LowLevelCallbacks.Create> create;
  /** getlk, setlk, bmap, ioctl, poll, write_buf, retrieve_reply, forget_multi, flock: NULL. */
  final Struct.Pointer[] unused = new Struct.Pointer[9];
  final Function<LowLevelCallbacks.Fallocate> fallocate;
  /** libfuse 3 only (null on 2.9). */
  final Function<LowLevelCallbacks.Read> readdirplus;
  /** libfuse 3 only (null on 2.9). */
  final Function<LowLevelCallbacks.CopyFileRange> copyFileRange;
  /** libfuse 3 only (null on 2.9). */
  final Function<LowLevelCallbacks.Lseek> lseek;
  private final FuseAbi abi;

  LowLevelOps(Runtime runtime, FuseAbi abi) {
    super(runtime);
    this.abi = abi;
    boolean three = abi == FuseAbi.FUSE3;
    init = function(LowLevelCallbacks.Init.class);
    destroy = function(LowLevelCallbacks.Destroy.class);
    lookup = function(LowLevelCallbacks.Lookup.class);
    forget = function(LowLevelCallbacks.Forget.class);
    getattr = function(LowLevelCallbacks.GetAttr.class);
    setattr = function(LowLevelCallbacks.SetAttr.class);
    readlink = function(LowLevelCallbacks.ReadLink.class);
    mknod = function(LowLevelCallbacks.Mknod.class);
    mkdir = function(LowLevelCallbacks.Mkdir.class);
    unlink = function(LowLevelCallbacks.Remove.class);
    rmdir = function(LowLevelCallbacks.Remove.class);
    symlink = function(LowLevelCallbacks.Symlink.class);
    rename = three ? null : function(LowLevelCallbacks.Rename.class);
    rename3 = three ? function(LowLevelCallbacks.Rename3.class) : null;
    link = function(LowLevelCallbacks.Link.class);
    open = function(LowLevelCallbacks.FileOp.class);
    read = function(LowLevelCallbacks.Read.class);
    write = function(LowLevelCallbacks.Write.class);
    flush = function(LowLevelCallbacks.FileOp.class);
    release = function(LowLevelCallbacks.FileOp.class);
    fsync = function(LowLevelCallbacks.Fsync.class);
    opendir = function(LowLevelCallbacks.FileOp.class);
    readdir = function(LowLevelCallbacks.Read.class);
    releasedir = function(LowLevelCallbacks.FileOp.class);
    fsyncdir = function(LowLevelCallbacks.Fsync.class);
    statfs = function(LowLevelCallbacks.Statfs.class);
    setxattr = function(LowLevelCallbacks.SetXattr.class);
    getxattr = function(LowLevelCallbacks.GetXattr.class);
    listxattr = function(LowLevelCallbacks.ListXattr.class);
    removexattr = function(LowLevelCallbacks.RemoveXattr.class);
    access = function(LowLevelCallbacks.Access.class);
    create = function(LowLevelCallbacks.Create.class);
    for (int i = 0; i < unused.length; i++) {
      unused[i] = new Struct.Pointer();
    }
    fallocate = function(LowLevelCallbacks.Fallocate.class);
    readdirplus = three ? function(LowLevelCallbacks.Read.class) : null;
    copyFileRange = three ? function(LowLevelCallbacks.CopyFileRange.class) : null;
    lseek = three ? function(LowLevelCallbacks.Lseek.class) : null;
  }

  /** The struct's size in the header: 41 pointers (2.9) or 44 (3.14). */
  long expectedSize() {
    return (abi == FuseAbi.FUSE3 ? 44 : 41) * 8L;
  }
}
