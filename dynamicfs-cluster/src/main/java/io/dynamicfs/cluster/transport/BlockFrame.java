package io.dynamicfs.cluster.transport;

import io.dynamicfs.core.api.Errno;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * One frame of the block transport, and its encoding (docs/cluster-transport.md has the table):
 *
 * <pre>
 * offset size
 *  0     4    magic "DFSB"
 *  4     1    version (1)
 *  5     1    type
 *  6     2    reserved, 0
 *  8     8    request id (the answer carries the request's)
 * 16     4    payload length N
 * 20     N    payload
 * 20+N   4    CRC32C of bytes [0, 20+N)
 * </pre>
 *
 * <p>{@link #decode} refuses what is not a whole, intact frame of a known type within the bound. The bound is
 * checked from the header alone, before the payload is buffered, so a peer cannot make the receiver hold
 * more than {@code maxFrameBytes} per connection.
 */
record BlockFrame(Type type, long requestId, byte[] payload) {
  static final int MAGIC = 0x44465342; // "DFSB"
  static final int VERSION = 1;
  static final int HEADER = 20;
  static final int TRAILER = 4;
  /** Request id of an answer that concerns the connection, not one request (its id was unreadable). */
  static final long NO_REQUEST = 0;
  /** Longest text an ERROR frame carries. */
  static final int MAX_REASON_BYTES = 512;

  /** Frame types; the code is on the wire and never changes meaning. */
  enum Type {
    HELLO(1), PUT(2), GET(3), HAS(4), DELETE(5), LIST(6), STATS(7), SYNC(8), PUT_SHARD(9), GET_SHARD(10), VERIFY(11),
    GET_RANGE(12), RECLAIM(13), AUTH(14), TOUCH(15),
    OK(64), DATA(65), ERROR(66);

    private static final Type[] BY_CODE = new Type[256];

    static {
      for (Type t : values()) {
        BY_CODE[t.code] = t;
      }
    }

    final int code;

    Type(int code) {
      this.code = code;
    }

    /** The type with this code, or null. */
    static Type byCode(int code) {
      return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }

    boolean isAnswer() {
      return this == OK || this == DATA || this == ERROR;
    }
  }

  /**
   * A frame the decoder refused. {@code fatal}: framing is lost (bad magic, version or length), so nothing
   * after it on the connection can be read and the connection must be closed after answering.
   */
  record Refused(long requestId, Errno errno, String reason, boolean fatal) {}

  /** The largest payload a frame of {@code maxFrameBytes} carries. */
  static int maxPayload(int maxFrameBytes) {
    return maxFrameBytes - HEADER - TRAILER;
  }

  /**
   * Reads one frame from the readable bytes of {@code in}: a {@link BlockFrame}, a {@link Refused} (the bad
   * frame consumed, or for a fatal refusal everything readable), or null when more bytes are needed (nothing
   * consumed).
   */
  /**
   * The bytes of the whole frame that starts at {@code in}'s reader index, once its header is there and
   * announces a length within {@code maxFrameBytes}; otherwise -1.
   */
  static int announcedBytes(ByteBuf in, int maxFrameBytes) {
    if (in.readableBytes() < HEADER) {
      return -1;
    }
    int length = in.getInt(in.readerIndex() + 16);
    return length < 0 || length > maxPayload(maxFrameBytes) ? -1 : HEADER + length + TRAILER;
  }

  static Object decode(ByteBuf in, int maxFrameBytes) {
    int start = in.readerIndex();
    int avail = in.readableBytes();
    for (int i = 0; i < Math.min(4, avail); i++) {
      if (in.getByte(start + i) != (byte) (MAGIC >>> (24 - 8 * i))) {
        in.skipBytes(avail);
        return new Refused(NO_REQUEST, Errno.EINVAL, "bad magic", true);
      }
    }
    if (avail < HEADER) {
      return null;
    }
    int version = in.getUnsignedByte(start + 4);
    if (version != VERSION) {
      in.skipBytes(avail);
      return new Refused(NO_REQUEST, Errno.EINVAL, "unsupported frame version " + version, true);
    }
    int typeCode = in.getUnsignedByte(start + 5);
    int reserved = in.getUnsignedShort(start + 6);
    long requestId = in.getLong(start + 8);
    int length = in.getInt(start + 16);
    int maxPayload = maxPayload(maxFrameBytes);
    if (length < 0 || length > maxPayload) {
      in.skipBytes(avail);
      return new Refused(requestId, Errno.E2BIG,
          "frame payload length " + Integer.toUnsignedString(length) + " outside [0, " + maxPayload + "]", true);
    }
    if (avail < HEADER + length + TRAILER) {
      return null;
    }
    int expected = crc(in, start, HEADER + length);
    int stored = in.getInt(start + HEADER + length);
    in.skipBytes(HEADER + length + TRAILER);
    if (expected != stored) {
      return new Refused(requestId, Errno.EIO, "frame checksum mismatch", false);
    }
    Type type = Type.byCode(typeCode);
    if (type == null) {
      return new Refused(requestId, Errno.EINVAL, "unknown frame type " + typeCode, false);
    }
    if (reserved != 0) {
      return new Refused(requestId, Errno.EINVAL, "reserved header bits set", false);
    }
    byte[] payload = new byte[length];
    in.getBytes(start + HEADER, payload);
    return new BlockFrame(type, requestId, payload);
  }

  /** A frame whose payload is {@code head} then {@code body[bodyOff, bodyOff + bodyLen)}. */
  static ByteBuf encode(ByteBufAllocator alloc, Type type, long requestId, byte[] head, byte[] body, int bodyOff,
      int bodyLen) {
    int length = head.length + bodyLen;
    ByteBuf out = alloc.buffer(HEADER + length + TRAILER);
    out.writeInt(MAGIC).writeByte(VERSION).writeByte(type.code).writeShort(0).writeLong(requestId).writeInt(length);
    out.writeBytes(head).writeBytes(body, bodyOff, bodyLen);
    out.writeInt(crc(out, out.readerIndex(), HEADER + length));
    return out;
  }

  static ByteBuf encode(ByteBufAllocator alloc, Type type, long requestId, byte[] payload) {
    return encode(alloc, type, requestId, payload, payload, 0, 0);
  }

  /** An ERROR frame: errno (u16, its Linux value) and a UTF-8 reason cut to {@link #MAX_REASON_BYTES}. */
  static ByteBuf error(ByteBufAllocator alloc, long requestId, Errno errno, String reason) {
    return encode(alloc, Type.ERROR, requestId, errorPayload(errno, reason));
  }

  static byte[] errorPayload(Errno errno, String reason) {
    return new Payload.Writer().u16(errno.code()).string(reason, MAX_REASON_BYTES).toBytes();
  }

  private static int crc(ByteBuf buf, int index, int length) {
    CRC32C crc = new CRC32C();
    for (ByteBuffer b : buf.nioBuffers(index, length)) {
      crc.update(b);
    }
    return (int) crc.getValue();
  }

  @Override
  public String toString() {
    return "BlockFrame[" + type + " #" + requestId + ", " + payload.length + " bytes]";
  }
}
