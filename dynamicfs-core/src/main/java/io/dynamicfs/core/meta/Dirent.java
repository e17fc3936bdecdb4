package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import java.nio.ByteBuffer;

/** The value of a directory entry: the inode it names and that inode's type (for readdir). */
record Dirent(long ino, FileType type) {
  byte[] encode() {
    return ByteBuffer.allocate(9).putLong(ino).put((byte) type.ordinal()).array();
  }

  static Dirent decode(byte[] v) throws FsException {
    if (v.length != 9 || (v[8] & 0xff) >= FileType.values().length) {
      throw FsException.of(Errno.EIO, "directory entry is malformed (%d bytes)", v.length);
    }
    return new Dirent(ByteBuffer.wrap(v).getLong(), FileType.values()[v[8]]);
  }
}
