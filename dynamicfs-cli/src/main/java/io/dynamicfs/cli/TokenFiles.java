package io.dynamicfs.cli;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.nio.file.Path;

/** Where a command finds the cluster token: --token-file, else $DYNAMICFS_TOKEN_FILE. */
public final class TokenFiles {
  private TokenFiles() {}

  public static Path resolve(Path option) throws FsException {
    if (option != null) {
      return option;
    }
    String env = System.getenv("DYNAMICFS_TOKEN_FILE");
    if (env != null && !env.isBlank()) {
      return Path.of(env);
    }
    throw new FsException(Errno.EINVAL, "the cluster's token is needed: --token-file FILE (a copy of the first "
        + "node's DATA/cluster/token) or DYNAMICFS_TOKEN_FILE");
  }
}
