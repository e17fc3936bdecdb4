package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.transport.ClusterCredentials;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The cluster's identity and shared secret, as one line in a file readable only by its owner:
 * {@code dynamicfs-cluster <uuid> <secret>}. cluster-init writes it to DATA/cluster/token; nodes that join
 * and machines that mount are given a copy ({@code --token-file}). The uuid names the Raft group and is
 * checked in every block-server HELLO; the secret is never logged.
 */
public record ClusterToken(UUID clusterId, String secret) {
  private static final String MAGIC = "dynamicfs-cluster";

  public static ClusterToken generate() {
    byte[] b = new byte[32];
    new SecureRandom().nextBytes(b);
    return new ClusterToken(UUID.randomUUID(), HexFormat.of().formatHex(b));
  }

  public ClusterCredentials credentials() {
    return new ClusterCredentials(clusterId, secret);
  }

  /** Writes the token with mode 0600 (created new; an existing file is replaced atomically). */
  public void write(Path file) throws IOException {
    Files.createDirectories(file.toAbsolutePath().getParent());
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(tmp, MAGIC + " " + clusterId + " " + secret + "\n", StandardCharsets.US_ASCII);
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
  }

  /** Reads a token file; a missing or malformed one is a clear EINVAL/ENOENT naming the file. */
  public static ClusterToken read(Path file) throws FsException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (java.nio.file.NoSuchFileException e) {
      throw FsException.of(Errno.ENOENT, "cluster token file %s does not exist", file);
    } catch (IOException e) {
      throw FsException.of(Errno.EACCES, "cannot read cluster token file %s: %s", file, e.getMessage());
    }
    String[] f = text.split(" ");
    if (f.length != 3 || !f[0].equals(MAGIC) || f[2].length() < 16 || f[2].length() > 1024) {
      throw FsException.of(Errno.EINVAL, "%s is not a DynamicFS cluster token file", file);
    }
    try {
      return new ClusterToken(UUID.fromString(f[1]), f[2]);
    } catch (IllegalArgumentException e) {
      throw FsException.of(Errno.EINVAL, "%s is not a DynamicFS cluster token file (bad cluster id)", file);
    }
  }

  @Override
  public String toString() {
    return "ClusterToken[" + clusterId + ", secret=<hidden>]";
  }
}
