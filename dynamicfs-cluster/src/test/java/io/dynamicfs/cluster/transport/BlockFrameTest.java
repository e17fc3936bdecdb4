package io.dynamicfs.cluster.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.transport.BlockFrame.Refused;
import io.dynamicfs.cluster.transport.BlockFrame.Type;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BlockFrameTest {
  private static final int MAX = 64 * 1024;

  private static Object decode(byte[] bytes) {
    ByteBuf in = Unpooled.wrappedBuffer(bytes);
    try {
      return BlockFrame.decode(in, MAX);
    } finally {
      in.release();
    }
  }

  @Test
  void decode_encodedFrameOfEveryTypeAndSize_roundTrips() {
    Random rnd = new Random(7);
    for (Type t : Type.values()) {
      for (int size : new int[] {0, 1, 1000, BlockFrame.maxPayload(MAX)}) {
        byte[] payload = new byte[size];
        rnd.nextBytes(payload);
        BlockFrame f = assertInstanceOf(BlockFrame.class, decode(RawClient.frame(t, 42 + size, payload)));
        assertEquals(t, f.type());
        assertEquals(42 + size, f.requestId());
        assertArrayEquals(payload, f.payload());
      }
    }
  }

  @Test
  void decode_twoFramesInOneBuffer_readsOneAtATime() {
    byte[] a = RawClient.frame(Type.GET, 1, new byte[] {1, 2});
    byte[] b = RawClient.frame(Type.HAS, 2, new byte[] {3});
    ByteBuf in = Unpooled.copiedBuffer(a, b);
    try {
      assertEquals(1, ((BlockFrame) BlockFrame.decode(in, MAX)).requestId());
      assertEquals(2, ((BlockFrame) BlockFrame.decode(in, MAX)).requestId());
      assertFalse(in.isReadable());
    } finally {
      in.release();
    }
  }

  @Test
  void decode_everyTruncation_needsMoreBytesAndConsumesNothing() {
    byte[] whole = RawClient.frame(Type.PUT, 9, new byte[100]);
    for (int n = 0; n < whole.length; n++) {
      ByteBuf in = Unpooled.wrappedBuffer(Arrays.copyOf(whole, n));
      try {
        assertNull(BlockFrame.decode(in, MAX), "prefix of " + n + " bytes");
        assertEquals(0, in.readerIndex());
      } finally {
        in.release();
      }
    }
  }

  @Test
  void decode_badMagicInFirstByte_refusedFatally() {
    Refused r = assertInstanceOf(Refused.class, decode(new byte[] {'X'}));
    assertTrue(r.fatal());
    assertEquals(BlockFrame.NO_REQUEST, r.requestId());
  }

  @Test
  void decode_unknownVersion_refusedFatally() {
    Refused r = assertInstanceOf(Refused.class,
        decode(RawClient.rawFrame(BlockFrame.MAGIC, 2, Type.GET.code, 5, 0, new byte[0], true)));
    assertTrue(r.fatal());
    assertTrue(r.reason().contains("version"), r.reason());
  }

  @Test
  void decode_lengthOverBoundFromHeaderAlone_refusedFatallyBeforeBuffering() {
    byte[] header = Arrays.copyOf(
        RawClient.rawFrame(BlockFrame.MAGIC, 1, Type.PUT.code, 77, BlockFrame.maxPayload(MAX) + 1, new byte[0], true),
        BlockFrame.HEADER); // no payload sent: the refusal must not wait for it
    Refused r = assertInstanceOf(Refused.class, decode(header));
    assertTrue(r.fatal());
    assertEquals(77, r.requestId());
    assertEquals(Errno.E2BIG, r.errno());
  }

  @Test
  void decode_negativeLength_refusedFatally() {
    Refused r = assertInstanceOf(Refused.class,
        decode(RawClient.rawFrame(BlockFrame.MAGIC, 1, Type.GET.code, 3, -1, new byte[0], true)));
    assertTrue(r.fatal());
  }

  @Test
  void decode_crcMismatch_refusedWithRequestIdAndFramingKept() {
    Refused r = assertInstanceOf(Refused.class,
        decode(RawClient.rawFrame(BlockFrame.MAGIC, 1, Type.GET.code, 11, 3, new byte[3], false)));
    assertFalse(r.fatal());
    assertEquals(11, r.requestId());
    assertEquals(Errno.EIO, r.errno());
  }

  @Test
  void decode_flippedPayloadBit_refusedAsChecksumMismatch() {
    byte[] f = RawClient.frame(Type.PUT, 12, new byte[64]);
    f[BlockFrame.HEADER + 10] ^= 1;
    Refused r = assertInstanceOf(Refused.class, decode(f));
    assertTrue(r.reason().contains("checksum"), r.reason());
  }

  @Test
  void decode_unknownType_refusedWithRequestIdAndFramingKept() {
    Refused r = assertInstanceOf(Refused.class,
        decode(RawClient.rawFrame(BlockFrame.MAGIC, 1, 200, 13, 0, new byte[0], true)));
    assertFalse(r.fatal());
    assertEquals(13, r.requestId());
  }

  @Test
  void read_payloadWithTrailingBytes_failsEinval() throws FsException {
    Payload.Reader r = new Payload.Reader(new byte[5], "HAS");
    r.i32();
    FsException e = assertThrows(FsException.class, r::end);
    assertEquals(Errno.EINVAL, e.errno());
  }

  @Test
  void read_truncatedField_failsEinval() {
    Payload.Reader r = new Payload.Reader(new byte[31], "GET");
    assertEquals(Errno.EINVAL, assertThrows(FsException.class, r::id).errno());
  }

  @Test
  void read_stringNotUtf8_failsEinval() {
    Payload.Reader r = new Payload.Reader(new byte[] {0, 2, (byte) 0xc3, (byte) 0x28}, "HELLO");
    assertEquals(Errno.EINVAL, assertThrows(FsException.class, r::string).errno());
  }

  @Test
  void write_reasonLongerThanBound_cutAtCharacterBoundary() throws FsException {
    String reason = "é".repeat(BlockFrame.MAX_REASON_BYTES); // 2 bytes each
    Payload.Reader r = new Payload.Reader(BlockFrame.errorPayload(Errno.EIO, reason), "ERROR");
    assertEquals(Errno.EIO.code(), r.u16());
    assertEquals("é".repeat(BlockFrame.MAX_REASON_BYTES / 2), r.string());
    r.end();
  }

  @Test
  void shardTypes_wireCodesPinned_requestsNotAnswers() {
    assertEquals(9, Type.PUT_SHARD.code);
    assertEquals(10, Type.GET_SHARD.code);
    assertEquals(Type.PUT_SHARD, Type.byCode(9));
    assertEquals(Type.GET_SHARD, Type.byCode(10));
    assertFalse(Type.PUT_SHARD.isAnswer());
    assertFalse(Type.GET_SHARD.isAnswer());
  }

  @Test
  void decode_shardFrames_everyTruncationNeedsMoreBytes_badCrcKeptOversizeFatal() {
    for (Type t : new Type[] {Type.PUT_SHARD, Type.GET_SHARD}) {
      byte[] whole = RawClient.frame(t, 90, new byte[t == Type.PUT_SHARD ? 32 + 81 : 32]);
      for (int n = 0; n < whole.length; n++) {
        ByteBuf in = Unpooled.wrappedBuffer(Arrays.copyOf(whole, n));
        try {
          assertNull(BlockFrame.decode(in, MAX), t + " prefix of " + n + " bytes");
          assertEquals(0, in.readerIndex());
        } finally {
          in.release();
        }
      }
      byte[] bad = whole.clone();
      bad[BlockFrame.HEADER + 3] ^= 1;
      Refused crc = assertInstanceOf(Refused.class, decode(bad));
      assertFalse(crc.fatal());
      assertEquals(90, crc.requestId());
      assertEquals(Errno.EIO, crc.errno());
      byte[] header = Arrays.copyOf(RawClient.rawFrame(BlockFrame.MAGIC, 1, t.code, 91,
          BlockFrame.maxPayload(MAX) + 1, new byte[0], true), BlockFrame.HEADER);
      Refused big = assertInstanceOf(Refused.class, decode(header));
      assertTrue(big.fatal());
      assertEquals(Errno.E2BIG, big.errno());
      assertEquals(91, big.requestId());
    }
  }
}
