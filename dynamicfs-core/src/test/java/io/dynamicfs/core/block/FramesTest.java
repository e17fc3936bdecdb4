package io.dynamicfs.core.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.codec.Codec;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The framed body on its own: round trips, raw frames, every range, and damage to the table and frames. */
class FramesTest {
  private static final int F = 1 << Frames.SHIFT;
  /** Sizes around every interesting edge: empty, one byte, a frame and its neighbours, a 1 MiB block. */
  static final int[] SIZES = {0, 1, 2, 4095, 4096, F - 1, F, F + 1, 2 * F, 3 * F + 17, 16 * F - 1, 16 * F,
      16 * F + 1};

  private final Random random = new Random(11);

  /** Contents of one kind: random (incompressible), text, zeros, and frames alternating random and zero. */
  enum Kind { RANDOM, TEXT, ZEROS, MIXED }

  static byte[] content(Kind kind, int n, Random random) {
    byte[] b = new byte[n];
    switch (kind) {
      case RANDOM -> random.nextBytes(b);
      case TEXT -> {
        byte[] unit = "framed records keep small reads small; 0123456789\n".getBytes();
        for (int i = 0; i < n; i++) {
          b[i] = unit[i % unit.length];
        }
        if (n > 0) {
          b[n / 2] ^= 1; // not a pure repetition
        }
      }
      case ZEROS -> { }
      case MIXED -> {
        for (int from = 0; from < n; from += 2 * F) {
          byte[] r = new byte[Math.min(F, n - from)];
          random.nextBytes(r);
          System.arraycopy(r, 0, b, from, r.length);
        }
      }
    }
    return b;
  }

