package io.dynamicfs.core.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.codec.Codec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Records of the first format, as the code before framed records wrote them (the checked-in fixture), read
 * by today's store: whole reads, range reads that defer to them, new framed records beside them, compaction.
 */
class Version1RecordsTest {
  @TempDir Path tmp;

  private Path segmentDir() throws IOException {
    return Version1Fixture.copyTo(tmp).resolve("segment");
  }

  @Test
  void theOldWriterKeptForTests_writesTheFixtureBytesExactly() throws IOException {
    ByteArrayOutputStream want = new ByteArrayOutputStream();
    for (byte[] b : Version1Fixture.segmentLz4Blocks()) {
      want.writeBytes(Version1Fixture.record(Codec.LZ4, b));
    }
    byte[] gone = Version1Fixture.segmentDeleted();
    want.writeBytes(Version1Fixture.record(Codec.LZ4, gone));
    want.writeBytes(Version1Fixture.tombstone(Version1Fixture.id(gone)));
    want.writeBytes(Version1Fixture.record(Codec.ZSTD, Version1Fixture.segmentZstdBlock()));
    assertArrayEquals(want.toByteArray(), Files.readAllBytes(segmentDir().resolve("seg-00000001.dfs")));
  }

  @Test
  void everyVersion1Record_readsBack_andTheTombstoneHolds() throws IOException {
    try (SegmentStore s = SegmentStore.open(segmentDir(), Codec.LZ4, 64L << 20)) {
      List<byte[]> blocks = Version1Fixture.segmentBlocks();
      assertEquals(blocks.size(), s.stats().blocks());
      for (byte[] b : blocks) {
        BlockId id = Version1Fixture.id(b);
        byte[] got = s.get(id);
        assertArrayEquals(b, got);
        assertEquals(id, BlockId.hash(got, 0, got.length));
        assertArrayEquals(b, s.getSequential(id));
        assertEquals(-1, s.readRange(id, 0, new byte[10], 0, 10), "no frames: the caller reads it whole");
      }
      assertEquals(Codec.LZ4, s.stat(Version1Fixture.id(blocks.get(0))).codec());
      assertEquals(Codec.NONE, s.stat(Version1Fixture.id(blocks.get(1))).codec(), "random bytes were kept raw");
      assertEquals(3000, s.stat(Version1Fixture.id(blocks.get(1))).storedLength());
      assertEquals(Codec.ZSTD, s.stat(Version1Fixture.id(blocks.get(5))).codec());
      assertFalse(s.contains(Version1Fixture.id(Version1Fixture.segmentDeleted())));
    }
  }

  @Test
  void newPutsAreFramed_besideTheOldRecords_andBothReadAfterReopenAndCompaction() throws IOException {
    Path dir = segmentDir();
    List<byte[]> old = Version1Fixture.segmentBlocks();
    List<byte[]> fresh = new ArrayList<>();
    // small segments: the fixture's segment is sealed by the first new put and can be compacted
    try (SegmentStore s = SegmentStore.open(dir, Codec.LZ4, 64 << 10)) {
      for (int i = 0; i < 4; i++) {
        byte[] b = FramesTest.content(i % 2 == 0 ? FramesTest.Kind.MIXED : FramesTest.Kind.TEXT, 200_000 + i,
            new java.util.Random(i));
        fresh.add(b);
        s.put(Version1Fixture.id(b), b, b.length);
      }
      assertReadable(s, old, fresh);
    }
    try (SegmentStore s = SegmentStore.open(dir, Codec.LZ4, 64 << 10)) {
      assertReadable(s, old, fresh);
      s.delete(Version1Fixture.id(old.get(0))); // the fixture's segment is now mostly dead
      s.delete(Version1Fixture.id(old.get(4)));
      s.sync();
      assertTrue(s.compact(0.9) > 0);
      assertFalse(Files.exists(dir.resolve("seg-00000001.dfs")), "the fixture's segment was retired");
      assertReadable(s, old.subList(1, 4), fresh);
      assertReadable(s, old.subList(5, 6), fresh);
    }
    try (SegmentStore s = SegmentStore.open(dir, Codec.LZ4, 64 << 10)) {
      assertReadable(s, old.subList(1, 4), fresh);
      assertReadable(s, old.subList(5, 6), fresh);
      assertFalse(s.contains(Version1Fixture.id(old.get(0))));
    }
  }

  private static void assertReadable(SegmentStore s, List<byte[]> old, List<byte[]> fresh) throws IOException {
    for (byte[] b : old) {
      assertArrayEquals(b, s.get(Version1Fixture.id(b)));
      assertEquals(-1, s.readRange(Version1Fixture.id(b), 0, new byte[1], 0, 1));
    }
    for (byte[] b : fresh) {
      BlockId id = Version1Fixture.id(b);
      assertArrayEquals(b, s.get(id));
      byte[] dst = new byte[5000];
      assertEquals(5000, s.readRange(id, 65536 - 2500, dst, 0, dst.length));
      assertArrayEquals(java.util.Arrays.copyOfRange(b, 65536 - 2500, 65536 + 2500), dst);
    }
  }

  @Test
  void aVersion1RecordWithAFlippedPayloadByte_failsEio() throws IOException {
    byte[] b = FramesTest.content(FramesTest.Kind.RANDOM, 100_000, new java.util.Random(1));
    Path seg = tmp.resolve("seg-00000001.dfs");
    Files.write(seg, Version1Fixture.record(Codec.LZ4, b));
    try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {(byte) ~b[500]}), 56 + 500);
    }
    try (SegmentStore s = SegmentStore.open(tmp, Codec.LZ4, 64L << 20)) {
      BlockId id = Version1Fixture.id(b);
      assertNotNull(s.stat(id));
      FsException e = assertThrows(FsException.class, () -> s.get(id));
      assertEquals(Errno.EIO, e.errno());
      assertTrue(e.getMessage().contains("payload checksum mismatch"), e::getMessage);
    }
  }
}
