package io.dynamicfs.fuse.lowlevel;

/**
 * What differs between the libfuse 2.9 and libfuse 3.14 C ABI for the code both bindings share
 * ({@link LowLevelAdapter}): where {@code struct fuse_file_info} keeps the handle and the keep_cache and noflush bits,
 * where {@code struct fuse_conn_info} keeps the request size limits, and what the kernel connection can be
 * asked for. The callbacks' C signatures and {@code fuse_entry_param}, {@code stat}, {@code statvfs} and
 * {@code fuse_ctx} are the same in both.
 */
enum FuseAbi {
  FUSE2("fuse2", Layout.FileInfo.FH, Layout.FileInfo.BITS, Layout.FileInfo.BIT_KEEP_CACHE, 0,
      Layout.ConnInfo.MAX_WRITE, Layout.ConnInfo.MAX_READAHEAD),
  FUSE3("fuse3", Layout.FileInfo3.FH, Layout.FileInfo3.BITS, Layout.FileInfo3.BIT_KEEP_CACHE,
      Layout.FileInfo3.BIT_NOFLUSH, Layout.ConnInfo3.MAX_WRITE, Layout.ConnInfo3.MAX_READAHEAD);

  /** The name the mount's log line and {@code -Ddfs.fuse.lib} use. */
  final String libName;
  final int fileInfoFh;
  final int fileInfoBits;
  final int keepCacheBit;
  /** {@code noflush} (FOPEN_NOFLUSH: no FLUSH request at close), 0 where the ABI has no such bit. */
  final int noFlushBit;
  final int connMaxWrite;
  final int connMaxReadahead;

  FuseAbi(String libName, int fileInfoFh, int fileInfoBits, int keepCacheBit, int noFlushBit, int connMaxWrite,
      int connMaxReadahead) {
    this.libName = libName;
    this.fileInfoFh = fileInfoFh;
    this.fileInfoBits = fileInfoBits;
    this.keepCacheBit = keepCacheBit;
    this.noFlushBit = noFlushBit;
    this.connMaxWrite = connMaxWrite;
    this.connMaxReadahead = connMaxReadahead;
  }
}
