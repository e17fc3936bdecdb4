package io.dynamicfs.core.api;

import java.io.Closeable;
import java.io.IOException;
import java.util.List;

/**
 * The inode-based POSIX operations of one mounted DynamicFS: the single seam between the kernel side
 * (FUSE adapter) and the engine. Every method either succeeds or throws {@link FsException} carrying the
 * errno to report; nothing here knows about FUSE.
 *
 * <p>Names are single path components (never containing '/'), checked against NAME_MAX (255 bytes of
 * UTF-8). Handles come from {@link #open} or {@link #create} and stay valid until {@link #release}, even
 * after the file is unlinked.
 */
public interface FileSystem extends Closeable {
  long ROOT_INO = 1;

  int RENAME_NOREPLACE = 1;
  int RENAME_EXCHANGE = 2;
  int XATTR_CREATE = 1;
  int XATTR_REPLACE = 2;

  /**
   * The largest size a file can have on a filesystem of {@code blockSize}: the largest multiple of the
   * block size a signed 64-bit offset holds, 2^63 − blockSize (9,223,372,036,853,727,232 bytes with
   * 1 MiB blocks). A write starting at or past it fails with EFBIG, one crossing it stores the bytes
   * below it and returns that shorter count, and truncate or fallocate beyond it fail with EFBIG, as on
   * ext4 (whose limit is 16 TiB with 4 KiB blocks).
   */
  static long maxFileSize(int blockSize) {
    return Long.MAX_VALUE / blockSize * blockSize;
  }

  Attr getattr(long ino) throws IOException;

  /**
   * The inode a name in a directory refers to ("." the directory, ".." its parent, the root's own);
   * ENOENT if none, ENOTDIR if parent is not a directory.
   */
  long lookup(long parent, String name) throws IOException;

  /** Creates a regular file, FIFO, socket or device node. {@code mode} carries type and permission bits. */
  Attr mknod(Caller caller, long parent, String name, int mode, long rdev) throws IOException;

  Attr mkdir(Caller caller, long parent, String name, int mode) throws IOException;

  Attr symlink(Caller caller, long parent, String name, String target) throws IOException;

  String readlink(long ino) throws IOException;

  void unlink(long parent, String name) throws IOException;

  void rmdir(long parent, String name) throws IOException;

  /** Atomic rename; {@code flags} may hold {@link #RENAME_NOREPLACE} or {@link #RENAME_EXCHANGE}. */
  void rename(long parent, String name, long newParent, String newName, int flags) throws IOException;

  /** A new name for an existing non-directory inode. */
  Attr link(long ino, long newParent, String newName) throws IOException;

  /** Applies the non-null fields of {@code changes}; {@code handle} is the open handle or 0. */
  Attr setattr(Caller caller, long ino, SetAttr changes, long handle) throws IOException;

  /** Opens an existing inode with open(2) flags (O_TRUNC and O_APPEND honoured). */
  long open(Caller caller, long ino, int flags) throws IOException;

  /** Creates and opens a regular file (O_EXCL semantics: EEXIST if the name exists). */
  OpenResult create(Caller caller, long parent, String name, int mode, int flags) throws IOException;

  /** Reads up to {@code length} bytes at {@code offset} into {@code dst}; returns the count, 0 at EOF. */
  int read(long handle, long offset, byte[] dst, int dstOffset, int length) throws IOException;

  /** Writes bytes at {@code offset} (at EOF for an O_APPEND handle); returns the count written. */
  int write(long handle, long offset, byte[] src, int srcOffset, int length) throws IOException;

  /** fallocate(2) mode: do not change the size (the reservation may reach past the end of file). */
  int FALLOC_FL_KEEP_SIZE = 0x01;
  /** fallocate(2) mode: deallocate the range (reads give zeros); only with {@link #FALLOC_FL_KEEP_SIZE}. */
  int FALLOC_FL_PUNCH_HOLE = 0x02;
  /** fallocate(2) mode: zero the range and keep it allocated (reserved). */
  int FALLOC_FL_ZERO_RANGE = 0x10;

