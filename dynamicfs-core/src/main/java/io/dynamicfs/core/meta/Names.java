package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.nio.charset.StandardCharsets;

/**
 * Checks on names: one component, at most NAME_MAX bytes of UTF-8. The engine checks early (no log entry
 * for a bad name) and {@link OpApplier} checks again, so a replica never relies on its proposer.
 */
public final class Names {
  public static final int NAME_MAX = 255;
  public static final int PATH_MAX = 4096;
  public static final int XATTR_NAME_MAX = 255;

  private Names() {}

  public static String requireValid(String name) throws FsException {
    if (name == null || name.isEmpty()) {
      throw new FsException(Errno.ENOENT, "empty name");
    }
    if (name.equals(".") || name.equals("..")) {
      throw FsException.of(Errno.EINVAL, "'%s' cannot be created or removed", name);
    }
    if (name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
      throw FsException.of(Errno.EINVAL, "name '%s' contains '/' or NUL", name);
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX) {
      throw FsException.of(Errno.ENAMETOOLONG, "name of %d bytes exceeds %d",
          name.getBytes(StandardCharsets.UTF_8).length, NAME_MAX);
    }
    return name;
  }

  public static String requireValidTarget(String target) throws FsException {
    if (target == null || target.isEmpty()) {
      throw new FsException(Errno.ENOENT, "empty symlink target");
    }
    if (target.getBytes(StandardCharsets.UTF_8).length >= PATH_MAX) {
      throw FsException.of(Errno.ENAMETOOLONG, "symlink target longer than %d bytes", PATH_MAX - 1);
    }
    return target;
  }

  /** xattr names: a supported namespace, 1–255 bytes. POSIX ACLs are not supported (EOPNOTSUPP). */
  public static String requireValidXattr(String name) throws FsException {
    if (name == null || name.isEmpty()) {
      throw new FsException(Errno.EINVAL, "empty xattr name");
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > XATTR_NAME_MAX) {
      throw FsException.of(Errno.ERANGE, "xattr name longer than %d bytes", XATTR_NAME_MAX);
    }
    if (!(name.startsWith("user.") || name.startsWith("trusted.") || name.startsWith("security."))) {
      throw FsException.of(Errno.EOPNOTSUPP, "xattr namespace of '%s' is not supported", name);
    }
    return name;
  }
}
