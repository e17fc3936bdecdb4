package io.dynamicfs.fuse.lowlevel;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;

/**
 * The functions libfuse 2.9 and libfuse 3 share with the same C signatures: replies, the request's caller,
 * directory entries, option lists, and a session's exit and teardown. {@link LowLevelAdapter} uses only
 * these, so it serves either binding ({@link LibFuseLowLevel}, {@link LibFuse3LowLevel}); what differs
 * (mounting, reading requests, notifications, struct layouts) lives in the binding and in {@link FuseAbi}.
 *
 * <p>Pointers: {@code req} is a {@code fuse_req_t}; {@code e} a {@code struct fuse_entry_param*};
 * {@code fi} a {@code struct fuse_file_info*}; {@code attr}/{@code stbuf} a {@code struct stat*} or
 * {@code struct statvfs*}.
 */
public interface LibFuseCommon {
  int fuse_reply_err(Pointer req, int err);

  void fuse_reply_none(Pointer req);

  int fuse_reply_entry(Pointer req, Pointer e);

  int fuse_reply_create(Pointer req, Pointer e, Pointer fi);

  int fuse_reply_attr(Pointer req, Pointer attr, double attrTimeout);

  int fuse_reply_readlink(Pointer req, String link);

  int fuse_reply_open(Pointer req, Pointer fi);

  int fuse_reply_write(Pointer req, long count);

  int fuse_reply_buf(Pointer req, @In byte[] buf, long size);

  int fuse_reply_buf(Pointer req, Pointer buf, long size);

  int fuse_reply_statfs(Pointer req, Pointer stbuf);

  int fuse_reply_xattr(Pointer req, long count);

  /** Returns the entry's aligned size; writes it only if it fits in {@code bufsize}. */
  long fuse_add_direntry(Pointer req, Pointer buf, long bufsize, String name, Pointer stbuf, long off);

  /** {@code const struct fuse_ctx*}: uid, gid, pid, umask of the requesting process. */
  Pointer fuse_req_ctx(Pointer req);

  int fuse_opt_add_arg(Pointer args, String arg);

  void fuse_opt_free_args(Pointer args);

  /** {@code se} is a {@code struct fuse_session*}. */
  int fuse_session_exited(Pointer se);

  void fuse_session_exit(Pointer se);

  void fuse_session_destroy(Pointer se);
}
