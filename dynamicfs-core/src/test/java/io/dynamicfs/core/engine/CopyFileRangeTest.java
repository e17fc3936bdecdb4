package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.FormatOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * copy_file_range and lseek SEEK_DATA/SEEK_HOLE in the engine: a copy reads back as a byte copy would
 * (unflushed writes of either file included, edges unaligned), shares whole blocks instead of storing them
 * again, survives a reopen and leaves fsck clean; holes are missing blocks.
 */
class CopyFileRangeTest {
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final int O_RDWR = 2;
  private static final int BS = 64 << 10;
  private static final long ROOT = FileSystem.ROOT_INO;

  @TempDir Path tmp;
  private DynamicFileSystemTest.Engine engine;
  private DynamicFileSystem fs;
  private final Random random = new Random(13);

  @BeforeEach
  void start() throws IOException {
    engine = new DynamicFileSystemTest.Engine(Files.createDirectories(tmp.resolve("data")),
        new FormatOptions(BS, Codec.LZ4, 4096));
    fs = engine.fs;
  }

  @AfterEach
  void fsckAndClose() throws IOException {
    engine.assertFsckCleanAndClose();
  }

  private long create(String name) throws IOException {
    return fs.create(ME, ROOT, name, 0100644, O_RDWR).handle();
  }

