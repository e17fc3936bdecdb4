package io.dynamicfs.core.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.FramesTest.Kind;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Framed records in a segment store: range reads against the plain bytes at every frame boundary, the
 * frames a range read does and does not touch, damage caught by the frames it reads, and the record layout.
 */
class FramedRecordsTest {
  private static final int F = 1 << Frames.SHIFT;
  private static final int HEADER = SegmentStore.RECORD_HEADER_BYTES;

  @TempDir Path dir;
  private final Random random = new Random(5);
  private final List<SegmentStore> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws IOException {
    for (SegmentStore s : open) {
      s.close();
    }
  }

  private SegmentStore open(Codec codec) throws IOException {
    return open(codec, 64L << 20);
  }

  private SegmentStore open(Codec codec, long segmentBytes) throws IOException {
    SegmentStore s = SegmentStore.open(dir, codec, segmentBytes);
    open.add(s);
    return s;
  }

  private void close(SegmentStore s) throws IOException {
    open.remove(s);
    s.close();
  }

  private Path onlySegment() throws IOException {
    try (Stream<Path> st = Files.list(dir)) {
      List<Path> l = st.filter(p -> p.getFileName().toString().startsWith("seg-")).toList();
      assertEquals(1, l.size());
      return l.get(0);
    }
  }

