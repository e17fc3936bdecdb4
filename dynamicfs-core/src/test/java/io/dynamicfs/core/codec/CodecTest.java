package io.dynamicfs.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Compression of stored records: round trips, the fall back to raw storage when compression does not
 * pay, and EIO (never silently wrong bytes or an unchecked exception) on malformed stored input.
 *
 * <p>Note: LZ4 and Zstandard frames as written here carry no content checksum, so a flipped literal byte
 * can decode to wrong bytes of the right length; catching that is the record CRC's job
 * ({@code SegmentStoreTest.get_everyFlippedPayloadByte_neverReturnsWrongBytes}). What the codec itself must
 * catch is input that does not decode to exactly the promised length.
 */
class CodecTest {
  private final Random random = new Random(11);

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private static byte[] text(int n) {
    byte[] unit = "DynamicFS stores blocks; blocks are immutable and content addressed. "
        .getBytes(StandardCharsets.US_ASCII);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = unit[i % unit.length];
    }
    return b;
  }

  private static byte[] roundTrip(Codec codec, byte[] src, int off, int len) throws FsException {
    Codec.Compressed c = codec.compress(src, off, len);
    return c.codec().decompress(c.bytes(), 0, c.bytes().length, len);
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void compressDecompress_variousInputs_roundTrip(Codec codec) throws FsException {
    byte[][] inputs = {new byte[0], {1}, text(100), text(1 << 20), randomBytes(65_536), new byte[1 << 20],
        mixed(200_000)};
    for (byte[] in : inputs) {
      assertArrayEquals(in, roundTrip(codec, in, 0, in.length), () -> codec + " on " + in.length + " bytes");
    }
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void compress_sliceOfLargerArray_roundTripsOnlyTheSlice(Codec codec) throws FsException {
    byte[] big = mixed(50_000);
    assertArrayEquals(Arrays.copyOfRange(big, 1234, 41_234), roundTrip(codec, big, 1234, 40_000));
    byte[] noise = randomBytes(10_000);
    Codec.Compressed raw = codec.compress(noise, 100, 5000);
    assertEquals(Codec.NONE, raw.codec());
    assertArrayEquals(Arrays.copyOfRange(noise, 100, 5100), raw.bytes());
  }

  /** A 64 KiB frame made of {@code unit} repeated. */
  private static byte[] repeated(byte[] unit, int n) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = unit[i % unit.length];
    }
    return b;
  }

  @ParameterizedTest
  @EnumSource(value = Codec.class, names = {"LZ4", "ZSTD"})
  void compressIfWorthIt_probe_keepsWhatCompressesAndSkipsNoise(Codec codec) throws FsException {
    int frame = 64 << 10;
    // noise: stored raw (the probe of its first 8 KiB saves nothing)
    assertEquals(null, codec.compressIfWorthIt(randomBytes(frame), 0, frame));
    // a random 4 KiB unit repeated: every byte value equally likely, yet it compresses, and the probe sees it
    byte[] rep = repeated(randomBytes(4096), frame);
    byte[] c = codec.compressIfWorthIt(rep, 0, frame);
    assertTrue(c != null && c.length < frame / 8,
        () -> "repeated noise compressed to " + (c == null ? -1 : c.length));
    assertArrayEquals(rep, codec.decompress(c, 0, c.length, frame));
    // text, probed and compressed from an offset inside a larger array
    byte[] big = new byte[frame + 3000];
    System.arraycopy(text(frame), 0, big, 3000, frame);
    byte[] t = codec.compressIfWorthIt(big, 3000, frame);
    assertTrue(t != null && t.length < frame / 4);
    assertArrayEquals(Arrays.copyOfRange(big, 3000, 3000 + frame), codec.decompress(t, 0, t.length, frame));
  }

  @ParameterizedTest
  @EnumSource(value = Codec.class, names = {"LZ4", "ZSTD"})
  void compressIfWorthIt_noisyStart_isStoredRawEvenIfTheRestCompresses(Codec codec) {
    // the probe's price: a frame that starts with 8 KiB of noise is judged by it
    int frame = 64 << 10;
    byte[] in = new byte[frame];
    System.arraycopy(randomBytes(Codec.PROBE_BYTES), 0, in, 0, Codec.PROBE_BYTES);
    assertEquals(null, codec.compressIfWorthIt(in, 0, frame));
    // a frame shorter than two probes is compressed whole, as before
    byte[] small = new byte[2 * Codec.PROBE_BYTES - 1];
    System.arraycopy(randomBytes(Codec.PROBE_BYTES), 0, small, 0, Codec.PROBE_BYTES);
    assertTrue(codec.compressIfWorthIt(small, 0, small.length) != null);
  }

  @ParameterizedTest
  @EnumSource(value = Codec.class, names = {"LZ4", "ZSTD"})
  void compress_compressibleData_usesTheCodecAndShrinks(Codec codec) {
    byte[] in = text(1 << 20);
    Codec.Compressed c = codec.compress(in, 0, in.length);
    assertEquals(codec, c.codec());
    assertTrue(c.bytes().length < in.length / 10, () -> "compressed to " + c.bytes().length);
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void compress_incompressibleData_fallsBackToNone(Codec codec) {
    byte[] in = randomBytes(1 << 20);
    Codec.Compressed c = codec.compress(in, 0, in.length);
    assertEquals(Codec.NONE, c.codec());
    assertArrayEquals(in, c.bytes());
  }

  @ParameterizedTest
  @EnumSource(value = Codec.class, names = {"LZ4", "ZSTD"})
  void compress_savingLessThanOneSixteenth_keepsRaw(Codec codec) {
    // 2% zeros saves less than 1/16: raw; 25% zeros saves well over it: compressed.
    byte[] marginal = randomBytes(100_000);
    Arrays.fill(marginal, 0, 2000, (byte) 0);
    assertEquals(Codec.NONE, codec.compress(marginal, 0, marginal.length).codec());
    byte[] worth = randomBytes(100_000);
    Arrays.fill(worth, 0, 25_000, (byte) 0);
    Codec.Compressed c = codec.compress(worth, 0, worth.length);
    assertEquals(codec, c.codec());
    assertTrue(c.bytes().length <= worth.length - worth.length / 16);
  }

  @Test
  void compressNone_slice_copiesBytes() {
    byte[] in = text(1000);
    Codec.Compressed c = Codec.NONE.compress(in, 10, 100);
    assertEquals(Codec.NONE, c.codec());
    assertNotSame(in, c.bytes());
    assertArrayEquals(Arrays.copyOfRange(in, 10, 110), c.bytes());
  }

  @Test
  void decompressLz4_malformedInput_failsEio() {
    malformedInput_failsEio(Codec.LZ4);
  }

  @Test
  void decompressZstd_malformedInput_failsEio() {
    malformedInput_failsEio(Codec.ZSTD);
  }

  /** Truncated, mis-sized, garbage and bit-flipped input: EIO, never an unchecked exception. */
  private void malformedInput_failsEio(Codec codec) {
    byte[] in = mixed(100_000);
    byte[] c = codec.compress(in, 0, in.length).bytes();
    assertEquals(codec, codec.compress(in, 0, in.length).codec());
    for (int cut : new int[] {0, 1, c.length / 2, c.length - 1}) {
      assertEio(() -> codec.decompress(c, 0, cut, in.length), codec + " cut to " + cut);
    }
    assertEio(() -> codec.decompress(c, 0, c.length, in.length - 1), codec + " raw length too short");
    assertEio(() -> codec.decompress(c, 0, c.length, in.length + 1), codec + " raw length too long");
    assertEio(() -> codec.decompress(c, 0, c.length, 0), codec + " raw length zero");
    for (int i = 0; i < 50; i++) {
      byte[] junk = randomBytes(1 + random.nextInt(4000));
      int raw = 1 + random.nextInt(100_000);
      assertEio(() -> codec.decompress(junk, 0, junk.length, raw), codec + " garbage #" + i);
    }
    // Flipping any byte may break the structure (EIO) or change a literal (different bytes of the right
    // length, caught one level up by the record checksum); it must never escape as another exception.
    byte[] small = mixed(20_000);
    byte[] sc = codec.compress(small, 0, small.length).bytes();
    int eio = 0;
    for (int i = 0; i < sc.length; i++) {
      byte[] bad = sc.clone();
      bad[i] ^= (byte) 0xff;
      try {
        byte[] out = codec.decompress(bad, 0, bad.length, small.length);
        assertEquals(small.length, out.length);
      } catch (FsException e) {
        assertEquals(Errno.EIO, e.errno());
        eio++;
      }
    }
    assertTrue(eio > 0, "some flips must break the structure");
  }

  @Test
  void decompressNone_lengthMismatch_failsEio() {
    byte[] in = text(100);
    assertEio(() -> Codec.NONE.decompress(in, 0, 100, 99), "shorter");
    assertEio(() -> Codec.NONE.decompress(in, 0, 99, 100), "longer");
  }

  @Test
  void decompress_atOffset_readsOnlyThatRange() throws FsException {
    byte[] in = text(10_000);
    for (Codec codec : Codec.values()) {
      byte[] c = codec.compress(in, 0, in.length).bytes();
      // as in a segment record: the payload after its header, other bytes after it
      int at = io.dynamicfs.core.block.SegmentStore.RECORD_HEADER_BYTES;
      byte[] framed = new byte[at + c.length + 44];
      Arrays.fill(framed, (byte) 0x77);
      System.arraycopy(c, 0, framed, at, c.length);
      Codec used = codec.compress(in, 0, in.length).codec();
      assertArrayEquals(in, used.decompress(framed, at, c.length, in.length), codec::toString);
    }
  }

  @Test
  void byId_knownAndUnknown() throws FsException {
    for (Codec c : Codec.values()) {
      assertEquals(c, Codec.byId(c.id()));
    }
    assertEquals(0, Codec.NONE.id());
    assertEquals(1, Codec.LZ4.id());
    assertEquals(2, Codec.ZSTD.id());
    FsException e = assertThrows(FsException.class, () -> Codec.byId(3));
    assertEquals(Errno.EIO, e.errno());
  }

  @Test
  void parse_namesAreCaseInsensitive_unknownNamesTheChoices() {
    assertEquals(Codec.LZ4, Codec.parse("lz4"));
    assertEquals(Codec.ZSTD, Codec.parse(" Zstd "));
    assertEquals(Codec.NONE, Codec.parse("NONE"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Codec.parse("gzip"));
    assertTrue(e.getMessage().contains("gzip") && e.getMessage().contains("lz4"), e::getMessage);
  }

  /** Half text, half noise: compresses, but not trivially. */
  private byte[] mixed(int n) {
    byte[] b = text(n);
    for (int i = 0; i < n; i += 64) {
      if ((i / 64) % 2 == 0) {
        byte[] r = randomBytes(Math.min(32, n - i));
        System.arraycopy(r, 0, b, i, r.length);
      }
    }
    return b;
  }

  private interface Action {
    void run() throws Exception;
  }

  private static void assertEio(Action a, String what) {
    FsException e = assertThrows(FsException.class, a::run, what);
    assertEquals(Errno.EIO, e.errno(), what);
  }
}
