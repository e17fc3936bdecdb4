package io.dynamicfs.fuse.lowlevel;

import jnr.ffi.Runtime;
import jnr.ffi.Struct;

/**
 * {@code struct fuse_lowlevel_ops} of libfuse 3.14: 44 function pointers in header order. Up to
 * {@code fallocate} the order is 2.9's ({@link LowLevelOps}), with rename taking flags; readdirplus,
 * copy_file_range and lseek follow. The ones DynamicFS does not implement stay NULL; libfuse answers ENOSYS,
 * and the kernel then falls back (copy_file_range to a byte copy, lseek to "all data").
 */
public final class LowLevelOps3 extends Struct {
  public final Function<LowLevelCallbacks.Init> init = function(LowLevelCallbacks.Init.class);
  public final Function<LowLevelCallbacks.Destroy> destroy = function(LowLevelCallbacks.Destroy.class);
  public final Function<LowLevelCallbacks.Lookup> lookup = function(LowLevelCallbacks.Lookup.class);
  public final Function<LowLevelCallbacks.Forget> forget = function(LowLevelCallbacks.Forget.class);
  public final Function<LowLevelCallbacks.GetAttr> getattr = function(LowLevelCallbacks.GetAttr.class);
  public final Function<LowLevelCallbacks.SetAttr> setattr = function(LowLevelCallbacks.SetAttr.class);
  public final Function<LowLevelCallbacks.ReadLink> readlink = function(LowLevelCallbacks.ReadLink.class);
  public final Function<LowLevelCallbacks.Mknod> mknod = function(LowLevelCallbacks.Mknod.class);
  public final Function<LowLevelCallbacks.Mkdir> mkdir = function(LowLevelCallbacks.Mkdir.class);
  public final Function<LowLevelCallbacks.Remove> unlink = function(LowLevelCallbacks.Remove.class);
  public final Function<LowLevelCallbacks.Remove> rmdir = function(LowLevelCallbacks.Remove.class);
  public final Function<LowLevelCallbacks.Symlink> symlink = function(LowLevelCallbacks.Symlink.class);
  public final Function<LowLevelCallbacks.Rename3> rename = function(LowLevelCallbacks.Rename3.class);
  public final Function<LowLevelCallbacks.Link> link = function(LowLevelCallbacks.Link.class);
  public final Function<LowLevelCallbacks.FileOp> open = function(LowLevelCallbacks.FileOp.class);
  public final Function<LowLevelCallbacks.Read> read = function(LowLevelCallbacks.Read.class);
  public final Function<LowLevelCallbacks.Write> write = function(LowLevelCallbacks.Write.class);
  public final Function<LowLevelCallbacks.FileOp> flush = function(LowLevelCallbacks.FileOp.class);
  public final Function<LowLevelCallbacks.FileOp> release = function(LowLevelCallbacks.FileOp.class);
  public final Function<LowLevelCallbacks.Fsync> fsync = function(LowLevelCallbacks.Fsync.class);
  public final Function<LowLevelCallbacks.FileOp> opendir = function(LowLevelCallbacks.FileOp.class);
  public final Function<LowLevelCallbacks.Read> readdir = function(LowLevelCallbacks.Read.class);
  public final Function<LowLevelCallbacks.FileOp> releasedir = function(LowLevelCallbacks.FileOp.class);
  public final Function<LowLevelCallbacks.Fsync> fsyncdir = function(LowLevelCallbacks.Fsync.class);
  public final Function<LowLevelCallbacks.Statfs> statfs = function(LowLevelCallbacks.Statfs.class);
  public final Function<LowLevelCallbacks.SetXattr> setxattr = function(LowLevelCallbacks.SetXattr.class);
  public final Function<LowLevelCallbacks.GetXattr> getxattr = function(LowLevelCallbacks.GetXattr.class);
  public final Function<LowLevelCallbacks.ListXattr> listxattr = function(LowLevelCallbacks.ListXattr.class);
  public final Function<LowLevelCallbacks.RemoveXattr> removexattr = function(LowLevelCallbacks.RemoveXattr.class);
  public final Function<LowLevelCallbacks.Access> access = function(LowLevelCallbacks.Access.class);
  public final Function<LowLevelCallbacks.Create> create = function(LowLevelCallbacks.Create.class);
  public final Struct.Pointer getlk = new Struct.Pointer();
  public final Struct.Pointer setlk = new Struct.Pointer();
  public final Struct.Pointer bmap = new Struct.Pointer();
  public final Struct.Pointer ioctl = new Struct.Pointer();
  public final Struct.Pointer poll = new Struct.Pointer();
  public final Struct.Pointer writeBuf = new Struct.Pointer();
  public final Struct.Pointer retrieveReply = new Struct.Pointer();
  public final Struct.Pointer forgetMulti = new Struct.Pointer();
  public final Struct.Pointer flock = new Struct.Pointer();
  public final Function<LowLevelCallbacks.Fallocate> fallocate = function(LowLevelCallbacks.Fallocate.class);
  public final Struct.Pointer readdirplus = new Struct.Pointer();
  public final Function<LowLevelCallbacks.CopyFileRange> copyFileRange =
      function(LowLevelCallbacks.CopyFileRange.class);
  public final Function<LowLevelCallbacks.Lseek> lseek = function(LowLevelCallbacks.Lseek.class);

  public LowLevelOps3(Runtime runtime) {
    super(runtime);
  }

  /** 44 pointers. */
  static final int SIZE = 44 * 8;
}