  private static byte[] body(Frames.Encoded e) {
    return e.toBytes();
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void encodeDecode_everySizeAndKind_roundTrips(Codec codec) throws FsException {
    for (Kind kind : Kind.values()) {
      for (int n : SIZES) {
        byte[] plain = content(kind, n, random);
        Frames.Encoded e = Frames.encode(codec, plain, 0, n);
        byte[] body = body(e);
        assertEquals(e.length(), body.length);
        assertEquals(n, e.rawLength());
        assertArrayEquals(plain, Frames.decode(body, 0, body.length, n), () -> kind + " " + n + " " + codec);
      }
    }
  }

  @Test
  void encode_atAnOffsetOfALargerArray_storesOnlyThoseBytes() throws FsException {
    byte[] buf = content(Kind.RANDOM, 5 * F, random);
    Frames.Encoded e = Frames.encode(Codec.LZ4, buf, 1000, 2 * F + 5);
    assertArrayEquals(Arrays.copyOfRange(buf, 1000, 1000 + 2 * F + 5), Frames.decode(body(e), 0, e.length(),
        2 * F + 5));
  }

  @Test
  void incompressibleFrames_areStoredRaw_compressibleOnesCompressed() throws FsException {
    byte[] random16 = content(Kind.RANDOM, 16 * F, random);
    Frames.Encoded r = Frames.encode(Codec.LZ4, random16, 0, random16.length);
    assertEquals(Codec.NONE, r.codec(), "no frame of random bytes compresses");
    assertEquals(Frames.tableLength(random16.length, Frames.SHIFT) + random16.length, r.length(),
        "raw frames: the body is the table and the plain bytes");
    byte[] b = body(r);
    assertArrayEquals(random16, Arrays.copyOfRange(b, b.length - random16.length, b.length));

    byte[] mixed = content(Kind.MIXED, 4 * F, random); // random, zero, random, zero
    Frames.Encoded m = Frames.encode(Codec.LZ4, mixed, 0, mixed.length);
    assertEquals(Codec.LZ4, m.codec());
    Frames.Table t = Frames.Table.parse(body(m), 0, m.length(), mixed.length, m.length());
    assertEquals(4, t.count());
    assertEquals(F, t.end(0) - t.start(0), "frame 0 (random) is raw");
    assertTrue(t.end(1) - t.start(1) < F / 16, "frame 1 (zeros) is compressed");
    assertEquals(F, t.end(2) - t.start(2), "frame 2 (random) is raw");
    assertArrayEquals(mixed, Frames.decode(body(m), 0, m.length(), mixed.length));
  }

  @Test
  void table_layout_isAsDocumented() throws FsException {
    byte[] plain = content(Kind.TEXT, 2 * F + 3, random);
    Frames.Encoded e = Frames.encode(Codec.LZ4, plain, 0, plain.length);
    ByteBuffer b = ByteBuffer.wrap(body(e));
    assertEquals(Frames.SHIFT, b.get(0));
    assertEquals(0, b.get(1));
    assertEquals(3, b.getShort(2), "frame count");
    assertEquals(Frames.crc(plain, 0, plain.length), b.getInt(4), "CRC32C of the plain block");
    int tableLength = 12 + 8 * 3;
    int at = tableLength;
    for (int i = 0; i < 3; i++) {
      int word = b.getInt(8 + 8 * i);
      assertEquals(i < 2 ? Codec.LZ4.id() : Codec.NONE.id(), word >>> 24, "the 3-byte last frame does not compress");
      int stored = word & 0xffffff;
      assertEquals(Frames.crc(b.array(), at, stored), b.getInt(12 + 8 * i), "frame " + i + " CRC");
      at += stored;
    }
    assertEquals(b.capacity(), at, "frames follow the table back to back");
    assertEquals(Frames.crc(b.array(), 0, tableLength - 4), b.getInt(tableLength - 4), "the table's own CRC");
    assertEquals(e.tableCrc(), b.getInt(tableLength - 4));
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void decodeRange_atEveryFrameBoundary_matchesThePlainBytes(Codec codec) throws FsException {
    for (Kind kind : List.of(Kind.TEXT, Kind.MIXED)) {
      int n = 5 * F + 333;
      byte[] plain = content(kind, n, random);
      Frames.Encoded e = Frames.encode(codec, plain, 0, n);
      byte[] body = body(e);
      Frames.Table t = Frames.Table.parse(body, 0, body.length, n, body.length);
      for (int[] r : ranges(n)) {
        int off = r[0];
        int len = Math.min(r[1], n - off);
        if (len <= 0) {
          continue;
        }
        int first = t.frameOf(off);
        int last = t.frameOf(off + len - 1);
        byte[] dst = new byte[len + 10];
        t.decodeRange(ByteBuffer.wrap(body, t.start(first), t.end(last) - t.start(first)).slice(), first, last,
            off, dst, 5, len);
        assertArrayEquals(Arrays.copyOfRange(plain, off, off + len), Arrays.copyOfRange(dst, 5, 5 + len),
            () -> kind + " " + codec + " range " + off + "+" + len);
      }
    }
  }

  /** Ranges starting just before, at and after every frame boundary, of lengths that stay in or cross frames. */
  static List<int[]> ranges(int n) {
    List<int[]> out = new ArrayList<>();
    for (int b = 0; b <= n; b += F) {
      for (int off : new int[] {b - 1, b, b + 1, b + 4095}) {
        for (int len : new int[] {1, 4096, F - 1, F, F + 1, 2 * F + 7, n}) {
          if (off >= 0 && off < n) {
            out.add(new int[] {off, len});
          }
        }
      }
    }
    return out;
  }

  @Test
  void aFrameSizeOtherThanTheDefault_isReadFromTheTable() throws FsException {
    for (int shift : new int[] {12, 20}) {
      byte[] plain = content(Kind.MIXED, 3 * (1 << shift) + 99, random);
      Frames.Encoded e = Frames.encode(Codec.ZSTD, plain, 0, plain.length, shift);
      byte[] body = body(e);
      assertEquals(Frames.tableLength(plain.length, shift),
          Frames.Table.lengthFrom(body, 0, 8, plain.length), "the table says how long it is");
      assertArrayEquals(plain, Frames.decode(body, 0, body.length, plain.length));
    }
  }

  @Test
  void everyFlippedBodyByte_failsEio_neverWrongBytes() {
    byte[] plain = content(Kind.MIXED, 3 * F + 100, random);
    for (Codec codec : Codec.values()) {
      byte[] body = body(Frames.encode(codec, plain, 0, plain.length));
      // every byte of the table, and a spread of bytes in the frames
      for (int i = 0; i < body.length; i += i < 64 ? 1 : 997) {
        body[i] ^= 0x10;
        int at = i;
        FsException e = assertThrows(FsException.class, () -> Frames.decode(body, 0, body.length, plain.length),
            () -> codec + ": flip at body byte " + at);
        assertEquals(Errno.EIO, e.errno());
        body[i] ^= 0x10;
      }
    }
  }

  @Test
  void aTableThatDisagreesWithTheBlock_isRefused() {
    byte[] plain = content(Kind.TEXT, 2 * F, random);
    byte[] body = body(Frames.encode(Codec.LZ4, plain, 0, plain.length));
    assertEio(() -> Frames.decode(body, 0, body.length, plain.length + F), "another plain length: frame count");
    assertEio(() -> Frames.decode(body, 0, body.length - 1, plain.length), "a body cut short");
    byte[] longer = Arrays.copyOf(body, body.length + 1);
    assertEio(() -> Frames.decode(longer, 0, longer.length, plain.length), "a body with bytes after the frames");
    assertEio(() -> Frames.decode(body, 0, 7, plain.length), "a table cut short");
  }

  @Test
  void framesInTheWrongOrder_failTheBlockCrc() throws FsException {
    // Two frames swapped together with their table entries: every frame CRC and the table CRC still pass,
    // only the CRC of the whole plain block tells (what a decoder bug that mixed up frames would look like).
    byte[] plain = content(Kind.RANDOM, 2 * F, random);
    byte[] body = body(Frames.encode(Codec.NONE, plain, 0, plain.length));
    int table = Frames.tableLength(plain.length, Frames.SHIFT);
    byte[] swapped = body.clone();
    System.arraycopy(body, 8, swapped, 16, 8);
    System.arraycopy(body, 16, swapped, 8, 8);
    System.arraycopy(body, table, swapped, table + F, F);
    System.arraycopy(body, table + F, swapped, table, F);
    ByteBuffer.wrap(swapped).putInt(table - 4, Frames.crc(swapped, 0, table - 4));
    FsException e = assertThrows(FsException.class, () -> Frames.decode(swapped, 0, swapped.length, plain.length));
    assertTrue(e.getMessage().contains("block's CRC32C"), e::getMessage);
  }

  @Test
  void decodeRange_flippedByteInATouchedFrame_failsEio_otherFramesStillServe() throws FsException {
    byte[] plain = content(Kind.TEXT, 4 * F, random);
    byte[] body = body(Frames.encode(Codec.LZ4, plain, 0, plain.length));
    Frames.Table t = Frames.Table.parse(body, 0, body.length, plain.length, body.length);
    body[t.start(2) + (t.end(2) - t.start(2)) / 2] ^= 1;
    byte[] dst = new byte[100];
    t.decodeRange(ByteBuffer.wrap(body, t.start(1), t.end(1) - t.start(1)).slice(), 1, 1, F + 10, dst, 0, 100);
    assertArrayEquals(Arrays.copyOfRange(plain, F + 10, F + 110), dst);
    FsException e = assertThrows(FsException.class, () -> t.decodeRange(
        ByteBuffer.wrap(body, t.start(1), t.end(2) - t.start(1)).slice(), 1, 2, 2 * F - 50, dst, 0, 100));
    assertEquals(Errno.EIO, e.errno());
    assertTrue(e.getMessage().contains("frame 2"), e::getMessage);
  }

  private static void assertEio(org.junit.jupiter.api.function.Executable x, String what) {
    FsException e = assertThrows(FsException.class, x, what);
    assertEquals(Errno.EIO, e.errno(), what);
  }
}
