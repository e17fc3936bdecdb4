package io.dynamicfs.cluster.transport;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;
import java.util.UUID;

/**
 * What a block client shows a block server in its HELLO, and what the server expects: the cluster id and the
 * cluster's shared secret token. The token never appears in {@link #toString} or a log line.
 */
public final class ClusterCredentials {
  private final UUID clusterId;
  private final byte[] token;

  /** {@code token}: the shared secret (UTF-8 on the wire, 1 to 1024 bytes). */
  public ClusterCredentials(UUID clusterId, String token) {
    this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
    this.token = Objects.requireNonNull(token, "token").getBytes(StandardCharsets.UTF_8);
    if (this.token.length == 0 || this.token.length > 1024) {
      throw new IllegalArgumentException("token must be 1 to 1024 bytes of UTF-8, not " + this.token.length);
    }
  }

  public UUID clusterId() {
    return clusterId;
  }

  byte[] token() {
    return token.clone();
  }

  /** Whether {@code presented} is the token, in time that does not depend on where they differ. */
  boolean tokenMatches(byte[] presented) {
    return MessageDigest.isEqual(token, presented);
  }

  @Override
  public String toString() {
    return "ClusterCredentials[cluster=" + clusterId + ", token=<hidden>]";
  }
}
