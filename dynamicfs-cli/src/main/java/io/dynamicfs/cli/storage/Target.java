package io.dynamicfs.cli.storage;

import io.dynamicfs.cli.admin.DynamicFsMounts;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a storage command works on: a DATA directory, and the mount point when it is mounted. A path given
 * by the user may be a mount point, a path inside a mount (then {@link #inner} is the path from the
 * filesystem's root), or a DATA directory.
 */
record Target(Path data, Path mountPoint, String inner) {
  boolean mounted() {
    return mountPoint != null;
  }

  /** Resolves a mount point, a path inside a mount, or a DATA directory. */
  static Target resolve(Path p) throws IOException {
    Path abs = p.toAbsolutePath().normalize();
    Optional<DynamicFsMounts.Mount> in = DynamicFsMounts.containing(abs);
    if (in.isPresent()) {
      Path rel = in.get().mountPoint().relativize(abs);
      return new Target(in.get().data(), in.get().mountPoint(), "/" + rel.toString().replace('\\', '/'));
    }
    if (Files.isRegularFile(abs.resolve("dynamicfs.properties"))) {
      for (DynamicFsMounts.Mount m : DynamicFsMounts.list()) {
        if (m.data().equals(abs)) {
          return new Target(abs, m.mountPoint(), "/");
        }
      }
      return new Target(abs, null, "/");
    }
    throw FsException.of(Errno.EINVAL, "%s is neither a mounted DynamicFS (or a path in one) nor a DATA directory", abs);
  }
}
