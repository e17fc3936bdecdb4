package io.dynamicfs.cluster.transport;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Objects;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What a block client shows a block server in its HELLO, and what the server expects: the cluster id and a
 * proof derived from the cluster's shared secret, HMAC-SHA256(secret, label + cluster id). The secret itself
 * never crosses the network (it also keys the Raft port's TLS, see {@code RaftTls}, which someone reading
 * a HELLO must not learn), and neither the secret nor the proof appears in {@link #toString} or a log line.
 * The proof is the same on every connection, so someone who can read the network can still replay it to
 * the block port (frames are not encrypted): keep block ports on a private network.
 */
public final class ClusterCredentials {
  private static final String LABEL = "dynamicfs block hello v1 ";
  private final UUID clusterId;
  private final byte[] token;

  /** {@code secret}: the cluster's shared secret (1 to 1024 bytes of UTF-8). */
  public ClusterCredentials(UUID clusterId, String secret) {
    this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
    byte[] key = Objects.requireNonNull(secret, "secret").getBytes(StandardCharsets.UTF_8);
    if (key.length == 0 || key.length > 1024) {
      throw new IllegalArgumentException("token must be 1 to 1024 bytes of UTF-8, not " + key.length);
    }
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      this.token = mac.doFinal((LABEL + clusterId).getBytes(StandardCharsets.US_ASCII));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is missing from this JDK", e);
    }
  }

  public UUID clusterId() {
    return clusterId;
  }

  /** The proof a HELLO carries (32 bytes). */
  byte[] token() {
    return token.clone();
  }

  /** Whether {@code presented} is the proof, in time that does not depend on where they differ. */
  boolean tokenMatches(byte[] presented) {
    return MessageDigest.isEqual(token, presented);
  }

  @Override
  public String toString() {
    return "ClusterCredentials[cluster=" + clusterId + ", token=<hidden>]";
  }
}
