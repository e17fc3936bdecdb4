package io.dynamicfs.fuse.lowlevel;

/**
 * Byte offsets of the C structs the low-level binding reads and writes directly (glibc, x86_64 Linux).
 * Written through {@link jnr.ffi.Pointer} with these offsets rather than jnr {@code Struct}s: each
 * worker thread reuses one native buffer per struct, so a request allocates nothing native.
 */
final class Layout {
  private Layout() {}

  /** {@code struct stat} (x86_64): 144 bytes. */
  static final class Stat {
    static final int SIZE = 144;
    static final int DEV = 0;
    static final int INO = 8;
    static final int NLINK = 16; // unsigned long on x86_64
    static final int MODE = 24; // unsigned int
    static final int UID = 28;
    static final int GID = 32;
    static final int RDEV = 40;
    static final int SIZE_ = 48;
    static final int BLKSIZE = 56;
    static final int BLOCKS = 64;
    static final int ATIM = 72; // struct timespec {tv_sec; tv_nsec}
    static final int MTIM = 88;
    static final int CTIM = 104;

    private Stat() {}
  }

  /**
   * {@code struct fuse_entry_param}: {@code fuse_ino_t ino; unsigned long generation; struct stat attr;
   * double attr_timeout; double entry_timeout;}.
   */
  static final class EntryParam {
    static final int SIZE = 176;
    static final int INO = 0;
    static final int GENERATION = 8;
    static final int ATTR = 16;
    static final int ATTR_TIMEOUT = 160;
    static final int ENTRY_TIMEOUT = 168;

    private EntryParam() {}
  }

  /**
   * {@code struct fuse_file_info} (2.9): {@code int flags; unsigned long fh_old; int writepage;
   * unsigned direct_io:1, keep_cache:1, flush:1, nonseekable:1, flock_release:1, padding:27;
   * uint64_t fh; uint64_t lock_owner;}.
   */
  static final class FileInfo {
    static final int SIZE = 40;
    static final int FLAGS = 0;
    static final int FH_OLD = 8;
    static final int WRITEPAGE = 16;
    static final int BITS = 20;
    static final int BIT_DIRECT_IO = 1;
    static final int BIT_KEEP_CACHE = 2;
    static final int BIT_FLUSH = 4;
    static final int BIT_NONSEEKABLE = 8;
    static final int FH = 24;
    static final int LOCK_OWNER = 32;

    private FileInfo() {}
  }

  /**
   * {@code struct fuse_file_info} (3.14): {@code int flags; unsigned writepage:1, direct_io:1, keep_cache:1,
   * flush:1, nonseekable:1, flock_release:1, cache_readdir:1, noflush:1, padding:24; unsigned padding2:32;
   * uint64_t fh; uint64_t lock_owner; uint32_t poll_events;}.
   */
  static final class FileInfo3 {
    static final int SIZE = 40;
    static final int FLAGS = 0;
    static final int BITS = 4;
    static final int BIT_WRITEPAGE = 1;
    static final int BIT_DIRECT_IO = 2;
    static final int BIT_KEEP_CACHE = 4;
    static final int BIT_CACHE_READDIR = 64;
    static final int BIT_NOFLUSH = 128;
    static final int FH = 16;
    static final int LOCK_OWNER = 24;

    private FileInfo3() {}
  }

  /**
   * {@code struct fuse_buf} (3.14): {@code size_t size; enum fuse_buf_flags flags; void *mem; int fd;
   * off_t pos;}.
   */
  static final class Fuse3Buf {
    static final int SIZE = 40;
    static final int BUF_SIZE = 0;
    static final int FLAGS = 8;
    static final int MEM = 16;
    static final int FD = 24;
    static final int POS = 32;
    /** {@code FUSE_BUF_IS_FD}: the request sits in a pipe (splice), not in {@code mem}. */
    static final int IS_FD = 1 << 1;

    private Fuse3Buf() {}
  }

  /** {@code struct fuse_ctx}: {@code uid_t uid; gid_t gid; pid_t pid; mode_t umask;}. */
  static final class Ctx {
    static final int UID = 0;
    static final int GID = 4;
    static final int PID = 8;
    static final int UMASK = 12;

