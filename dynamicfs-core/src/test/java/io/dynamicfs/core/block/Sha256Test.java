package io.dynamicfs.core.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class Sha256Test {
  @Test
  void onLinuxX8664_theNativeProviderDigests() {
    assumeTrue(System.getProperty("os.name").equals("Linux") && System.getProperty("os.arch").equals("amd64"),
        "the native SHA-256 ships for linux-x86_64 only; here the JDK's digests");
    assertEquals("AmazonCorrettoCryptoProvider", Sha256.provider());
    assertEquals("AmazonCorrettoCryptoProvider", Sha256.newDigest().getProvider().getName());
  }

  @Test
  void digestsEqualTheJdks_atEveryLengthAndOffset() throws Exception {
    MessageDigest jdk = MessageDigest.getInstance("SHA-256", "SUN");
    MessageDigest ours = Sha256.newDigest();
    Random r = new Random(42);
    byte[] data = new byte[(1 << 20) + 100];
    r.nextBytes(data);
    int[] lengths = {0, 1, 55, 56, 63, 64, 65, 4096, 65_537, 1 << 20};
    for (int length : lengths) {
      int offset = r.nextInt(100);
      jdk.update(data, offset, length);
      ours.update(data, offset, length);
      assertArrayEquals(jdk.digest(), ours.digest(), "length " + length + " at offset " + offset);
    }
    // a digest is reusable after digest(), as BlockId's per-thread one is
    assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        HexFormat.of().formatHex(ours.digest()));
    assertEquals(BlockId.hash(data, 3, 1000).toHex(), HexFormat.of().formatHex(digest(jdk, data, 3, 1000)));
  }

  private static byte[] digest(MessageDigest md, byte[] data, int offset, int length) {
    md.update(data, offset, length);
    return md.digest();
  }
}
