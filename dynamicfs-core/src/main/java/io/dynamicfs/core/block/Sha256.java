package io.dynamicfs.core.block;

import com.amazon.corretto.crypto.provider.AmazonCorrettoCryptoProvider;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;

/**
 * New SHA-256 digests (block ids, shard digests) from native code where it loads, else from the JDK.
 *
 * <p>The JDK's SHA-256 is fast only once C2 has compiled it with the CPU's SHA instructions (1.5 GB/s here,
 * 150 MB/s under C1), and the daemons run C1 only (docs/storage.md § JIT): C2's compiling took a third of every
 * daemon's CPU for minutes after a start. Amazon Corretto Crypto Provider (AWS-LC) hashes at the CPU's speed
 * whatever the JIT does. Where its native library does not load (another CPU architecture or libc), the
 * JDK's provider is used and the same ids come out.
 */
public final class Sha256 {
  private static final Provider NATIVE = loadNative();

  private Sha256() {}

  /** A fresh digest; not thread-safe, as every {@link MessageDigest}. */
  public static MessageDigest newDigest() {
    try {
      return NATIVE != null ? MessageDigest.getInstance("SHA-256", NATIVE) : MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 digest", e);
    }
  }

  /** The name of the provider that digests (the JDK's "SUN" where the native one does not load). */
  public static String provider() {
    return newDigest().getProvider().getName();
  }

  private static Provider loadNative() {
    try {
      AmazonCorrettoCryptoProvider p = AmazonCorrettoCryptoProvider.INSTANCE;
      return p.getLoadingError() == null ? p : null;
    } catch (LinkageError | RuntimeException e) { // no native library for this platform
      return null;
    }
  }
}
