package io.dynamicfs.cluster.transport;

import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLException;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * TLS for the block port: mutual TLS 1.3 under the cluster's one key pair (the Raft port's, {@code RaftTls},
 * derived from the token), so block frames are encrypted and each end knows the other holds the key. The
 * challenge-response of {@link ClusterCredentials} still runs inside it.
 *
 * <p>A block server always accepts TLS and, unless {@link #required}, plain connections too (it tells them
 * apart by the first bytes); a client uses TLS when it was given a {@code BlockTls}. So a cluster turns it
 * on one process at a time: mounts and nodes with {@code --block-tls} encrypt what they send, and once all
 * do, nodes started with it refuse anything plain.
 */
public final class BlockTls {
  /**
   * AES-GCM only: the JDK runs it on the CPU's AES and carry-less multiply instructions (2.8 GB/s for 16 KiB
   * records here), ChaCha20-Poly1305 in plain Java (280 MB/s).
   */
  private static final List<String> CIPHERS = List.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384");
  private final SslContext server;
  private final SslContext client;
  private final boolean required;

  private BlockTls(SslContext server, SslContext client, boolean required) {
    this.server = server;
    this.client = client;
    this.required = required;
  }

  /**
   * The block port's TLS under {@code key} and {@code trust} (the cluster's, from {@code RaftTls}); with
   * {@code required}, a server refuses plain connections.
   */
  public static BlockTls of(X509ExtendedKeyManager key, X509ExtendedTrustManager trust, boolean required) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(trust, "trust");
    try {
      SslContext server = SslContextBuilder.forServer(key).trustManager(trust).clientAuth(ClientAuth.REQUIRE)
          .sslProvider(SslProvider.JDK).protocols("TLSv1.3").ciphers(CIPHERS).build();
      SslContext client = SslContextBuilder.forClient().keyManager(key).trustManager(trust)
          .sslProvider(SslProvider.JDK).protocols("TLSv1.3").ciphers(CIPHERS).build();
      return new BlockTls(server, client, required);
    } catch (SSLException e) {
      throw new IllegalStateException("cannot set up TLS for the block port: " + e.getMessage(), e);
    }
  }

  SslContext server() {
    return server;
  }

  SslContext client() {
    return client;
  }

  /** Whether a server refuses connections that do not start TLS. */
  public boolean required() {
    return required;
  }
}
