package io.dynamicfs.core.block;

import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Records of the first format (version 1, one compressed payload per block): the fixture written by the code
 * before framed records ({@code src/test/resources/version1-records}, see its README for how), the blocks it
 * holds (regenerated from the same recipe), and the old record writer, kept here so tests can write more old
 * records ({@code Version1RecordsTest} proves it writes the fixture's bytes exactly).
 */
public final class Version1Fixture {
  private Version1Fixture() {}

  /** Copies the fixture ({@code segment/}, {@code replicate-2/dev0..1}, {@code rs-2-1/dev0..2}) under {@code dir}. */
  public static Path copyTo(Path dir) throws IOException {
    Path src;
    try {
      src = Path.of(Version1Fixture.class.getResource("/version1-records").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    try (Stream<Path> w = Files.walk(src)) {
      w.forEach(p -> {
        Path to = dir.resolve(src.relativize(p).toString());
        try {
          if (Files.isDirectory(p)) {
            Files.createDirectories(to);
          } else if (!p.getFileName().toString().equals("README.md")) {
            Files.copy(p, to);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    return dir;
  }

  /** The filesystem id in the fixture's device identity files. */
  public static final String FS_UUID = "fixture-fs";

  public static byte[] text(int n, String unitText) {
    byte[] unit = unitText.getBytes(StandardCharsets.US_ASCII);
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = unit[i % unit.length];
    }
    return b;
  }

  public static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** The blocks put into {@code segment/} by an LZ4 store, in order (then {@link #segmentDeleted} put and deleted). */
  static List<byte[]> segmentLz4Blocks() {
    return List.of(text(150_000, "the quick brown fox jumps over the lazy dog 0123456789\n"), random(3000, 13),
        new byte[] {42}, new byte[0], new byte[200_000]);
  }

  static byte[] segmentDeleted() {
    return text(1000, "deleted block ");
  }

  /** The block put into {@code segment/} by a ZSTD store, last. */
  static byte[] segmentZstdBlock() {
    return text(100_000, "zstd compressed text, version one record\n");
  }

  /** Every block live in {@code segment/}. */
  public static List<byte[]> segmentBlocks() {
    return Stream.concat(segmentLz4Blocks().stream(), Stream.of(segmentZstdBlock())).toList();
  }

  /** The blocks of the {@code replicate-2} and {@code rs-2-1} tiers (LZ4). */
  public static List<byte[]> tierBlocks() {
    return List.of(text(300_000, "replicated or erasure coded text, version one\n"), random(20_000, 17));
  }

  public static BlockId id(byte[] b) {
    return BlockId.hash(b, 0, b.length);
  }

  /** A record as the old writer wrote it: a version 1 header (56 bytes) and the payload. */
  static byte[] record(BlockId id, Codec codec, int rawLength, byte[] payload, int flags) {
    byte[] out = new byte[56 + payload.length];
    ByteBuffer b = ByteBuffer.wrap(out);
    b.putInt(0x44465352).put((byte) 1).put((byte) codec.id()).putShort((short) flags);
    b.putInt(rawLength).putInt(payload.length);
    id.writeTo(out, 16);
    b.position(48);
    b.putInt(crc(payload, 0, payload.length));
    b.putInt(crc(out, 0, 52));
    System.arraycopy(payload, 0, out, 56, payload.length);
    return out;
  }

  /** The old writer's record of a block: compressed whole with {@code codec}, raw when that does not pay. */
  static byte[] record(Codec codec, byte[] block) {
    Codec.Compressed c = codec.compress(block, 0, block.length);
    return record(id(block), c.codec(), block.length, c.bytes(), 0);
  }

  /** The old writer's tombstone. */
  static byte[] tombstone(BlockId id) {
    return record(id, Codec.NONE, 0, new byte[0], 1);
  }

  private static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }
}
