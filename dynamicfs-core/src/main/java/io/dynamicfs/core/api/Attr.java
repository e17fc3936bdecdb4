package io.dynamicfs.core.api;

/**
 * The attributes of an inode as {@code stat(2)} reports them. Times are nanoseconds since the epoch.
 * {@code blocks} counts 512-byte units actually stored (holes are free).
 */
public record Attr(
    long ino,
    int mode,
    int nlink,
    int uid,
    int gid,
    long rdev,
    long size,
    long blocks,
    long atimeNs,
    long mtimeNs,
    long ctimeNs,
    int blockSize) {

  public FileType type() {
    try {
      return FileType.ofMode(mode);
    } catch (FsException e) {
      throw new IllegalStateException(e);
    }
  }

  public boolean isDirectory() {
    return (mode & FileType.S_IFMT) == FileType.DIRECTORY.bits();
  }
}
