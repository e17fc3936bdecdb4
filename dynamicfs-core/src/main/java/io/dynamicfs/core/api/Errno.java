package io.dynamicfs.core.api;

/**
 * POSIX error numbers the engine reports. Values are Linux's; the FUSE adapter negates them. A platform
 * with other numbers maps names, never values.
 */
public enum Errno {
  EPERM(1),
  ENOENT(2),
  EIO(5),
  ENXIO(6),
  E2BIG(7),
  EBADF(9),
  EAGAIN(11),
  ENOMEM(12),
  EACCES(13),
  EBUSY(16),
  EEXIST(17),
  EXDEV(18),
  ENODEV(19),
  ENOTDIR(20),
  EISDIR(21),
  EINVAL(22),
  EFBIG(27),
  ENOSPC(28),
  EROFS(30),
  EMLINK(31),
  ERANGE(34),
  ENAMETOOLONG(36),
  ENOSYS(38),
  ENOTEMPTY(39),
  ELOOP(40),
  ENODATA(61),
  ESTALE(116),
  EOPNOTSUPP(95);

  private final int code;

  Errno(int code) {
    this.code = code;
  }

  /** The positive Linux value. */
  public int code() {
    return code;
  }
}