    private Ctx() {}
  }

  /** {@code struct statvfs} (x86_64 glibc): eleven unsigned longs, then int __f_spare[6]. */
  static final class Statvfs {
    static final int SIZE = 112;
    static final int BSIZE = 0;
    static final int FRSIZE = 8;
    static final int BLOCKS = 16;
    static final int BFREE = 24;
    static final int BAVAIL = 32;
    static final int FILES = 40;
    static final int FFREE = 48;
    static final int FAVAIL = 56;
    static final int FSID = 64;
    static final int FLAG = 72;
    static final int NAMEMAX = 80;

    private Statvfs() {}
  }

  /** {@code struct fuse_args}: {@code int argc; char **argv; int allocated;}. */
  static final class Args {
    static final int SIZE = 24;

    private Args() {}
  }

  /**
   * {@code struct fuse_conn_info} (2.9): {@code unsigned proto_major, proto_minor, async_read,
   * max_write, max_readahead, capable, want, max_background, congestion_threshold, reserved[23];}.
   */
  static final class ConnInfo {
    static final int MAX_WRITE = 12;
    static final int MAX_READAHEAD = 16;
    static final int CAPABLE = 20;
    static final int WANT = 24;
    static final int MAX_BACKGROUND = 28;
    static final int CONGESTION_THRESHOLD = 32;

    private ConnInfo() {}
  }

  /**
   * {@code struct fuse_conn_info} (3.14): {@code unsigned proto_major, proto_minor, max_write, max_read,
   * max_readahead, capable, want, max_background, congestion_threshold, time_gran, reserved[22];}. Capable,
   * want and the background limits sit where 2.9 has them.
   */
  static final class ConnInfo3 {
    static final int MAX_WRITE = 8;
    static final int MAX_READ = 12;
    static final int MAX_READAHEAD = 16;
    static final int CAPABLE = 20;
    static final int WANT = 24;
    static final int MAX_BACKGROUND = 28;
    static final int CONGESTION_THRESHOLD = 32;
    static final int TIME_GRAN = 36;

    private ConnInfo3() {}
  }

  // fuse_conn_info capabilities (FUSE_CAP_*): the same bits in 2.9 and 3.14 where both have them.
  static final int CAP_ASYNC_READ = 1;
  static final int CAP_ATOMIC_O_TRUNC = 1 << 3;
  /** The kernel may look up "." and ".." of a bare inode number (file handles). */
  static final int CAP_EXPORT_SUPPORT = 1 << 4;
  static final int CAP_SPLICE_READ = 1 << 9;
  static final int CAP_IOCTL_DIR = 1 << 11;
  /** Revalidate attributes on read, drop pages when mtime/size changed. */
  static final int CAP_AUTO_INVAL_DATA = 1 << 12;
  static final int CAP_READDIRPLUS = 1 << 13;
  static final int CAP_READDIRPLUS_AUTO = 1 << 14;
  static final int CAP_ASYNC_DIO = 1 << 15;
  static final int CAP_WRITEBACK_CACHE = 1 << 16;
  static final int CAP_PARALLEL_DIROPS = 1 << 18;
  /** libfuse 3: the filesystem, not the kernel, clears set-user-ID and set-group-ID on write and truncate. */
  static final int CAP_HANDLE_KILLPRIV = 1 << 20;

  /** setattr's {@code to_set} bits. */
  static final int SET_ATTR_MODE = 1;
  static final int SET_ATTR_UID = 2;
  static final int SET_ATTR_GID = 4;
  static final int SET_ATTR_SIZE = 8;
  static final int SET_ATTR_ATIME = 16;
  static final int SET_ATTR_MTIME = 32;
  static final int SET_ATTR_ATIME_NOW = 128;
  static final int SET_ATTR_MTIME_NOW = 256;
  /** libfuse 3: ctime given (the kernel owns the times under the writeback cache). */
  static final int SET_ATTR_CTIME = 1 << 10;

  /** {@code struct fuse_in_header}, as the kernel sends it: {@code uint32_t len; uint32_t opcode; ...}. */
  static final int IN_HEADER_OPCODE = 4;
}