  private static void flipByte(Path file, long offset) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      ch.read(b, offset);
      b.put(0, (byte) (b.get(0) ^ 0x21));
      ch.write(b.rewind(), offset);
    }
  }

  /** What a range read of {@code [off, off + len)} must return. */
  private static byte[] expect(byte[] plain, int off, int len) {
    int n = Math.max(0, Math.min(len, plain.length - off));
    return n == 0 ? new byte[0] : Arrays.copyOfRange(plain, off, off + n);
  }

  private static void assertRange(SegmentStore s, BlockId id, byte[] plain, int off, int len, String what)
      throws IOException {
    byte[] dst = new byte[len + 3];
    Arrays.fill(dst, (byte) 0x7e);
    int n = s.readRange(id, off, dst, 3, len);
    byte[] want = expect(plain, off, len);
    assertEquals(want.length, n, () -> what + " range " + off + "+" + len);
    assertArrayEquals(want, Arrays.copyOfRange(dst, 3, 3 + n), () -> what + " range " + off + "+" + len);
    for (int i = 3 + n; i < dst.length; i++) {
      assertEquals(0x7e, dst[i], "nothing written past the bytes returned");
    }
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void readRange_atEveryFrameBoundary_matchesThePlainBytes_beforeAndAfterReopen(Codec codec) throws IOException {
    SegmentStore s = open(codec);
    Map<BlockId, byte[]> blocks = new LinkedHashMap<>();
    for (Kind kind : Kind.values()) {
      for (int n : FramesTest.SIZES) {
        byte[] b = FramesTest.content(kind, n, random);
        if (n > 8) {
          b[0] = (byte) kind.ordinal(); // distinct ids for each kind and size
          b[1] = (byte) (n >> 8);
          b[2] = (byte) n;
        }
        BlockId id = BlockId.hash(b, 0, b.length);
        s.put(id, b, b.length);
        blocks.put(id, b);
      }
    }
    for (int pass = 0; pass < 2; pass++) {
      for (var e : blocks.entrySet()) {
        byte[] b = e.getValue();
        for (int[] r : FramesTest.ranges(b.length)) {
          assertRange(s, e.getKey(), b, r[0], r[1], codec + " block of " + b.length);
        }
        assertRange(s, e.getKey(), b, b.length, 10, "at the end");
        assertRange(s, e.getKey(), b, b.length + 5000, 10, "past the end");
        for (int i = 0; i < 20 && b.length > 0; i++) {
          assertRange(s, e.getKey(), b, random.nextInt(b.length), 1 + random.nextInt(9000), "random");
        }
        assertArrayEquals(b, s.get(e.getKey()));
      }
      close(s);
      s = open(codec);
    }
  }

  @Test
  void readRange_readsOnlyTheFramesItTouches_andCatchesAFlipInThoseItDoes() throws IOException {
    // One incompressible 1 MiB block: raw frames, so byte i of frame k sits at a known place in the file.
    SegmentStore s = open(Codec.LZ4);
    byte[] b = FramesTest.content(Kind.RANDOM, 16 * F, random);
    BlockId id = BlockId.hash(b, 0, b.length);
    s.put(id, b, b.length);
    close(s);
    long frames = HEADER + Frames.tableLength(b.length, Frames.SHIFT);
    Path seg = onlySegment();
    flipByte(seg, frames + 5L * F + 1234); // frame 5

    SegmentStore again = open(Codec.LZ4);
    for (int k = 0; k < 16; k++) {
      int off = k * F + 100;
      if (k == 5) {
        int at = off;
        FsException e = assertThrows(FsException.class, () -> again.readRange(id, at, new byte[4096], 0, 4096));
        assertEquals(Errno.EIO, e.errno());
        assertTrue(e.getMessage().contains(seg.getFileName().toString()) && e.getMessage().contains("frame 5"),
            e::getMessage);
      } else {
        assertRange(again, id, b, off, 4096, "frame " + k + " (not damaged, so not read)");
      }
    }
    assertThrows(FsException.class, () -> again.readRange(id, 5 * F - 10, new byte[20], 0, 20), "crossing into it");
    assertThrows(FsException.class, () -> again.readRange(id, 6 * F - 1, new byte[20], 0, 20), "crossing out of it");
    assertThrows(FsException.class, () -> again.get(id), "a whole read checks every frame");
  }

  @ParameterizedTest
  @EnumSource(Codec.class)
  void readRange_damagedTableOrFrameOfACompressedRecord_failsEio(Codec codec) throws IOException {
    SegmentStore s = open(codec);
    byte[] b = FramesTest.content(Kind.TEXT, 8 * F + 5, random);
    BlockId id = BlockId.hash(b, 0, b.length);
    s.put(id, b, b.length);
    int stored = s.stat(id).storedLength();
    close(s);
    Path seg = onlySegment();
    int table = Frames.tableLength(b.length, Frames.SHIFT);
    for (long at : new long[] {HEADER, HEADER + 3, HEADER + 9, HEADER + table - 1, HEADER + table,
        HEADER + stored - 1}) {
      flipByte(seg, at);
      SegmentStore again = open(codec);
      FsException e = assertThrows(FsException.class, () -> {
        again.readRange(id, 0, new byte[10], 0, 10);
        again.readRange(id, b.length - 10, new byte[10], 0, 10);
      }, () -> "flip at record byte " + at);
      assertEquals(Errno.EIO, e.errno());
      assertThrows(FsException.class, () -> again.get(id));
      close(again);
      flipByte(seg, at);
    }
    SegmentStore healed = open(codec);
    assertRange(healed, id, b, 3 * F - 1, 2, "restored");
  }

  @Test
  void recordLayout_headerThenTableThenFrames() throws IOException {
    SegmentStore s = open(Codec.LZ4);
    byte[] b = FramesTest.content(Kind.MIXED, 3 * F + 10, random);
    BlockId id = BlockId.hash(b, 0, b.length);
    StoredBlock sb = s.put(id, b, b.length);
    close(s);
    byte[] file = Files.readAllBytes(onlySegment());
    assertEquals(HEADER + sb.storedLength(), file.length, "a record is the header and storedLength bytes");
    ByteBuffer h = ByteBuffer.wrap(file);
    assertEquals(0x44465352, h.getInt(0), "magic");
    assertEquals(2, h.get(4), "version 2: framed");
    assertEquals(Codec.LZ4.id(), h.get(5), "the codec of the compressed frames");
    assertEquals(b.length, h.getInt(8));
    assertEquals(sb.storedLength(), h.getInt(12));
    int table = Frames.tableLength(b.length, Frames.SHIFT);
    assertEquals(h.getInt(HEADER + table - 4), h.getInt(48), "the header repeats the table's CRC");
    assertArrayEquals(b, Frames.decode(file, HEADER, file.length - HEADER, b.length));
    assertArrayEquals(Arrays.copyOfRange(b, 0, F), Arrays.copyOfRange(file, HEADER + table, HEADER + table + F),
        "frame 0 (random) is stored raw, right after the table");
  }

  @Test
  void readRange_ofARecordWithAnotherFrameSize_followsItsTable() throws IOException {
    SegmentStore s = open(Codec.LZ4);
    for (int shift : new int[] {12, 18}) {
      byte[] b = FramesTest.content(Kind.MIXED, 5 * (1 << shift) + 77, random);
      BlockId id = BlockId.hash(b, 0, b.length);
      s.putFramed(id, Frames.encode(Codec.LZ4, b, 0, b.length, shift));
      for (int i = 0; i < 200; i++) {
        assertRange(s, id, b, random.nextInt(b.length), 1 + random.nextInt(3 << shift), "shift " + shift);
      }
      assertArrayEquals(b, s.get(id));
    }
  }

  @Test
  void readRange_badArgumentsAndMissingBlocks() throws IOException {
    SegmentStore s = open(Codec.LZ4);
    byte[] b = FramesTest.content(Kind.TEXT, 100_000, random);
    BlockId id = BlockId.hash(b, 0, b.length);
    s.put(id, b, b.length);
    assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> s.readRange(id, -1, new byte[5], 0, 5)).errno());
    assertThrows(IndexOutOfBoundsException.class, () -> s.readRange(id, 0, new byte[5], 2, 5));
    BlockId absent = BlockId.hash(new byte[] {1}, 0, 1);
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> s.readRange(absent, 0, new byte[5], 0, 5)).errno());
    assertEquals(0, s.readRange(id, 10, new byte[0], 0, 0));
  }

  @Test
  void compaction_keepsFramedAndFirstFormatRecordsReadable_andMovesThemAsTheyAre() throws IOException {
    // A first-format record (the old writer's bytes) and framed ones in a segment that compaction retires.
    byte[] old = FramesTest.content(Kind.RANDOM, 3 * F, random);
    BlockId oldId = BlockId.hash(old, 0, old.length);
    Files.write(dir.resolve("seg-00000001.dfs"), Version1Fixture.record(Codec.LZ4, old));
    SegmentStore s = open(Codec.LZ4, 150 << 10);
    Map<BlockId, byte[]> keep = new LinkedHashMap<>();
    keep.put(oldId, old);
    List<BlockId> drop = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      byte[] b = FramesTest.content(i % 2 == 0 ? Kind.MIXED : Kind.TEXT, 2 * F + i, random);
      b[0] = (byte) i;
      BlockId id = BlockId.hash(b, 0, b.length);
      s.put(id, b, b.length);
      if (i % 3 == 0) {
        keep.put(id, b);
      } else {
        drop.add(id);
      }
    }
    for (BlockId id : drop) {
      s.delete(id);
    }
    s.sync();
    assertTrue(s.compact(0.9) > 0, "sparse segments were retired");
    for (int pass = 0; pass < 2; pass++) {
      for (var e : keep.entrySet()) {
        assertArrayEquals(e.getValue(), s.get(e.getKey()));
        byte[] dst = new byte[4096];
        int n = s.readRange(e.getKey(), F - 100, dst, 0, dst.length);
        if (e.getKey().equals(oldId)) {
          assertEquals(-1, n, "a first-format record stays one: read whole");
        } else {
          assertEquals(4096, n);
          assertArrayEquals(expect(e.getValue(), F - 100, 4096), dst);
        }
      }
      close(s);
      s = open(Codec.LZ4, 150 << 10);
    }
  }

  private BlockId putFiller(SegmentStore s) throws IOException {
    byte[] b = FramesTest.content(Kind.RANDOM, 2 * F, random);
    BlockId id = BlockId.hash(b, 0, b.length);
    s.put(id, b, b.length);
    return id;
  }

  @Test
  void readRange_concurrentWithCompaction_alwaysReturnsTheRightBytes() throws Exception {
    SegmentStore s = open(Codec.LZ4, 1 << 20);
    Map<BlockId, byte[]> blocks = new LinkedHashMap<>();
    List<BlockId> fillers = new ArrayList<>();
    for (int i = 0; i < 24; i++) {
      byte[] b = FramesTest.content(i % 2 == 0 ? Kind.MIXED : Kind.TEXT, 3 * F, random);
      b[0] = (byte) i;
      BlockId id = BlockId.hash(b, 0, b.length);
      s.put(id, b, b.length);
      blocks.put(id, b);
      fillers.add(putFiller(s));
    }
    List<BlockId> ids = new ArrayList<>(blocks.keySet());
    AtomicBoolean stop = new AtomicBoolean();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    SegmentStore store = s;
    try {
      List<Future<?>> readers = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        long seed = t;
        readers.add(pool.submit(() -> {
          Random r = new Random(seed);
          byte[] dst = new byte[9000];
          while (!stop.get()) {
            BlockId id = ids.get(r.nextInt(ids.size()));
            int off = r.nextInt(3 * F);
            int n = store.readRange(id, off, dst, 0, dst.length);
            assertArrayEquals(expect(blocks.get(id), off, dst.length), Arrays.copyOf(dst, n));
          }
          return null;
        }));
      }
      long moved = 0;
      for (int round = 0; round < 6; round++) {
        // the fillers between the blocks die, so their segments are compacted and the blocks move
        for (BlockId id : fillers) {
          store.delete(id);
        }
        fillers.clear();
        for (int i = 0; i < 8; i++) {
          fillers.add(putFiller(store));
        }
        store.sync();
        moved += store.compact(0.95);
      }
      assertTrue(moved > 0, "records moved under the readers");
      stop.set(true);
      for (Future<?> f : readers) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      stop.set(true);
      pool.shutdownNow();
    }
  }
}
