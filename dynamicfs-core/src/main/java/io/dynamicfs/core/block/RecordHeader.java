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
 *  0 magic "DFSR"    4 version (1)   5 codec id   6 flags (1 = tombstone)
 *  8 raw length     12 stored length 16 block id (32 bytes)
 * 48 CRC32C of the stored payload    52 CRC32C of bytes 0..51
 * </pre>
 *
 * Big-endian. The header checksum makes a record's length trustworthy, so a scan can walk a segment
 * without reading payloads; the payload checksum is verified on every read.
 */
record RecordHeader(Codec codec, int rawLength, int storedLength, BlockId id, int payloadCrc, int flags) {
  /** Flag of a tombstone: a header-only record saying the block was deleted. */
  static final int TOMBSTONE = 1;

  static final int SIZE = 56;
  static final int MAGIC = 0x44465352;
  static final int VERSION = 1;
  static final int MAX_PAYLOAD = 64 << 20;

  boolean isTombstone() {
    return (flags & TOMBSTONE) != 0;
  }

  long recordLength() {
    return SIZE + (long) storedLength;
  }

  void writeTo(byte[] dst) {
    ByteBuffer b = ByteBuffer.wrap(dst, 0, SIZE).order(ByteOrder.BIG_ENDIAN);
    b.putInt(MAGIC).put((byte) VERSION).put((byte) codec.id()).putShort((short) flags);
    b.putInt(rawLength).putInt(storedLength);
    id.writeTo(dst, 16);
    b.position(48);
    b.putInt(payloadCrc);
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
    if (version != VERSION) {
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
    int payloadCrc = ByteBuffer.wrap(src, off + 48, 4).getInt();
    return new RecordHeader(codec, raw, stored, id, payloadCrc, flags);
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
