package io.dynamicfs.cluster.transport;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The fields inside a frame's payload, big-endian: strict reading (a short payload, bytes left over or text
 * that is not UTF-8 are EINVAL) and writing.
 */
final class Payload {
  /** Bytes of a {@link StoredBlock} on the wire: id, raw length, stored length, codec. */
  static final int STORED_BLOCK_BYTES = BlockId.LENGTH + 4 + 4 + 1;

  private Payload() {}

  /** Reads fields in order; every read checks the bytes are there. */
  static final class Reader {
    private final ByteBuffer buf;
    private final String what;

    Reader(byte[] payload, String what) {
      this.buf = ByteBuffer.wrap(payload);
      this.what = what;
    }

    int u8() throws FsException {
      need(1);
      return buf.get() & 0xff;
    }

    int u16() throws FsException {
      need(2);
      return buf.getShort() & 0xffff;
    }

    int i32() throws FsException {
      need(4);
      return buf.getInt();
    }

    long i64() throws FsException {
      need(8);
      return buf.getLong();
    }

    BlockId id() throws FsException {
      need(BlockId.LENGTH);
      BlockId id = BlockId.of(buf.array(), buf.position());
      buf.position(buf.position() + BlockId.LENGTH);
      return id;
    }

    /** A u16 length and that many bytes. */
    byte[] bytes16() throws FsException {
      int n = u16();
      need(n);
      byte[] b = new byte[n];
      buf.get(b);
      return b;
    }

    /** A u16 length and that many bytes of UTF-8. */
    String string() throws FsException {
      byte[] b = bytes16();
      try {
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
      } catch (CharacterCodingException e) {
        throw FsException.of(Errno.EINVAL, "%s payload: text is not UTF-8", what);
      }
    }

    StoredBlock storedBlock() throws FsException {
      BlockId id = id();
      int raw = i32();
      int stored = i32();
      Codec codec = Codec.byId(u8());
      if (raw < 0 || stored < 0) {
        throw FsException.of(Errno.EINVAL, "%s payload: negative block length", what);
      }
      return new StoredBlock(id, raw, stored, codec);
    }

    /**
     * Everything not read yet; the payload array itself, not a copy, when nothing was read (a DATA answer's
     * block: its reader is the payload's last user).
     */
    byte[] rest() {
      if (buf.position() == 0 && buf.limit() == buf.array().length) {
        buf.position(buf.limit());
        return buf.array();
      }
      byte[] b = Arrays.copyOfRange(buf.array(), buf.position(), buf.limit());
      buf.position(buf.limit());
      return b;
    }

    int remaining() {
      return buf.remaining();
    }

    int position() {
      return buf.position();
    }

    /** Refuses bytes left over: a payload is exactly its fields. */
    void end() throws FsException {
      if (buf.hasRemaining()) {
        throw FsException.of(Errno.EINVAL, "%s payload has %d trailing bytes", what, buf.remaining());
      }
    }

    private void need(int n) throws FsException {
      if (buf.remaining() < n) {
        throw FsException.of(Errno.EINVAL, "%s payload truncated: %d bytes left, %d needed", what, buf.remaining(), n);
      }
    }
  }

  /** Appends fields. */
  static final class Writer {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(64);

    Writer u8(int v) {
      out.write(v);
      return this;
    }

    Writer u16(int v) {
      out.write(v >>> 8);
      out.write(v);
      return this;
    }

    Writer i32(int v) {
      return u16(v >>> 16).u16(v & 0xffff);
    }

    Writer i64(long v) {
      return i32((int) (v >>> 32)).i32((int) v);
    }

    Writer id(BlockId id) {
      byte[] b = new byte[BlockId.LENGTH];
      id.writeTo(b, 0);
      out.write(b, 0, b.length);
      return this;
    }

    Writer bytes16(byte[] b) {
      if (b.length > 0xffff) {
        throw new IllegalArgumentException("field of " + b.length + " bytes over 65535");
      }
      u16(b.length);
      out.write(b, 0, b.length);
      return this;
    }

    /** UTF-8 of {@code s}, cut at a character boundary to at most {@code maxBytes}. */
    Writer string(String s, int maxBytes) {
      ByteBuffer dst = ByteBuffer.allocate(Math.min(maxBytes, 0xffff));
      StandardCharsets.UTF_8.newEncoder().onMalformedInput(CodingErrorAction.REPLACE)
          .onUnmappableCharacter(CodingErrorAction.REPLACE).encode(CharBuffer.wrap(s), dst, true);
      return bytes16(Arrays.copyOf(dst.array(), dst.position()));
    }

    Writer storedBlock(StoredBlock sb) {
      return id(sb.id()).i32(sb.rawLength()).i32(sb.storedLength()).u8(sb.codec().id());
    }

    byte[] toBytes() {
      return out.toByteArray();
    }
  }
}
