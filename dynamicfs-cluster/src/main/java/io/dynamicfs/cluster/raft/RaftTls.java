package io.dynamicfs.cluster.raft;

import java.math.BigInteger;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.AlgorithmParameters;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.ECParameterSpec;
import java.security.spec.ECPoint;
import java.security.spec.ECPrivateKeySpec;
import java.security.spec.ECPublicKeySpec;
import java.util.Arrays;
import java.util.Date;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x9.ECNamedCurveTable;
import org.bouncycastle.asn1.x9.X9ECParameters;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Mutual TLS on every Ratis channel of a cluster (server to server, clients, admin), keyed by the cluster
 * token: whoever holds the token's secret holds the cluster's one key pair, and only that key is trusted.
 *
 * <p>The EC P-256 private key is derived from the secret (HMAC-SHA256 with a fixed label, reduced into
 * [1, n-1]), so every node, mount and command makes the same key from the token file it already has, and
 * nothing new is stored or handed out. Each process makes its own self-signed certificate for that key
 * (BouncyCastle); a peer is trusted when its certificate carries the cluster's public key, nothing else is
 * looked at (no host names: peers are addresses, and a certificate names none). The traffic is encrypted
 * (TLS 1.3 on the JDK's provider). Limits: the key is exactly as secret as the token file, and a new token
 * means a new key (a rolling restart with the new file on every node and mount).
 */
public final class RaftTls {
  private static final String LABEL = "dynamicfs raft tls key v1";
  private static final String ALIAS = "dynamicfs-cluster";

  private final PrivateKey privateKey;
  private final PublicKey publicKey;
  private final X509Certificate certificate;

  private RaftTls(PrivateKey privateKey, PublicKey publicKey, X509Certificate certificate) {
    this.privateKey = privateKey;
    this.publicKey = publicKey;
    this.certificate = certificate;
  }

  private static final java.util.concurrent.ConcurrentHashMap<String, RaftTls> MADE =
      new java.util.concurrent.ConcurrentHashMap<>();

  /** The TLS identity of the cluster whose token has {@code secret} (made once per secret and process). */
  public static RaftTls forSecret(String secret) {
    return MADE.computeIfAbsent(secret, RaftTls::fromSecret);
  }

  private static RaftTls fromSecret(String secret) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      byte[] seed = mac.doFinal(LABEL.getBytes(StandardCharsets.US_ASCII));
      X9ECParameters curve = ECNamedCurveTable.getByName("secp256r1");
      BigInteger n = curve.getN();
      BigInteger d = new BigInteger(1, seed).mod(n.subtract(BigInteger.ONE)).add(BigInteger.ONE);
      org.bouncycastle.math.ec.ECPoint q = curve.getG().multiply(d).normalize();
      AlgorithmParameters p = AlgorithmParameters.getInstance("EC");
      p.init(new ECGenParameterSpec("secp256r1"));
      ECParameterSpec spec = p.getParameterSpec(ECParameterSpec.class);
      KeyFactory kf = KeyFactory.getInstance("EC");
      PrivateKey priv = kf.generatePrivate(new ECPrivateKeySpec(d, spec));
      PublicKey pub = kf.generatePublic(new ECPublicKeySpec(new ECPoint(q.getAffineXCoord().toBigInteger(),
          q.getAffineYCoord().toBigInteger()), spec));
      X500Name name = new X500Name("CN=" + ALIAS);
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(new JcaX509v3CertificateBuilder(name,
          BigInteger.ONE, new Date(0), new Date(253402300799000L), name, pub)
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(priv)));
      return new RaftTls(priv, pub, cert);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException("cannot make the cluster's TLS key: " + e, e);
    }
  }

  /** Ratis parameters that put every channel (server, client, admin) under this identity, mutually. */
  public Parameters parameters() {
    GrpcTlsConfig conf = new GrpcTlsConfig(new KeyManager(), new TrustManager(), true);
    Parameters p = new Parameters();
    GrpcConfigKeys.TLS.setConf(p, conf);
    GrpcConfigKeys.Server.setTlsConf(p, conf);
    GrpcConfigKeys.Client.setTlsConf(p, conf);
    GrpcConfigKeys.Admin.setTlsConf(p, conf);
    return p;
  }

  /** A key manager presenting this process's certificate for the cluster's key (for other TLS channels). */
  public X509ExtendedKeyManager keyManager() {
    return new KeyManager();
  }

  /** A trust manager accepting exactly the peers whose certificate carries the cluster's public key. */
  public X509ExtendedTrustManager trustManager() {
    return new TrustManager();
  }

  /** A fingerprint of the cluster's public key (SHA-256, first 8 bytes in hex), for logs. */
  public String fingerprint() {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(publicKey.getEncoded());
      return java.util.HexFormat.of().formatHex(h, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Always this process's certificate and the derived key. */
  private final class KeyManager extends X509ExtendedKeyManager {
    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
      return new String[] {ALIAS};
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
      return ALIAS;
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
      return ALIAS;
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
      return new String[] {ALIAS};
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
      return ALIAS;
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
      return ALIAS;
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
      return new X509Certificate[] {certificate};
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
      return privateKey;
    }
  }

  /** Trusts a peer whose certificate carries the cluster's public key, and no other. */
  private final class TrustManager extends X509ExtendedTrustManager {
    private void check(X509Certificate[] chain) throws CertificateException {
      if (chain == null || chain.length == 0
          || !Arrays.equals(chain[0].getPublicKey().getEncoded(), publicKey.getEncoded())) {
        throw new CertificateException("TLS peer refused: not this cluster's token");
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      check(chain);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[] {certificate};
    }
  }
}
