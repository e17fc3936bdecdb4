package io.dynamicfs.core.block;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.codec.Codec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The body of a framed record (record format version 2): a block cut into frames of 64 KiB of plain bytes
 * (the last may be shorter), each compressed on its own and checksummed on its own, behind a table that
 * says where each frame is. A reader that wants a few KiB of the block reads the table and the frames
 * covering them, checks those frames' CRC32Cs and decompresses only them.
 *
 * <pre>
 * table (12 + 8 n bytes, big-endian):
 *   0 frame shift (u8: frames of 2^shift plain bytes, 16 = 64 KiB)   1 reserved (0)   2 frame count n (u16)
 *   4 CRC32C of the whole plain block
 *   8 n entries of 8 bytes: codec id (u8), stored length (u24), CRC32C of the stored frame (u32)
 *   8 + 8 n: CRC32C of the table bytes before it
 * frames: the n stored frames back to back, in order (frame i holds plain bytes [i 2^shift, (i + 1) 2^shift))
 * </pre>
 *
 * The frame count follows from the block's plain length (in the record or shard header) and the shift, and
 * the stored lengths add up to the body's length: a table that disagrees is refused before any frame is
 * read. A frame whose compression does not save 1/16 is stored raw (codec 0), as whole blocks always were.
 * The table checks itself (its trailing CRC), so a body is self-contained wherever it is kept: a segment
 * record after its header, or the bytes an erasure-coded tier cuts into shards.
 *
 * <p>What is verified where: a whole-block decode checks the table, every frame's CRC and the CRC32C of the
 * plain block (cheap at memory speed: it catches a decoder bug or frames put back in the wrong order);
 * a range decode checks the table and the CRCs of the frames it uses. The block's SHA-256 (its id) is
 * checked by those who hash whole blocks today: scrub, fsck, the cluster's transfers.
 */
