package io.dynamicfs.core.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.codec.Codec;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class OpCodecTest {
  private static final BlockId ID = BlockId.hash(new byte[] {1, 2, 3}, 0, 3);

  static List<MetaOp> samples() {
    return List.of(
        new MetaOp.CreateNode(1, "naïve 😀", 0100644, 1000, 100, false, 0, null, 123456789L),
        new MetaOp.CreateNode(1, "l", 0120777, 0, 0, true, 0, "../target", -5L),
        new MetaOp.Link(7, 1, "hard", 1L),
        new MetaOp.Remove(1, "x", true, 0, 2L),
        new MetaOp.Rename(1, "a", 9, "b", 2, -77L, 3L),
        new MetaOp.OpenSession(-77L, "mount on host ü", Long.MAX_VALUE),
        new MetaOp.RenewSession(-77L, 123L),
        new MetaOp.CloseSession(-77L),
        new MetaOp.ExpireSessions(456L),
        new MetaOp.SetClusterConfig("c0ffee", 1 << 20, 1, 4096, "replicate-2"),
        new MetaOp.AddNode("n1", "127.0.0.1:9000", "127.0.0.1:9001", 5L),
        new MetaOp.SetNodeState("n1", "DRAINING", 6L),
        new MetaOp.SetAttrs(7, 0755, null, 5, null, 99L, 4L),
        new MetaOp.SetXattr(7, "user.k", new byte[] {0, 1, 2}, 1, 5L),
        new MetaOp.RemoveXattr(7, "user.k", 6L),
        new MetaOp.CommitBlocks(7, 3_000_000, 10, 7L, 8L, List.of(
            MetaOp.ChunkChange.stored(0, ID, 1 << 20, 1000, Codec.LZ4, new io.dynamicfs.core.block.Placement(2, List.of(0, 5, 7))),
            MetaOp.ChunkChange.hole(1),
            MetaOp.ChunkChange.inline(2, new byte[] {9, 9}))),
        new MetaOp.CommitBlocks(7, 10, 5, 1L, 2L, List.of(), new MetaOp.SetAttrs(7, 0600, 3, null, 4L, null, 5L)),
        new MetaOp.ReclaimInode(7),
        new MetaOp.MoveBlock(ID, 0, new io.dynamicfs.core.block.Placement(1, List.of(3, 4))),
        new MetaOp.ReplaceBlockPlacement(ID, new io.dynamicfs.core.block.Placement(0, List.of(1, 2)),
            new io.dynamicfs.core.block.Placement(0, List.of(1, -1, 4))),
        new MetaOp.PurgeBlocks(List.of(ID, BlockId.hash(new byte[] {4}, 0, 1))));
  }

  @Test
  void encodeDecode_everyOperation_roundTrips() throws Exception {
    for (MetaOp op : samples()) {
      MetaOp back = OpCodec.decode(OpCodec.encode(op));
      assertEquals(OpCodec.encode(op).length, OpCodec.encode(back).length, op.toString());
      assertArrayEquals(OpCodec.encode(op), OpCodec.encode(back), op.toString());
      assertEquals(op.getClass(), back.getClass());
    }
    MetaOp.CreateNode c = (MetaOp.CreateNode) OpCodec.decode(OpCodec.encode(samples().get(0)));
    assertEquals("naïve 😀", c.name());
    assertEquals(null, c.target());
  }

  @Test
  void decode_truncatedOrGarbage_failsEio_neverAWrongOp() {
    for (MetaOp op : samples()) {
      byte[] frame = OpCodec.encode(op);
      for (int cut = 0; cut < frame.length; cut++) {
        byte[] shorter = Arrays.copyOf(frame, cut);
        FsException e = assertThrows(FsException.class, () -> OpCodec.decode(shorter), op + " cut at " + cut);
        assertEquals(Errno.EIO, e.errno());
      }
      byte[] longer = Arrays.copyOf(frame, frame.length + 1);
      assertEquals(Errno.EIO, assertThrows(FsException.class, () -> OpCodec.decode(longer)).errno());
    }
    Random r = new Random(1);
    for (int i = 0; i < 2000; i++) {
      byte[] junk = new byte[r.nextInt(64)];
      r.nextBytes(junk);
      try {
        OpCodec.decode(junk);
      } catch (FsException e) {
        assertEquals(Errno.EIO, e.errno());
      }
    }
  }
}
