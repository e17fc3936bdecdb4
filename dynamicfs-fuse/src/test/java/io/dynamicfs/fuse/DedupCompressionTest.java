package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Dedup and compression proven by the space DATA takes on disk. */
class DedupCompressionTest extends MountedTestBase {
  private static final int MIB = 1 << 20;

  private long dataBytes() throws IOException {
    try (Stream<Path> s = Files.walk(fs.data)) {
      return s.filter(Files::isRegularFile).mapToLong(p -> {
        try {
          return Files.size(p);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      }).sum();
    }
  }

  private static byte[] write(Path f, long seed, long bytes) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    Random r = new Random(seed);
    byte[] buf = new byte[MIB];
    try (OutputStream out = Files.newOutputStream(f)) {
      for (long done = 0; done < bytes; done += buf.length) {
        r.nextBytes(buf);
        out.write(buf);
        md.update(buf);
      }
    }
    return md.digest();
  }

  private static byte[] digest(Path f) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    byte[] buf = new byte[MIB];
    try (var in = Files.newInputStream(f)) {
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return md.digest();
  }

  @Test
  void sameContentTwice_growsDataByUnderFivePercent() throws Exception {
    long size = 256L * MIB;
    long before = dataBytes();
    byte[] d1 = write(fs.path("one"), 42, size);
    long afterFirst = dataBytes();
    byte[] d2 = write(fs.path("two"), 42, size);
    long afterSecond = dataBytes();
    long first = afterFirst - before;
    long second = afterSecond - afterFirst;
    assertTrue(first >= size, "first copy must be stored: grew " + first);
    assertTrue(second < size / 20, "second copy grew DATA by " + second + " bytes (limit " + size / 20 + ")");
    assertArrayEquals(d1, d2);
    assertArrayEquals(d1, digest(fs.path("two")));
  }

  @Test
  void compressibleText_takesLessSpaceThanItsSize() throws Exception {
    long before = dataBytes();
    Path f = fs.path("log.txt");
    Random r = new Random(7);
    String[] words = {"GET", "POST", "/index.html", "/api/v1/items", "200", "404", "user", "session", "ok",
        "latency_ms", "upstream", "cache", "hit", "miss"};
    long size = 0;
    try (OutputStream out = Files.newOutputStream(f)) {
      StringBuilder sb = new StringBuilder();
      while (size < 64L * MIB) {
        sb.setLength(0);
        sb.append("2026-11-25T10:").append(r.nextInt(60)).append(':').append(r.nextInt(60)).append(" req=")
            .append(r.nextInt(1_000_000));
        for (int i = 0; i < 8; i++) {
          sb.append(' ').append(words[r.nextInt(words.length)]);
        }
        sb.append('\n');
        byte[] line = sb.toString().getBytes(StandardCharsets.US_ASCII);
        out.write(line);
        size += line.length;
      }
    }
    long grew = dataBytes() - before;
    assertTrue(grew < size / 2, "64 MiB of text grew DATA by " + grew + " bytes; LZ4 should at least halve it");
    assertTrue(Files.readString(f).startsWith("2026-11-25T10:"));
  }
}