public final class Frames {
  /** Frames of 64 KiB: one frame is what a small random read costs, as the L2 cache's chunks. */
  public static final int SHIFT = 16;
  static final int MIN_SHIFT = 12;
  static final int MAX_SHIFT = 24;
  static final int PREAMBLE = 8;
  static final int ENTRY = 8;
  static final int TRAILER = 4;
  /** Largest stored frame the 24-bit length field holds. */
  private static final int MAX_STORED = (1 << 24) - 1;
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[1 << SHIFT]);

  private Frames() {}

  /** Bytes of the table of a block of {@code rawLength} plain bytes cut into frames of 2^shift bytes. */
  public static int tableLength(int rawLength, int shift) {
    return PREAMBLE + ENTRY * frameCount(rawLength, shift) + TRAILER;
  }

  static int frameCount(int rawLength, int shift) {
    return (int) (((long) rawLength + (1L << shift) - 1) >>> shift);
  }

  /** Encodes {@code data[off, off + len)} with {@code codec} into 64 KiB frames. */
  public static Encoded encode(Codec codec, byte[] data, int off, int len) {
    return encode(codec, data, off, len, SHIFT);
  }

  /** {@link #encode} with frames of 2^shift bytes (tests check that readers follow the table's shift). */
  static Encoded encode(Codec codec, byte[] data, int off, int len, int shift) {
    if (shift < MIN_SHIFT || shift > MAX_SHIFT || (1 << shift) > MAX_STORED + 1) {
      throw new IllegalArgumentException("frame shift " + shift + " out of range");
    }
    int n = frameCount(len, shift);
    if (n > 0xffff) {
      throw new IllegalArgumentException("block of " + len + " bytes has more than 65535 frames");
    }
    byte[] table = new byte[PREAMBLE + ENTRY * n + TRAILER];
    ByteBuffer t = ByteBuffer.wrap(table).order(ByteOrder.BIG_ENDIAN);
    t.put((byte) shift).put((byte) 0).putShort((short) n).putInt(crc(data, off, len));
    ByteBuffer[] frames = new ByteBuffer[n];
    Codec summary = Codec.NONE;
    long stored = table.length;
    int size = 1 << shift;
    for (int i = 0; i < n; i++) {
      int from = off + i * size;
      int raw = Math.min(size, off + len - from);
      byte[] c = codec.compressIfWorthIt(data, from, raw);
      Codec used = c == null ? Codec.NONE : codec;
      frames[i] = c == null ? ByteBuffer.wrap(data, from, raw).slice() : ByteBuffer.wrap(c);
      int frameLen = frames[i].remaining();
      t.putInt(used.id() << 24 | frameLen).putInt(crc(frames[i]));
      stored += frameLen;
      if (used != Codec.NONE) {
        summary = used;
      }
    }
    t.putInt(crc(table, 0, table.length - TRAILER));
    if (stored > RecordHeader.MAX_PAYLOAD) {
      throw new IllegalArgumentException("block of " + len + " bytes is over the largest record");
    }
    return new Encoded(len, summary, table, frames, (int) stored);
  }

  /**
   * Decodes a whole body ({@code body[off, off + len)}) into the {@code rawLength} plain bytes, checking
   * everything: the table, every frame's CRC32C, and the CRC32C of the plain block. EIO naming the problem.
   */
  public static byte[] decode(byte[] body, int off, int len, int rawLength) throws FsException {
    return decode(ByteBuffer.wrap(body, off, len).slice(), rawLength);
  }

  /** {@link #decode(byte[], int, int, int)} from the remaining bytes of {@code body} (its position is kept). */
  static byte[] decode(ByteBuffer body, int rawLength) throws FsException {
    return decode(Table.parse(body, rawLength, body.remaining()), body, rawLength);
  }

  /** As {@link #decode(ByteBuffer, int)}, also checking the table's CRC against a record header's {@code tableCrc}. */
  static byte[] decode(ByteBuffer body, int rawLength, int tableCrc) throws FsException {
    return decode(Table.parse(body, rawLength, body.remaining()).requireCrc(tableCrc), body, rawLength);
  }

  private static byte[] decode(Table t, ByteBuffer body, int rawLength) throws FsException {
    byte[] out = new byte[rawLength];
    t.decodeFrames(body.slice(body.position() + t.tableLength(), body.remaining() - t.tableLength()), 0,
        t.count() - 1, 0, out, 0, rawLength);
    if (crc(out, 0, rawLength) != t.rawCrc) {
      throw new FsException(Errno.EIO, "frames decode to bytes that fail the block's CRC32C");
    }
    return out;
  }

  /**
   * Checks the table (its CRC must be {@code tableCrc}, a record header's) and every frame's CRC32C without
   * decompressing (compaction, salvage).
   */
  static void verify(ByteBuffer body, int rawLength, int tableCrc) throws FsException {
    Table t = Table.parse(body, rawLength, body.remaining()).requireCrc(tableCrc);
    int at = body.position() + t.tableLength();
    for (int i = 0; i < t.count(); i++) {
      if (crc(body.slice(at, t.stored[i])) != t.crc[i]) {
        throw FsException.of(Errno.EIO, "frame %d checksum mismatch", i);
      }
      at += t.stored[i];
    }
  }

  static int crc(byte[] b, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(b, off, len);
    return (int) c.getValue();
  }

  static int crc(ByteBuffer b) {
    CRC32C c = new CRC32C();
    c.update(b.duplicate());
    return (int) c.getValue();
  }

  /**
   * A block encoded as frames, ready to be written: the table and the stored frames (raw frames are views
   * of the caller's array, which must not change until the body is written). The same body may be written
   * to several devices.
   */
  public static final class Encoded {
    private final int rawLength;
    private final Codec codec;
    private final byte[] table;
    private final ByteBuffer[] frames;
    private final int length;

    private Encoded(int rawLength, Codec codec, byte[] table, ByteBuffer[] frames, int length) {
      this.rawLength = rawLength;
      this.codec = codec;
      this.table = table;
      this.frames = frames;
      this.length = length;
    }

    /** Plain bytes of the block. */
    public int rawLength() {
      return rawLength;
    }

    /** The codec of the compressed frames, {@link Codec#NONE} when every frame is raw. */
    public Codec codec() {
      return codec;
    }

    /** Bytes of the body: table and frames. */
    public int length() {
      return length;
    }

    /** The table's CRC32C (its trailer), which a record header repeats. */
    int tableCrc() {
      return ByteBuffer.wrap(table, table.length - TRAILER, TRAILER).getInt();
    }

    /** The body as buffers to write in order (fresh views: a gathering write may consume them). */
    ByteBuffer[] buffers() {
      ByteBuffer[] out = new ByteBuffer[frames.length + 1];
      out[0] = ByteBuffer.wrap(table);
      for (int i = 0; i < frames.length; i++) {
        out[i + 1] = frames[i].duplicate();
      }
      return out;
    }

    /** The body in one array (to be cut into erasure-coded shards). */
    public byte[] toBytes() {
      byte[] out = new byte[length];
      System.arraycopy(table, 0, out, 0, table.length);
      int at = table.length;
      for (ByteBuffer f : frames) {
        int n = f.remaining();
        f.get(f.position(), out, at, n);
        at += n;
      }
      return out;
    }
  }

  /** A frame table, parsed and checked against the block's plain length and the body's length. */
  public static final class Table {
    private final int shift;
    private final int rawLength;
    private final int rawCrc;
    private final int tableCrc;
    private final int tableLength;
    private final Codec[] codecs;
    private final int[] stored;
    private final int[] crc;
    /** Offset of each frame in the body, and the body's length at the end ({@code count + 1} entries). */
    private final int[] start;

    private Table(int shift, int rawLength, int rawCrc, int tableCrc, int tableLength, Codec[] codecs, int[] stored,
        int[] crc) {
      this.shift = shift;
      this.rawLength = rawLength;
      this.rawCrc = rawCrc;
      this.tableCrc = tableCrc;
      this.tableLength = tableLength;
      this.codecs = codecs;
      this.stored = stored;
      this.crc = crc;
      this.start = new int[stored.length + 1];
      start[0] = tableLength;
      for (int i = 0; i < stored.length; i++) {
        start[i + 1] = start[i] + stored[i];
      }
    }

    /**
     * The bytes a table of a block of {@code rawLength} needs, judging by its first {@code avail} bytes at
     * {@code b[off..]} (at least {@link #PREAMBLE}): a reader that guessed the frame size reads this much.
     */
    public static int lengthFrom(byte[] b, int off, int avail, int rawLength) throws FsException {
      if (avail < PREAMBLE) {
        throw FsException.of(Errno.EIO, "frame table cut short (%d bytes)", avail);
      }
      return Frames.tableLength(rawLength, checkShift(b[off] & 0xff));
    }

    /** Parses the table at the start of {@code b[off, off + avail)}; {@code bodyLength} is the whole body's. */
    public static Table parse(byte[] b, int off, int avail, int rawLength, int bodyLength) throws FsException {
      return parse(ByteBuffer.wrap(b, off, avail).slice(), rawLength, bodyLength);
    }

    /** Parses the table at the position of {@code b} (which is kept). */
    static Table parse(ByteBuffer b, int rawLength, int bodyLength) throws FsException {
      ByteBuffer t = b.slice().order(ByteOrder.BIG_ENDIAN);
      if (t.remaining() < PREAMBLE + TRAILER) {
        throw FsException.of(Errno.EIO, "frame table cut short (%d bytes)", t.remaining());
      }
      int shift = checkShift(t.get(0) & 0xff);
      int reserved = t.get(1) & 0xff;
      int n = t.getShort(2) & 0xffff;
      int expected = frameCount(rawLength, shift);
      if (n != expected || reserved != 0) {
        throw FsException.of(Errno.EIO, "frame table has %d frames of 2^%d bytes, a block of %d bytes has %d", n,
            shift, rawLength, expected);
      }
      int len = PREAMBLE + ENTRY * n + TRAILER;
      if (len > t.remaining() || len > bodyLength) {
        throw FsException.of(Errno.EIO, "frame table of %d bytes does not fit (%d read, body %d)", len,
            t.remaining(), bodyLength);
      }
      int tableCrc = t.getInt(len - TRAILER);
      if (crc(t.slice(0, len - TRAILER)) != tableCrc) {
        throw new FsException(Errno.EIO, "frame table checksum mismatch");
      }
      Codec[] codecs = new Codec[n];
      int[] stored = new int[n];
      int[] crcs = new int[n];
      long total = len;
      int size = 1 << shift;
      for (int i = 0; i < n; i++) {
        int word = t.getInt(PREAMBLE + ENTRY * i);
        codecs[i] = Codec.byId(word >>> 24);
        stored[i] = word & MAX_STORED;
        crcs[i] = t.getInt(PREAMBLE + ENTRY * i + 4);
        int raw = Math.min(size, rawLength - i * size);
        if (codecs[i] == Codec.NONE ? stored[i] != raw : stored[i] < 1 || stored[i] > raw) {
          throw FsException.of(Errno.EIO, "frame %d: %d stored bytes for %d plain (%s)", i, stored[i], raw,
              codecs[i]);
        }
        total += stored[i];
      }
      if (total != bodyLength) {
        throw FsException.of(Errno.EIO, "frame table accounts for %d bytes of a body of %d", total, bodyLength);
      }
      return new Table(shift, rawLength, t.getInt(4), tableCrc, len, codecs, stored, crcs);
    }

    private static int checkShift(int shift) throws FsException {
      if (shift < MIN_SHIFT || shift > MAX_SHIFT) {
        throw FsException.of(Errno.EIO, "frame shift %d out of range", shift);
      }
      return shift;
    }

    /** This table, when its CRC is {@code expected} (what a record header says it is); else EIO. */
    public Table requireCrc(int expected) throws FsException {
      if (tableCrc != expected) {
        throw new FsException(Errno.EIO, "frame table does not match its record header");
      }
      return this;
    }

    public int tableLength() {
      return tableLength;
    }

    public int count() {
      return stored.length;
    }

    /** The frame holding plain byte {@code rawOffset}. */
    public int frameOf(int rawOffset) {
      return rawOffset >>> shift;
    }

    /** Where frame {@code i} starts in the body. */
    public int start(int i) {
      return start[i];
    }

    /** Where frame {@code i} ends in the body. */
    public int end(int i) {
      return start[i + 1];
    }

    /**
     * Copies plain bytes {@code [offset, offset + n)}, all inside frames {@code first..last}, to
     * {@code dst[dstOff..]}; {@code frames} holds exactly the stored frames {@code first..last} (body bytes
     * {@code [start(first), end(last))}). Each frame's CRC32C is checked before it is used.
     */
    public void decodeRange(ByteBuffer frames, int first, int last, int offset, byte[] dst, int dstOff, int n)
        throws FsException {
      decodeFrames(frames, first, last, offset, dst, dstOff, n);
    }

    private void decodeFrames(ByteBuffer frames, int first, int last, int offset, byte[] dst, int dstOff, int n)
        throws FsException {
      if (frames.remaining() != start[last + 1] - start[first]) {
        throw FsException.of(Errno.EIO, "frames %d..%d are %d bytes, %d read", first, last,
            start[last + 1] - start[first], frames.remaining());
      }
      int size = 1 << shift;
      int at = frames.position();
      for (int i = first; i <= last; i++) {
        ByteBuffer f = frames.slice(at, stored[i]);
        at += stored[i];
        if (crc(f) != crc[i]) {
          throw FsException.of(Errno.EIO, "frame %d checksum mismatch", i);
        }
        int frameStart = i * size;
        int frameRaw = Math.min(size, rawLength - frameStart);
        int from = Math.max(offset, frameStart);
        int to = Math.min(offset + n, frameStart + frameRaw);
        if (from >= to) {
          continue;
        }
        int outAt = dstOff + (from - offset);
        if (codecs[i] == Codec.NONE) {
          f.get(from - frameStart, dst, outAt, to - from);
        } else if (to - from == frameRaw) {
          codecs[i].decompress(f, dst, outAt, frameRaw);
        } else {
          byte[] scratch = scratch(frameRaw);
          codecs[i].decompress(f, scratch, 0, frameRaw);
          System.arraycopy(scratch, from - frameStart, dst, outAt, to - from);
        }
      }
    }

    private static byte[] scratch(int n) {
      byte[] b = SCRATCH.get();
      if (b.length < n) {
        b = new byte[n];
        SCRATCH.set(b);
      }
      return b;
    }
  }
}
