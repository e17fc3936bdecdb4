package io.dynamicfs.core.codec;

import com.github.luben.zstd.Zstd;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.nio.ByteBuffer;
import java.util.Locale;
import net.jpountz.lz4.LZ4Factory;
import net.jpountz.lz4.LZ4SafeDecompressor;

/**
 * Compression of stored records. The id byte is written in every record header, so values never change
 * meaning. A record is kept raw ({@link #NONE}) whenever compression does not save at least 1/16.
 */
public enum Codec {
  NONE(0) {
    @Override
    int compressInto(byte[] src, int off, int len, byte[] out) {
      return -1;
    }

    @Override
    void decompressInto(byte[] src, int off, int len, byte[] dst, int dstOff, int rawLen) throws FsException {
      if (len != rawLen) {
        throw FsException.of(Errno.EIO, "raw record length %d differs from header %d", len, rawLen);
      }
      System.arraycopy(src, off, dst, dstOff, len);
    }

    @Override
    void decompressInto(ByteBuffer src, byte[] dst, int dstOff, int rawLen) throws FsException {
      if (src.remaining() != rawLen) {
        throw FsException.of(Errno.EIO, "raw record length %d differs from header %d", src.remaining(), rawLen);
      }
      src.get(src.position(), dst, dstOff, rawLen);
    }
  },
  LZ4(1) {
    @Override
    int maxCompressedLength(int len) {
      return Lz4.FACTORY.fastCompressor().maxCompressedLength(len);
    }

    @Override
    int compressInto(byte[] src, int off, int len, byte[] out) {
      return Lz4.FACTORY.fastCompressor().compress(src, off, len, out, 0, out.length);
    }

    @Override
    void decompressInto(byte[] src, int off, int len, byte[] dst, int dstOff, int rawLen) throws FsException {
      LZ4SafeDecompressor d = Lz4.FACTORY.safeDecompressor();
      int n;
      try {
        n = d.decompress(src, off, len, dst, dstOff, rawLen);
      } catch (RuntimeException e) {
        throw new FsException(Errno.EIO, "lz4 payload does not decompress", e);
      }
      if (n != rawLen) {
        throw FsException.of(Errno.EIO, "lz4 payload decompressed to %d bytes, header says %d", n, rawLen);
      }
    }

    @Override
    void decompressInto(ByteBuffer src, byte[] dst, int dstOff, int rawLen) throws FsException {
      LZ4SafeDecompressor d = Lz4.FACTORY.safeDecompressor();
      int n;
      try {
        n = d.decompress(src, src.position(), src.remaining(), ByteBuffer.wrap(dst), dstOff, rawLen);
      } catch (RuntimeException e) {
        throw new FsException(Errno.EIO, "lz4 payload does not decompress", e);
      }
      if (n != rawLen) {
        throw FsException.of(Errno.EIO, "lz4 payload decompressed to %d bytes, header says %d", n, rawLen);
      }
    }
  },
  ZSTD(2) {
    @Override
    int maxCompressedLength(int len) {
      return (int) Zstd.compressBound(len);
    }

    @Override
    int compressInto(byte[] src, int off, int len, byte[] out) {
      long n = Zstd.compressByteArray(out, 0, out.length, src, off, len, 3);
      return Zstd.isError(n) ? -1 : (int) n;
    }

    @Override
    void decompressInto(byte[] src, int off, int len, byte[] dst, int dstOff, int rawLen) throws FsException {
      long n;
      try {
        n = Zstd.decompressByteArray(dst, dstOff, rawLen, src, off, len);
      } catch (RuntimeException e) {
        throw new FsException(Errno.EIO, "zstd payload does not decompress", e);
      }
      if (Zstd.isError(n) || n != rawLen) {
        throw FsException.of(Errno.EIO, "zstd payload does not decompress to %d bytes", rawLen);
      }
    }

    @Override
    void decompressInto(ByteBuffer src, byte[] dst, int dstOff, int rawLen) throws FsException {
      byte[] heap = new byte[src.remaining()];
      src.get(src.position(), heap);
      decompressInto(heap, 0, heap.length, dst, dstOff, rawLen);
    }
  };

  private final int id;

  Codec(int id) {
    this.id = id;
  }

  public int id() {
    return id;
  }

  /**
   * Bytes compressed from the start of a long input to guess whether all of it compresses: 8 KiB, an eighth
   * of a 64 KiB frame, is enough history for text and repeated patterns to show.
   */
  static final int PROBE_BYTES = 8 << 10;

  /** The most bytes {@link #compressInto} writes for {@code len} bytes. */
  int maxCompressedLength(int len) {
    return 0;
  }

  /**
   * Compresses {@code src[off, off + len)} into {@code out} (at least {@link #maxCompressedLength} long) and
   * returns the compressed length, or -1 when it cannot.
   */
  abstract int compressInto(byte[] src, int off, int len, byte[] out);

