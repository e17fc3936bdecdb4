package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import java.nio.ByteBuffer;

/**
 * An inode as stored: attributes, link count and, for a directory, its parent (for ".." and the ancestor
 * check of rename). {@code storedBytes} is the bytes accounted to the file, from which st_blocks derives:
 * the plain size of the blocks it references (holes excluded), with a whole block for each block index a
 * fallocate reserved, written or not. Immutable; changes make copies.
 */
public record Inode(
    long ino,
    int mode,
    int uid,
    int gid,
    int nlink,
    long rdev,
    long size,
    long storedBytes,
    long atimeNs,
    long mtimeNs,
    long ctimeNs,
    long parent) {

  private static final byte VERSION = 1;
  static final int ENCODED = 1 + 4 * 4 + 8 * 7;

  public FileType type() {
    try {
      return FileType.ofMode(mode);
    } catch (FsException e) {
      throw new IllegalStateException("inode " + ino + " has a bad mode", e);
    }
  }

  public boolean isDirectory() {
    return (mode & FileType.S_IFMT) == FileType.DIRECTORY.bits();
  }

  public boolean isRegular() {
    return (mode & FileType.S_IFMT) == FileType.REGULAR.bits();
  }

  public Inode withMode(int m) {
    return new Inode(ino, m, uid, gid, nlink, rdev, size, storedBytes, atimeNs, mtimeNs, ctimeNs, parent);
  }

  public Inode withOwner(int u, int g) {
    return new Inode(ino, mode, u, g, nlink, rdev, size, storedBytes, atimeNs, mtimeNs, ctimeNs, parent);
  }

  public Inode withNlink(int n) {
    return new Inode(ino, mode, uid, gid, n, rdev, size, storedBytes, atimeNs, mtimeNs, ctimeNs, parent);
  }

  public Inode withSize(long s, long stored) {
    return new Inode(ino, mode, uid, gid, nlink, rdev, s, stored, atimeNs, mtimeNs, ctimeNs, parent);
  }

  public Inode withTimes(long a, long m, long c) {
    return new Inode(ino, mode, uid, gid, nlink, rdev, size, storedBytes, a, m, c, parent);
  }

  public Inode withCtime(long c) {
    return withTimes(atimeNs, mtimeNs, c);
  }

  public Inode withParent(long p) {
    return new Inode(ino, mode, uid, gid, nlink, rdev, size, storedBytes, atimeNs, mtimeNs, ctimeNs, p);
  }

  byte[] encode() {
    ByteBuffer b = ByteBuffer.allocate(ENCODED);
    b.put(VERSION).putInt(mode).putInt(uid).putInt(gid).putInt(nlink);
    b.putLong(rdev).putLong(size).putLong(storedBytes).putLong(atimeNs).putLong(mtimeNs).putLong(ctimeNs)
        .putLong(parent);
    return b.array();
  }

  static Inode decode(long ino, byte[] v) throws FsException {
    if (v.length != ENCODED || v[0] != VERSION) {
      throw FsException.of(Errno.EIO, "inode %d record is malformed (%d bytes, version %d)", ino, v.length,
          v.length > 0 ? v[0] : -1);
    }
    ByteBuffer b = ByteBuffer.wrap(v, 1, v.length - 1);
    return new Inode(ino, b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getLong(), b.getLong(), b.getLong(),
        b.getLong(), b.getLong(), b.getLong(), b.getLong());
  }
}