  private byte[] random(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private byte[] read(long h, long off, int n) throws IOException {
    byte[] b = new byte[n];
    int got = fs.read(h, off, b, 0, n);
    return Arrays.copyOf(b, got);
  }

  private long blockBytes() throws IOException {
    try (Stream<Path> s = Files.walk(engine.dir.blocksDir())) {
      return s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  @Test
  void copyFileRange_wholeFile_sharesBlocksAndReadsBackEqual() throws IOException {
    byte[] data = random(20 * BS + 777);
    long src = create("src");
    fs.write(src, 0, data, 0, data.length);
    fs.flush(src);
    fs.fsync(src, false);
    long before = blockBytes();
    long dst = create("dst");
    assertEquals(data.length, fs.copyFileRange(ME, src, 0, dst, 0, Long.MAX_VALUE >> 1, 0));
    fs.flush(dst);
    fs.fsync(dst, false);
    assertArrayEquals(data, read(dst, 0, data.length + 10));
    long grown = blockBytes() - before;
    assertTrue(grown < data.length / 100, "DATA grew " + grown + " bytes for a " + data.length + "-byte copy");
    long dstIno = fs.inodeOf(dst);
    fs.release(src);
    fs.release(dst);
    fs = engine.reopen();
    long h = fs.open(ME, dstIno, 0);
    assertArrayEquals(data, read(h, 0, data.length));
    assertEquals(data.length, fs.getattr(dstIno).size());
    fs.release(h);
  }

  @Test
  void copyFileRange_unflushedWritesAndUnalignedEdges_readAsAByteCopy() throws IOException {
    byte[] src = random(9 * BS + 100);
    byte[] dst = random(12 * BS);
    long hs = create("src");
    long hd = create("dst");
    fs.write(hs, 0, src, 0, src.length); // nothing flushed: the copy must see it
    fs.write(hd, 0, dst, 0, dst.length);
    byte[] patch = random(300);
    fs.write(hs, 3L * BS + 50, patch, 0, patch.length);
    System.arraycopy(patch, 0, src, 3 * BS + 50, patch.length);
    byte[] dstPatch = random(BS);
    fs.write(hd, 4L * BS, dstPatch, 0, dstPatch.length); // dirty in the destination, overwritten by the copy
    System.arraycopy(dstPatch, 0, dst, 4 * BS, dstPatch.length);
    long offIn = BS + 10;
    long offOut = 2L * BS + 10; // the same position within a block: the middle is shared
    int len = 7 * BS;
    assertEquals(len, fs.copyFileRange(ME, hs, offIn, hd, offOut, len, 0));
    System.arraycopy(src, (int) offIn, dst, (int) offOut, len);
    assertArrayEquals(dst, read(hd, 0, dst.length + 1));
    assertEquals(5, fs.copyFileRange(ME, hs, 1, hd, 0, 5, 0), "unaligned: a byte copy");
    System.arraycopy(src, 1, dst, 0, 5);
    assertArrayEquals(dst, read(hd, 0, dst.length));
    assertEquals(0, fs.copyFileRange(ME, hs, src.length, hd, 0, 10, 0), "at the end of the source");
    fs.release(hs);
    fs.release(hd);
  }

  /**
   * Small fsync'd changes live as intent-log overlays over a stored block until they are folded: a copy must
   * carry them (the source's block id alone is the old content), and the destination's own overlays on the
   * blocks the copy replaces must not show through it.
   */
  @Test
  void copyFileRange_ofBlocksWithIntentLogOverlays_readsAsAByteCopy() throws IOException {
    byte[] src = random(6 * BS);
    byte[] dst = random(6 * BS);
    long hs = create("src");
    long hd = create("dst");
    fs.write(hs, 0, src, 0, src.length);
    fs.write(hd, 0, dst, 0, dst.length);
    fs.fsync(hs, false);
    fs.fsync(hd, false);
    for (int i = 0; i < 4; i++) { // small fsync'd changes to stored blocks: overlays, not new blocks
      byte[] p = random(512);
      long at = i * (long) BS + 1000;
      fs.write(hs, at, p, 0, p.length);
      System.arraycopy(p, 0, src, (int) at, p.length);
      fs.fsync(hs, false);
      byte[] q = random(512);
      fs.write(hd, at + 7, q, 0, q.length);
      System.arraycopy(q, 0, dst, (int) at + 7, q.length);
      fs.fsync(hd, false);
    }
    assertEquals(4L * BS, fs.copyFileRange(ME, hs, 0, hd, 0, 4L * BS, 0));
    System.arraycopy(src, 0, dst, 0, 4 * BS);
    assertArrayEquals(dst, read(hd, 0, dst.length));
    long dstIno = fs.inodeOf(hd);
    fs.release(hs);
    fs.release(hd);
    fs = engine.reopen();
    long h = fs.open(ME, dstIno, 0);
    assertArrayEquals(dst, read(h, 0, dst.length));
    fs.release(h);
  }

  @Test
  void copyFileRange_sameFileOverlapping_failsEinval_badFlags_failEinval() throws IOException {
    long h = create("f");
    fs.write(h, 0, random(4 * BS), 0, 4 * BS);
    assertEquals(Errno.EINVAL,
        assertThrows(FsException.class, () -> fs.copyFileRange(ME, h, 0, h, BS, 2L * BS, 0)).errno());
    assertEquals(Errno.EINVAL,
        assertThrows(FsException.class, () -> fs.copyFileRange(ME, h, 0, h, 8L * BS, BS, 1)).errno());
    assertEquals(2L * BS, fs.copyFileRange(ME, h, 0, h, 2L * BS, 2L * BS, 0));
    assertArrayEquals(read(h, 0, 2 * BS), read(h, 2L * BS, 2 * BS));
    fs.release(h);
  }

  @Test
  void seekData_holesAreMissingBlocks_endOfFileIsAHole_pastItEnxio() throws IOException {
    long h = create("sparse");
    byte[] b = random(100);
    fs.write(h, 3L * BS + 5, b, 0, b.length); // blocks 0-2 holes, block 3 data
    fs.write(h, 6L * BS, b, 0, b.length); // 4-5 holes, 6 data
    long size = 6L * BS + 100;
    assertEquals(3L * BS, fs.seekData(h, 0, FileSystem.SEEK_DATA));
    assertEquals(0, fs.seekData(h, 0, FileSystem.SEEK_HOLE));
    assertEquals(3L * BS + 7, fs.seekData(h, 3L * BS + 7, FileSystem.SEEK_DATA));
    assertEquals(4L * BS, fs.seekData(h, 3L * BS + 7, FileSystem.SEEK_HOLE));
    assertEquals(6L * BS, fs.seekData(h, 4L * BS, FileSystem.SEEK_DATA));
    assertEquals(size, fs.seekData(h, 6L * BS, FileSystem.SEEK_HOLE), "the end of file is a hole");
    for (int whence : new int[] {FileSystem.SEEK_DATA, FileSystem.SEEK_HOLE}) {
      assertEquals(Errno.ENXIO, assertThrows(FsException.class, () -> fs.seekData(h, size, whence)).errno());
    }
    fs.setattr(ME, fs.inodeOf(h), new io.dynamicfs.core.api.SetAttr(null, null, null, 9L * BS, null, null), h);
    assertEquals(Errno.ENXIO,
        assertThrows(FsException.class, () -> fs.seekData(h, 7L * BS, FileSystem.SEEK_DATA)).errno(),
        "only holes follow");
    assertEquals(7L * BS, fs.seekData(h, 7L * BS, FileSystem.SEEK_HOLE));
    fs.release(h);
  }
}