  /**
   * fallocate(2) on an open handle. Mode 0 or {@link #FALLOC_FL_KEEP_SIZE}: reserves space for
   * {@code [offset, offset + length)} so that writing it later cannot fail for lack of space (ENOSPC now
   * when there is not that much free), and without KEEP_SIZE grows the file to {@code offset + length}.
   * {@link #FALLOC_FL_PUNCH_HOLE} (with KEEP_SIZE): the range inside the file reads as zeros and whole blocks
   * in it become holes. {@link #FALLOC_FL_ZERO_RANGE}: the same, then the range is reserved as mode 0 or
   * KEEP_SIZE would. An unprivileged {@code caller} clears set-user-ID and set-group-ID as a write does.
   * Other modes (collapse, insert, unshare) are EOPNOTSUPP.
   */
  default void fallocate(Caller caller, long handle, int mode, long offset, long length) throws IOException {
    throw FsException.of(Errno.EOPNOTSUPP, "fallocate is not supported");
  }

  /** lseek(2) whence: the next data at or after the offset. */
  int SEEK_DATA = 3;
  /** lseek(2) whence: the next hole at or after the offset (the end of file counts as one). */
  int SEEK_HOLE = 4;

  /**
   * lseek(2) with {@link #SEEK_DATA} or {@link #SEEK_HOLE} on an open handle: where the next data or hole
   * starts at or after {@code offset}; ENXIO when {@code offset} is at or past the end of file (and for
   * SEEK_DATA when only holes follow). The default knows no holes: all of the file is data.
   */
  default long seekData(long handle, long offset, int whence) throws IOException {
    long size = getattr(inodeOf(handle)).size();
    if (whence != SEEK_DATA && whence != SEEK_HOLE) {
      throw FsException.of(Errno.EINVAL, "lseek whence %d", whence);
    }
    if (offset < 0) {
      throw FsException.of(Errno.EINVAL, "negative offset %d", offset);
    }
    if (offset >= size) {
      throw FsException.of(Errno.ENXIO, "offset %d is at or past the end of file (%d)", offset, size);
    }
    return whence == SEEK_DATA ? offset : size;
  }

  /**
   * copy_file_range(2) between two open handles: copies up to {@code length} bytes from {@code offsetIn} of
   * {@code handleIn}'s file to {@code offsetOut} of {@code handleOut}'s and returns the count (0 at or past
   * the source's end of file). The result reads exactly as a byte copy would, including what either file
   * has written but not yet flushed. {@code flags} must be 0. The default refuses (EOPNOTSUPP: the kernel then
   * copies the bytes itself).
   */
  default long copyFileRange(Caller caller, long handleIn, long offsetIn, long handleOut, long offsetOut,
      long length, int flags) throws IOException {
    throw FsException.of(Errno.EOPNOTSUPP, "copy_file_range is not supported");
  }

  /** The handle's inode: what fstat on it reports even after unlink. */
  long inodeOf(long handle) throws IOException;

  /** close(2) on one descriptor of the handle: makes the written data visible to the store. */
  void flush(long handle) throws IOException;

  /** Returns once the file's data (and metadata unless {@code dataOnly}) is durable. */
  void fsync(long handle, boolean dataOnly) throws IOException;

  /** The last close of the handle; an unlinked inode is reclaimed when its last handle goes. */
  void release(long handle) throws IOException;

  /** Entries of a directory, without "." and "..". */
  List<DirEntry> readdir(long ino) throws IOException;

  /** Makes all metadata durable (fsyncdir, syncfs). */
  void syncMetadata() throws IOException;

  byte[] getxattr(long ino, String name) throws IOException;

  void setxattr(long ino, String name, byte[] value, int flags) throws IOException;

  List<String> listxattr(long ino) throws IOException;

  void removexattr(long ino, String name) throws IOException;

  StatFs statfs() throws IOException;
}
