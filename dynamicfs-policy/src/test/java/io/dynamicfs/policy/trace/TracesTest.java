package io.dynamicfs.policy.trace;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

class TracesTest {
  /** The shared traces, used in place (a slice of each in CI). */
  static final Path SHARED = Path.of(System.getProperty("dynamicfs.traces", "../../shared/traces"));

  @TempDir
  Path dir;

  private static List<Long> keys(TraceSource s, int max) throws IOException {
    List<Long> out = new ArrayList<>();
    try (TraceReader r = s.open()) {
      long expectTime = 0;
      while (out.size() < max && r.next()) {
        assertEquals(expectTime++, r.time());
        out.add(r.key());
      }
    }
    return out;
  }

  @Test
  void lirsText_gzip_skipsSeparatorsAndBlankLines() throws IOException {
    Path f = dir.resolve("lirs-test.trace.gz");
    try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(f))) {
      o.write("0\r\n1\r\n*\r\n\r\n  42 \r\n7\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    TraceSource s = Traces.file(f);
    assertEquals("lirs-test", s.name());
    assertEquals(List.of(0L, 1L, 42L, 7L), keys(s, 100));
    try (TraceReader r = s.open()) {
      r.next();
      assertEquals(Traces.TRACE_BLOCK, r.bytes());
      assertFalse(r.write());
    }
  }

  /** A mount's recorded accesses: written from an access log's replay, read back as they were, in time order. */
  @Test
  void recorded_roundTrip_sinceCutsTheStart_clockStepsBackAreFlattened_damageIsNamed() throws IOException {
    Path logFile = dir.resolve("access.log");
    Path f = dir.resolve("m.dfstrace");
    try (io.dynamicfs.policy.track.AccessLog log = io.dynamicfs.policy.track.AccessLog.open(logFile, 8)) {
      log.append(1_000, 11, 4096, false);
      log.append(2_000, 12, 100, true);
      log.append(1_500, 13, 65536, false); // the wall clock stepped back
      log.append(3_000, 11, 4096, false);
      long[] r;
      try (OutputStream o = Files.newOutputStream(f)) {
        r = RecordedTrace.write(log.replay(), 1_200, o);
      }
      assertEquals(3, r[0], "the first access is before --since");
      assertEquals(1, r[1]);
      assertEquals(2_000, r[2]);
      assertEquals(3_000, r[3]);
    }
    TraceSource s = Traces.file(f);
    assertEquals("m", s.name());
    List<long[]> got = new ArrayList<>();
    try (TraceReader t = s.open()) {
      while (t.next()) {
        got.add(new long[] {t.time(), t.key(), t.bytes(), t.write() ? 1 : 0});
      }
    }
    assertEquals(3, got.size());
    assertArrayEquals(new long[] {2_000, 12, 100, 1}, got.get(0));
    assertArrayEquals(new long[] {2_000, 13, 65536, 0}, got.get(1), "never back in time");
    assertArrayEquals(new long[] {3_000, 11, 4096, 0}, got.get(2));

    byte[] whole = Files.readAllBytes(f);
    Path cut = dir.resolve("cut.dfstrace");
    Files.write(cut, java.util.Arrays.copyOf(whole, whole.length - 5));
    IOException e = assertThrows(IOException.class, () -> {
      try (TraceReader t = Traces.file(cut).open()) {
        while (t.next()) {
          // read to the damage
        }
      }
    });
    assertTrue(e.getMessage().contains("truncated record at access 2"), e.getMessage());
    Path other = dir.resolve("other.dfstrace");
    Files.writeString(other, "not a trace at all, just text");
    e = assertThrows(IOException.class, () -> Traces.file(other).open());
    assertTrue(e.getMessage().contains("bad magic"), e.getMessage());
  }

  @Test
  void lirsText_badLine_failsWithItsLineNumber() throws IOException {
    Path f = dir.resolve("lirs-bad.trace");
    Files.writeString(f, "1\n2\nthree\n");
    IOException e = assertThrows(IOException.class, () -> keys(Traces.file(f), 100));
    assertTrue(e.getMessage().contains("line 3"), e.getMessage());
  }

  @Test
  void cache2k_xz_readsBigEndianSignedKeys() throws IOException {
    Path f = dir.resolve("cache2k-test.trace.xz");
    try (DataOutputStream o = new DataOutputStream(new XZOutputStream(Files.newOutputStream(f), new LZMA2Options()))) {
      o.writeInt(0);
      o.writeInt(1);
      o.writeInt(-5);
      o.writeInt(0x7FFF_FFFF);
    }
    assertEquals(List.of(0L, 1L, -5L, 0x7FFF_FFFFL), keys(Traces.file(f), 100));
  }

  @Test
  void cloudphysics_readsLittleEndianUnsignedKeys() throws IOException {
    Path f = dir.resolve("cloudphysics-test.trace");
    Files.write(f, new byte[] {(byte) 0xce, (byte) 0xca, 0x0d, 0x00, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
    assertEquals(List.of(0x000dcaceL, 0xFFFF_FFFFL), keys(Traces.file(f), 100));
  }

  @Test
  void binary_truncatedRecord_failsWithItsPosition() throws IOException {
    Path f = dir.resolve("cache2k-cut.trace");
    Files.write(f, new byte[] {0, 0, 0, 1, 0, 0});
    IOException e = assertThrows(IOException.class, () -> keys(Traces.file(f), 100));
    assertTrue(e.getMessage().contains("truncated record at access 1"), e.getMessage());
  }

  @Test
  void file_missingUnknownOrCorrupt_refusedClearly() throws IOException {
    assertThrows(NoSuchFileException.class, () -> Traces.file(dir.resolve("nope.trace.gz")));
    Path unknown = dir.resolve("mystery.bin");
    Files.write(unknown, new byte[4]);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Traces.file(unknown));
    assertTrue(e.getMessage().contains("unknown trace format"), e.getMessage());
    Path notGzip = dir.resolve("lirs-x.trace.gz");
    Files.writeString(notGzip, "plain text, not gzip");
    IOException io = assertThrows(IOException.class, () -> Traces.file(notGzip).open());
    assertTrue(io.getMessage().contains("not a valid gzip file"), io.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Traces.resolve("synthetic:nonsense"));
  }

  @Test
  void synthetic_sameSeed_sameTraceOtherSeed_otherTrace() throws IOException {
    for (SyntheticTrace.Kind k : SyntheticTrace.Kind.values()) {
      SyntheticTrace.Spec spec = new SyntheticTrace.Spec(k, 5000, 500, 1000, 0.9, 3, false);
      List<Long> a = keys(Traces.synthetic(spec), 10_000);
      assertEquals(5000, a.size());
      assertEquals(a, keys(Traces.synthetic(spec), 10_000), k + " is not deterministic");
      if (k != SyntheticTrace.Kind.LOOP) {
        assertNotEquals(a, keys(Traces.synthetic(new SyntheticTrace.Spec(k, 5000, 500, 1000, 0.9, 4, false)), 10_000));
      }
    }
  }

  @Test
  void synthetic_shapes_haveTheirDefiningProperty() throws IOException {
    // loop: period = universe, every key in turn
    List<Long> loop = keys(Traces.synthetic(new SyntheticTrace.Spec(SyntheticTrace.Kind.LOOP, 3000, 1000, 100, 1, 1, false)), 3000);
    for (int i = 1000; i < 3000; i++) {
      assertEquals(loop.get(i - 1000), loop.get(i));
    }
    // zipf-shift: the most frequent keys of one phase are not those of the next
    List<Long> z = keys(Traces.synthetic(new SyntheticTrace.Spec(SyntheticTrace.Kind.ZIPF_SHIFT, 20_000, 2000, 10_000, 1.0, 1, false)), 20_000);
    Set<Long> top1 = top(z.subList(0, 10_000), 20);
    Set<Long> top2 = top(z.subList(10_000, 20_000), 20);
    top1.retainAll(top2);
    assertTrue(top1.size() <= 2, "hot sets overlap: " + top1);
    // scan-hot: scanned keys (above the universe) are each read once
    List<Long> sh = keys(Traces.synthetic(new SyntheticTrace.Spec(SyntheticTrace.Kind.SCAN_HOT, 100_000, 2000, 10_000, 0.9, 1, false)), 100_000);
    List<Long> scanned = sh.stream().filter(k -> k >= 2000).toList();
    assertTrue(scanned.size() > 1000, "scans happen: " + scanned.size());
    assertEquals(scanned.size(), new HashSet<>(scanned).size());
  }

  private static Set<Long> top(List<Long> keys, int n) {
    java.util.Map<Long, Integer> c = new java.util.HashMap<>();
    keys.forEach(k -> c.merge(k, 1, Integer::sum));
    Set<Long> out = new HashSet<>();
    c.entrySet().stream().sorted((a, b) -> b.getValue() - a.getValue()).limit(n).forEach(e -> out.add(e.getKey()));
    return out;
  }

  @Test
  void synthetic_sizes_byteAwareOrUniform() throws IOException {
    Set<Integer> sizes = new HashSet<>();
    try (TraceReader r = new SyntheticTrace(new SyntheticTrace.Spec(SyntheticTrace.Kind.ZIPF_SHIFT, 2000, 500, 500, 0.9, 1, false))) {
      while (r.next()) {
        sizes.add(r.bytes());
      }
    }
    assertEquals(Set.of(4096, 8192, 16384, 32768, 65536), sizes);
    try (TraceReader r = new SyntheticTrace(new SyntheticTrace.Spec(SyntheticTrace.Kind.ZIPF_SHIFT, 2000, 500, 500, 0.9, 1, false).withUniformSizes())) {
      while (r.next()) {
        assertEquals(SyntheticTrace.BLOCK, r.bytes());
      }
    }
  }

  /** A slice of every shared trace reads in its format; the cloudphysics one shows why it is read little-endian. */
  @Test
  void sharedTraces_sliceOfEach_readsAsDocumented() throws IOException {
    Assumptions.assumeTrue(Files.isDirectory(SHARED), "shared traces not found at " + SHARED.toAbsolutePath());
    List<Path> files;
    try (var s = Files.list(SHARED)) {
      files = s.filter(p -> p.getFileName().toString().contains(".trace")).sorted().toList();
    }
    assertTrue(files.size() >= 14, "expected the 15 shared traces, found " + files.size());
    for (Path f : files) {
      List<Long> k = keys(Traces.file(f), 20_000);
      assertTrue(k.size() >= 3000, f + ": " + k.size());
      if (f.getFileName().toString().startsWith("cloudphysics")) {
        int sequential = 0;
        for (int i = 1; i < k.size(); i++) {
          if (k.get(i) == k.get(i - 1) + 1) {
            sequential++;
          }
        }
        assertTrue(sequential > k.size() / 5, "little-endian keys run sequentially: " + sequential);
        assertTrue(k.stream().allMatch(x -> x >= 0 && x < (1L << 24)), "block numbers in a plausible range");
      }
    }
  }
}