  /** The compressed bytes, or null when compression does not pay (store raw). */
  private byte[] tryCompress(byte[] src, int off, int len) {
    if (this == NONE) {
      return null;
    }
    byte[] out = scratch(maxCompressedLength(len));
    int n = compressInto(src, off, len, out);
    return n < 0 ? null : trimIfWorthIt(out, n, len);
  }

  /**
   * Whether the first {@link #PROBE_BYTES} of {@code src[off, ...)} save the 1/16 a whole input must save: when
   * they do not, the input is taken as not worth compressing (random, or already compressed: media, archives,
   * encrypted data) and is not compressed at all. Compressing such data in full was a quarter of a cluster
   * node's CPU during a sequential write of fio's data (which LZ4 shrinks by 5%, short of the bar); the probe
   * costs an eighth of that, and data that compresses costs an eighth more. The probe has less history than
   * the whole input, so an input that would just clear the bar may be stored raw.
   */
  private boolean probeSaves(byte[] src, int off) {
    byte[] out = scratch(maxCompressedLength(PROBE_BYTES));
    int n = compressInto(src, off, PROBE_BYTES, out);
    return n >= 0 && n <= PROBE_BYTES - (PROBE_BYTES >> 4);
  }

  abstract void decompressInto(byte[] src, int off, int len, byte[] dst, int dstOff, int rawLen) throws FsException;

  /** As above from the remaining bytes of {@code src} (a direct read buffer), leaving its position. */
  abstract void decompressInto(ByteBuffer src, byte[] dst, int dstOff, int rawLen) throws FsException;

  /**
   * Compresses {@code len} bytes with this codec and returns them (an array of their own), or null when
   * compression does not save at least 1/16 and the bytes should be stored raw: {@link #compress} without
   * the copy of raw bytes, for a caller that stores them from the source array (a frame of a block).
   */
  public byte[] compressIfWorthIt(byte[] src, int off, int len) {
    if (this != NONE && len >= 2 * PROBE_BYTES && !probeSaves(src, off)) {
      return null;
    }
    return tryCompress(src, off, len);
  }

  /**
   * Decompresses the remaining bytes of {@code src} into exactly {@code rawLen} bytes at {@code dst[dstOff..]},
   * leaving the buffer's position; EIO when they do not decode to that many bytes.
   */
  public void decompress(ByteBuffer src, byte[] dst, int dstOff, int rawLen) throws FsException {
    decompressInto(src, dst, dstOff, rawLen);
  }

  /** Compresses with this codec; the result says which codec was actually used. */
  public Compressed compress(byte[] src, int off, int len) {
    byte[] c = tryCompress(src, off, len);
    if (c == null) {
      byte[] raw = (off == 0 && len == src.length) ? src : java.util.Arrays.copyOfRange(src, off, off + len);
      return new Compressed(NONE, raw);
    }
    return new Compressed(this, c);
  }

  /** Decompresses the remaining bytes of {@code src} into a new array of {@code rawLen} bytes. */
  public byte[] decompress(ByteBuffer src, int rawLen) throws FsException {
    byte[] dst = new byte[rawLen];
    decompressInto(src, dst, 0, rawLen);
    return dst;
  }

  /** Decompresses {@code len} stored bytes into a new array of {@code rawLen} bytes. */
  public byte[] decompress(byte[] src, int off, int len, int rawLen) throws FsException {
    byte[] dst = new byte[rawLen];
    decompressInto(src, off, len, dst, 0, rawLen);
    return dst;
  }

  public static Codec byId(int id) throws FsException {
    for (Codec c : values()) {
      if (c.id == id) {
        return c;
      }
    }
    throw FsException.of(Errno.EIO, "unknown codec id %d in record header", id);
  }

  /** Parses a user-facing name ("lz4", "zstd", "none"); IllegalArgumentException naming the choices. */
  public static Codec parse(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown compression '" + name + "' (choose lz4, zstd or none)");
    }
  }

  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[0]);

  /** A per-thread output buffer: most blocks do not compress, so they never need a copy of their own. */
  private static byte[] scratch(int size) {
    byte[] b = SCRATCH.get();
    if (b.length < size) {
      b = new byte[size];
      SCRATCH.set(b);
    }
    return b;
  }

  private static byte[] trimIfWorthIt(byte[] out, int n, int rawLen) {
    if (n > rawLen - (rawLen >> 4)) {
      return null;
    }
    return java.util.Arrays.copyOf(out, n);
  }

  /** A compression result: the codec used and the bytes to store. */
  public record Compressed(Codec codec, byte[] bytes) {}

  private static final class Lz4 {
    static final LZ4Factory FACTORY = LZ4Factory.fastestInstance();
  }
}
