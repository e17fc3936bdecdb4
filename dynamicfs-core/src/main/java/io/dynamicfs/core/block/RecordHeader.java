package io.dynamicfs.core.block;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.codec.Codec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The 56-byte header in front of every stored record:
 *
 * <pre>
 *  0 magic "DFSR"    4 version (1 or 2)   5 codec id   6 flags (1 = tombstone)
 *  8 raw length     12 stored length      16 block id (32 bytes)
 * 48 body check     52 CRC32C of bytes 0..51
 * </pre>
 *
 * Big-endian. The header checksum makes a record's length trustworthy, so a scan can walk a segment
 * without reading payloads. The stored length counts the bytes after the header, so a record is always
 * {@code 56 + stored length} bytes long, whatever its version.
 *
 * <ul>
 *   <li><b>Version 1</b> (written until framed records): the payload is the whole block compressed with the
 *       header's codec (or raw), and the body check is the CRC32C of the payload, verified on every read.
 *   <li><b>Version 2</b> (written now): the body is a {@link Frames frame table and independently compressed
 *       64 KiB frames}; the body check repeats the table's own CRC32C, and the header's codec says which codec
 *       compressed frames ({@code none} when every frame is raw). Tombstones are version 2 with no body.
 * </ul>
 * Both are read; only version 2 is written, so software older than framed records refuses a store written
 * by a newer one ("record version 2 is newer than this software understands") instead of misreading it.
 */
record RecordHeader(int version, Codec codec, int rawLength, int storedLength, BlockId id, int bodyCrc, int flags) {
  /** Flag of a tombstone: a header-only record saying the block was deleted. */
  static final int TOMBSTONE = 1;

  static final int SIZE = 56;
  static final int MAGIC = 0x44465352;
  /** The whole-block record of the first format. */
  static final int V1 = 1;
  /** The framed record. */
  static final int V2 = 2;
  static final int MAX_PAYLOAD = 64 << 20;

  /** The header of a framed record holding {@code body}. */
  static RecordHeader framed(BlockId id, Frames.Encoded body) {
    return new RecordHeader(V2, body.codec(), body.rawLength(), body.length(), id, body.tableCrc(), 0);
  }

  /** A tombstone for {@code id}. */
  static RecordHeader tombstone(BlockId id) {
    return new RecordHeader(V2, Codec.NONE, 0, 0, id, 0, TOMBSTONE);
  }

  boolean isFramed() {
    return version == V2;
  }

  boolean isTombstone() {
    return (flags & TOMBSTONE) != 0;
  }

  long recordLength() {
    return SIZE + (long) storedLength;
  }

  void writeTo(byte[] dst) {
    ByteBuffer b = ByteBuffer.wrap(dst, 0, SIZE).order(ByteOrder.BIG_ENDIAN);
    b.putInt(MAGIC).put((byte) version).put((byte) codec.id()).putShort((short) flags);
    b.putInt(rawLength).putInt(storedLength);
    id.writeTo(dst, 16);
    b.position(48);
    b.putInt(bodyCrc);
    b.putInt(crc(dst, 0, 52));
  }

  /** Parses and checks a header; EIO naming the problem when it is not a valid one. */
  static RecordHeader parse(byte[] src, int off) throws FsException {
    ByteBuffer b = ByteBuffer.wrap(src, off, SIZE).order(ByteOrder.BIG_ENDIAN);
    if (b.getInt() != MAGIC) {
      throw new FsException(Errno.EIO, "bad record magic");
    }
    if (ByteBuffer.wrap(src, off + 52, 4).getInt() != crc(src, off, 52)) {
      throw new FsException(Errno.EIO, "record header checksum mismatch");
    }
    int version = b.get() & 0xff;
    if (version != V1 && version != V2) {
      throw FsException.of(Errno.EIO, "record version %d is newer than this software understands", version);
    }
    Codec codec = Codec.byId(b.get() & 0xff);
    int flags = b.getShort() & 0xffff;
    int raw = b.getInt();
    int stored = b.getInt();
    if (raw < 0 || stored < 0 || raw > MAX_PAYLOAD || stored > MAX_PAYLOAD) {
      throw FsException.of(Errno.EIO, "record lengths out of range (raw %d, stored %d)", raw, stored);
    }
    BlockId id = BlockId.of(src, off + 16);
    int bodyCrc = ByteBuffer.wrap(src, off + 48, 4).getInt();
    return new RecordHeader(version, codec, raw, stored, id, bodyCrc, flags);
  }

  static int crc(ByteBuffer data) {
    CRC32C c = new CRC32C();
    c.update(data.duplicate());
    return (int) c.getValue();
  }

  static int crc(byte[] data, int off, int len) {
    CRC32C c = new CRC32C();
    c.update(data, off, len);
    return (int) c.getValue();
  }
}
