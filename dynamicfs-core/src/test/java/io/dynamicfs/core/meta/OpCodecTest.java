package io.dynamicfs.core.meta;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.codec.Codec;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link OpCodec}: every operation type round-trips field by field (compared with the original, not with
 * a second encoding, so a field both directions forget fails), and a damaged frame is EIO or decodes to
 * exactly the operation it encodes, never to some other one.
 */
class OpCodecTest {
  private static final BlockId ID = BlockId.hash(new byte[] {1, 2, 3}, 0, 3);

  /** At least one of every operation type, with every optional field both set and absent. */
  static List<MetaOp> samples() {
    return List.of(
        new MetaOp.CreateNode(1, "naïve 😀", 0100644, 1000, 100, false, 0, null, 123456789L),
        new MetaOp.CreateNode(1, "l", 0120777, 0, 0, true, 0x0102030405L, "../target", -5L),
        new MetaOp.Link(7, 1, "hard", 1L),
        new MetaOp.Remove(1, "x", true, 0, 2L),
        new MetaOp.Remove(3, "y", false, 0x5e55L, 9L),
        new MetaOp.Rename(1, "a", 9, "b", 2, -77L, 3L),
        new MetaOp.OpenSession(-77L, "mount on host ü", Long.MAX_VALUE),
        new MetaOp.RenewSession(-77L, 123L),
        new MetaOp.Noop(),
        new MetaOp.Unreserve(12L, 3L, 9L),
        new MetaOp.AsSession(-77L, 42L, new MetaOp.Remove(3, "y", false, 0x5e55L, 9L)),
        new MetaOp.AsSession(5L, 0L, new MetaOp.CreateGranted(1234L,
            new MetaOp.CreateNode(1, "g", 0100644, 1, 2, false, 0, null, 3L))),
        new MetaOp.CreateGranted(77L, new MetaOp.CreateNode(1, "s", 0120777, 0, 0, true, 0, "t", 4L)),
        new MetaOp.GrantInodes(1024L),
        new MetaOp.Batch(List.of(new MetaOp.AsSession(5L, 1L, new MetaOp.ReclaimInode(7)), new MetaOp.Noop())),
        new MetaOp.Batch(List.of()),
        new MetaOp.AcquireDirLease(99L),
        new MetaOp.RecallDirLease(98L),
        new MetaOp.ReleaseDirLease(97L),
        new MetaOp.CloneBlocks(7L, 2L, 8L, 5L, 3L, 8L * (1 << 20) - 1, 13L),
        new MetaOp.CloseSession(-77L),
        new MetaOp.ExpireSessions(456L),
        new MetaOp.SetClusterConfig("c0ffee", 1 << 20, 1, 4096, "replicate-2"),
        new MetaOp.AddNode("n1", "127.0.0.1:9000", "127.0.0.1:9001", 5L),
        new MetaOp.SetNodeState("n1", "DRAINING", 6L),
        new MetaOp.SetAttrs(7, 0755, null, 5, null, 99L, 4L),
        new MetaOp.SetAttrs(8, null, 12, null, -3L, null, 4L),
        new MetaOp.SetXattr(7, "user.k", new byte[] {0, 1, 2}, 1, 5L),
        new MetaOp.RemoveXattr(7, "user.k", 6L),
        new MetaOp.CommitBlocks(7, 3_000_000, 10, 7L, 8L, List.of(
            MetaOp.ChunkChange.stored(0, ID, 1 << 20, 1000, Codec.LZ4, new Placement(2, List.of(0, 5, 7))),
            MetaOp.ChunkChange.stored(3, ID, 70_000, 70_001, Codec.ZSTD, Placement.UNKNOWN),
            MetaOp.ChunkChange.hole(1),
            MetaOp.ChunkChange.inline(2, new byte[] {9, 9}))),
        new MetaOp.CommitBlocks(7, 10, 5, 1L, 2L, List.of(), new MetaOp.SetAttrs(7, 0600, 3, null, 4L, null, 5L)),
        new MetaOp.LogIntents(new MetaOp.CommitBlocks(7, 3_000_000, -1, 7L, 8L, List.of(
            MetaOp.ChunkChange.stored(2, ID, 1 << 20, 999, Codec.LZ4, Placement.UNKNOWN))), List.of(
            new MetaOp.Overlay(0, 4096, 512, 3, 1L << 33, 0xcafebabe),
            new MetaOp.Overlay(1, 0, 1, Integer.MAX_VALUE, 0, -1))),
        new MetaOp.LogIntents(new MetaOp.CommitBlocks(7, 10, -1, 1L, 2L, List.of(),
            new MetaOp.SetAttrs(7, 0600, null, null, null, null, 5L)), List.of()),
        new MetaOp.Reserve(7, 4096, 1L << 30, true, 5L << 30, null, 11L),
        new MetaOp.Reserve(7, 0, 10, false, 0, new MetaOp.SetAttrs(7, 0644, null, null, null, null, 12L), 12L),
        new MetaOp.ReclaimInode(7),
        new MetaOp.MoveBlock(ID, 0, new Placement(1, List.of(3, 4))),
        new MetaOp.MoveBlock(ID, 65535, Placement.UNKNOWN),
        new MetaOp.ReplaceBlockPlacement(ID, new Placement(0, List.of(1, 2)), new Placement(0, List.of(1, -1, 4))),
        new MetaOp.PurgeBlocks(List.of(ID, BlockId.hash(new byte[] {4}, 0, 1))),
        new MetaOp.PurgeBlocks(List.of()));
  }

