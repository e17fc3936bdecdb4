package io.dynamicfs.cluster.transport;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * How a block client and a block server prove to each other that they belong to one cluster, without the
 * cluster's shared secret or anything replayable crossing the network. Both derive a key from the secret,
 * HMAC-SHA256(secret, label + cluster id); a connection then runs a challenge-response: the client's HELLO
 * carries the cluster id and a fresh random nonce, the server answers with its own fresh nonce and its
 * proof, the client checks that proof and sends its own (AUTH). A proof is HMAC-SHA256(key, role + cluster
 * id + client nonce + server nonce), the role ({@link Role}) keeping a server's proof from passing as a
 * client's. A recorded exchange is worth nothing on another connection (the other side's nonce differs),
 * and a process without the secret can pass as neither side. The secret also keys the Raft port's TLS
 * ({@code RaftTls}). Neither the secret, the key nor a proof appears in {@link #toString} or a log line.
 *
 * <p>Frames after the exchange are checked (CRC32C) but neither encrypted nor authenticated one by one:
 * someone on the path can read blocks in flight, or take over a connection already authenticated. Keep
 * block ports on a private network.
 */
public final class ClusterCredentials {
  /** Bytes of a nonce. */
  static final int NONCE_BYTES = 32;
  private static final String LABEL = "dynamicfs block key v2 ";
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Which side of a connection a proof speaks for. */
  enum Role {
    CLIENT, SERVER
  }

  private final UUID clusterId;
  private final byte[] key;

  /** {@code secret}: the cluster's shared secret (1 to 1024 bytes of UTF-8). */
  public ClusterCredentials(UUID clusterId, String secret) {
    this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
    byte[] s = Objects.requireNonNull(secret, "secret").getBytes(StandardCharsets.UTF_8);
    if (s.length == 0 || s.length > 1024) {
      throw new IllegalArgumentException("token must be 1 to 1024 bytes of UTF-8, not " + s.length);
    }
    this.key = hmac(s, (LABEL + clusterId).getBytes(StandardCharsets.US_ASCII));
  }

  public UUID clusterId() {
    return clusterId;
  }

  /** A fresh random nonce for one side of one exchange. */
  static byte[] nonce() {
    byte[] n = new byte[NONCE_BYTES];
    RANDOM.nextBytes(n);
    return n;
  }

  /** {@code role}'s proof for the exchange of these two nonces (32 bytes). */
  byte[] proof(Role role, byte[] clientNonce, byte[] serverNonce) {
    byte[] label = ("dynamicfs block " + role.name().toLowerCase(java.util.Locale.ROOT) + " proof " + clusterId)
        .getBytes(StandardCharsets.US_ASCII);
    byte[] message = new byte[label.length + clientNonce.length + serverNonce.length];
    System.arraycopy(label, 0, message, 0, label.length);
    System.arraycopy(clientNonce, 0, message, label.length, clientNonce.length);
    System.arraycopy(serverNonce, 0, message, label.length + clientNonce.length, serverNonce.length);
    return hmac(key, message);
  }

  /** Whether {@code presented} is {@code role}'s proof, in time that does not depend on where they differ. */
  boolean proofMatches(Role role, byte[] clientNonce, byte[] serverNonce, byte[] presented) {
    return MessageDigest.isEqual(proof(role, clientNonce, serverNonce), presented);
  }

  private static byte[] hmac(byte[] key, byte[] message) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(message);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HMAC-SHA256 is missing from this JDK", e);
    }
  }

  @Override
  public String toString() {
    return "ClusterCredentials[cluster=" + clusterId + ", token=<hidden>]";
  }
}
