package io.dynamicfs.core.api;

/** The kinds of inode, with their {@code S_IFMT} bits. */
public enum FileType {
  REGULAR(0100000),
  DIRECTORY(0040000),
  SYMLINK(0120000),
  FIFO(0010000),
  SOCKET(0140000),
  CHAR_DEVICE(0020000),
  BLOCK_DEVICE(0060000);

  public static final int S_IFMT = 0170000;
  private final int bits;

  FileType(int bits) {
    this.bits = bits;
  }

  public int bits() {
    return bits;
  }

  /** The type encoded in a full mode word; EINVAL for an unknown type. */
  public static FileType ofMode(int mode) throws FsException {
    int t = mode & S_IFMT;
    if (t == 0) {
      return REGULAR; // mknod(2): a zero type means a regular file
    }
    for (FileType ft : values()) {
      if (ft.bits == t) {
        return ft;
      }
    }
    throw FsException.of(Errno.EINVAL, "unknown file type in mode 0%o", mode);
  }
}