  @Test
  void samples_coverEveryOperationType() {
    Set<Class<?>> covered = samples().stream().map(Object::getClass).collect(Collectors.toSet());
    for (Class<?> type : MetaOp.class.getPermittedSubclasses()) {
      assertTrue(covered.contains(type), "no sample of " + type.getSimpleName());
    }
  }

  @Test
  void encodeDecode_everyOperation_givesEveryFieldBack() throws Exception {
    for (MetaOp op : samples()) {
      MetaOp back = OpCodec.decode(OpCodec.encode(op));
      assertSame(op, back, op.getClass().getSimpleName());
    }
    MetaOp.CreateNode c = (MetaOp.CreateNode) OpCodec.decode(OpCodec.encode(samples().get(0)));
    assertEquals("naïve 😀", c.name());
    assertEquals(null, c.target());
  }

  /** The comparison itself must see a difference in any one field, arrays and nested records included. */
  @Test
  void fieldComparison_catchesAChangeAnywhere() {
    MetaOp.SetXattr x = new MetaOp.SetXattr(7, "user.k", new byte[] {0, 1, 2}, 1, 5L);
    assertThrows(AssertionError.class, () -> assertSame(x, new MetaOp.SetXattr(7, "user.k", new byte[] {0, 1, 3}, 1, 5L), ""));
    assertThrows(AssertionError.class, () -> assertSame(x, new MetaOp.SetXattr(7, "user.k", new byte[] {0, 1, 2}, 1, 6L), ""));
    MetaOp.CommitBlocks a = new MetaOp.CommitBlocks(7, 10, 5, 1L, 2L, List.of(MetaOp.ChunkChange.inline(0, new byte[] {1})));
    MetaOp.CommitBlocks b = new MetaOp.CommitBlocks(7, 10, 5, 1L, 2L, List.of(MetaOp.ChunkChange.inline(0, new byte[] {2})));
    assertThrows(AssertionError.class, () -> assertSame(a, b, ""));
    MetaOp.MoveBlock m = new MetaOp.MoveBlock(ID, 0, new Placement(1, List.of(3, 4)));
    assertThrows(AssertionError.class, () -> assertSame(m, new MetaOp.MoveBlock(ID, 0, new Placement(1, List.of(3, 5))), ""));
  }

  @Test
  void decode_truncatedOrLonger_failsEio() {
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
  }

  /**
   * Frames with a few bytes changed (and plain junk): each is EIO, or it decodes to an operation whose
   * encoding is exactly that frame (a changed name or number is a different, well-formed operation), never
   * to an operation that reads the frame differently. Many must be refused: version, tags, booleans,
   * lengths, codec ids and UTF-8 are all checked.
   */
  @Test
  void decode_damagedFrames_failEioOrAreExactlyTheOperationTheyEncode() throws Exception {
    long seed = new Random().nextLong();
    Random r = new Random(seed);
    List<byte[]> frames = samples().stream().map(OpCodec::encode).toList();
    int refused = 0;
    int total = 0;
    for (int i = 0; i < 20_000; i++) {
      byte[] frame;
      if (i % 10 == 0) {
        frame = new byte[r.nextInt(64)];
        r.nextBytes(frame);
      } else {
        frame = frames.get(r.nextInt(frames.size())).clone();
        for (int k = 1 + r.nextInt(3); k > 0; k--) {
          frame[r.nextInt(frame.length)] = (byte) r.nextInt(256);
        }
      }
      total++;
      MetaOp op;
      try {
        op = OpCodec.decode(frame);
      } catch (FsException e) {
        assertEquals(Errno.EIO, e.errno(), "seed " + seed);
        refused++;
        continue;
      }
      assertArrayEquals(frame, OpCodec.encode(op), "seed " + seed + ": a frame decoded to " + op);
    }
    assertTrue(refused > total / 4, "only " + refused + " of " + total + " damaged frames refused, seed " + seed);
  }

  /** Field-by-field equality of two operations: records recursively, lists element-wise, byte arrays by content. */
  static void assertSame(Object expected, Object actual, String where) {
    if (expected == null || actual == null) {
      assertEquals(expected, actual, where);
      return;
    }
    if (expected instanceof List<?> e) {
      assertTrue(actual instanceof List<?>, where + ": not a list: " + actual);
      List<?> a = (List<?>) actual;
      assertEquals(e.size(), a.size(), where + " size");
      for (int i = 0; i < e.size(); i++) {
        assertSame(e.get(i), a.get(i), where + "[" + i + "]");
      }
      return;
    }
    assertEquals(expected.getClass(), actual.getClass(), where);
    if (expected instanceof byte[] e) {
      assertArrayEquals(e, (byte[]) actual, where);
    } else if (expected.getClass().isRecord()) {
      for (RecordComponent rc : expected.getClass().getRecordComponents()) {
        try {
          assertSame(rc.getAccessor().invoke(expected), rc.getAccessor().invoke(actual), where + "." + rc.getName());
        } catch (ReflectiveOperationException e) {
          throw new AssertionError("cannot read " + rc, e);
        }
      }
    } else {
      assertEquals(expected, actual, where);
    }
  }
}
