package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dynamicfs.core.api.Attr;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.TimeSpec;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The engine without FUSE: a real DATA directory (RocksDB and segment files) in a temp dir. Every test
 * ends with a clean close and an fsck of what is on disk (metadata against itself and against the block
 * store, with data verification): no errors and no leftovers.
 */
class DynamicFileSystemTest {
  static final int O_RDONLY = 0;
  static final int O_WRONLY = 1;
  static final int O_RDWR = 2;
  static final int O_TRUNC = 01000;
  static final int O_APPEND = 02000;
  private static final long ROOT = FileSystem.ROOT_INO;
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final FormatOptions SMALL_BLOCKS = new FormatOptions(64 << 10, Codec.LZ4, 4096);

  @TempDir Path data;
  private Engine engine;
  private DynamicFileSystem fs;
  private final Random random = new Random(3);
  private boolean fsckAtEnd = true;

  /** DATA directory and engine, opened together and closed in reverse order. */
  static final class Engine implements AutoCloseable {
    final Path dataPath;
    final FormatOptions format;
    EngineOptions options = EngineOptions.defaults();
    DataDirectory dir;
    DynamicFileSystem fs;

    Engine(Path dataPath, FormatOptions format) throws IOException {
      this.dataPath = dataPath;
      this.format = format;
      open();
    }

    void open() throws IOException {
      dir = DataDirectory.open(dataPath, format);
      try {
        fs = DynamicFileSystem.open(dir, options);
      } catch (IOException | RuntimeException e) {
        dir.close();
        dir = null;
        throw e;
      }
    }

    /** Closes the engine but keeps DATA locked, for direct access to its stores. */
    void closeEngine() throws IOException {
      if (fs != null) {
        DynamicFileSystem f = fs;
        fs = null;
        f.close();
      }
    }

    DynamicFileSystem reopen() throws IOException {
      close();
      open();
      return fs;
    }

    /** Fsck of what is on disk, engine closed, stores opened read-only for the check. */
    Fsck.Report fsckOnDisk() throws IOException {
      closeEngine();
      try (MetadataStore meta = MetadataStore.open(dir.metaDir(), dir.format().blockSize());
          SegmentStore store = SegmentStore.openForCheck(dir.blocksDir(), dir.format().codec())) {
        assertEquals(List.of(), store.damage());
        return Fsck.check(meta, store, true, s -> {});
      }
    }

    /** Fails unless fsck of what is on disk finds nothing; closes everything either way. */
    void assertFsckCleanAndClose() throws IOException {
      try {
        assertEquals(List.of(), fsckOnDisk().problems(), "fsck after the test");
      } finally {
        close();
      }
    }

    @Override
    public void close() throws IOException {
      try {
        closeEngine();
      } finally {
        if (dir != null) {
          dir.close();
          dir = null;
        }
      }
    }
  }

  @BeforeEach
  void start() throws IOException {
    engine = new Engine(data, FormatOptions.DEFAULT);
    fs = engine.fs;
  }

  @AfterEach
  void fsckAndClose() throws IOException {
    try {
      if (fsckAtEnd) {
        Fsck.Report r = engine.fsckOnDisk();
        assertEquals(List.of(), r.problems(), "fsck after the test");
      }
    } finally {
      engine.close();
    }
  }

  private void useFormat(FormatOptions f) throws IOException {
    engine.close();
    for (Path p : list(data)) {
      deleteTree(p);
    }
    engine = new Engine(data, f);
    fs = engine.fs;
  }

  private DynamicFileSystem reopen() throws IOException {
    fs = engine.reopen();
    return fs;
  }

  // ---- helpers ----------------------------------------------------------------------------------

  private byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    random.nextBytes(b);
    return b;
  }

  private OpenResult create(long parent, String name) throws IOException {
    return fs.create(ME, parent, name, 0644, O_RDWR);
  }

  private void writeFully(long h, long off, byte[] b) throws IOException {
    writeChunked(h, off, b, b.length);
  }

  /** Writes in pieces of {@code piece} bytes, as the kernel would. */
  private void writeChunked(long h, long off, byte[] b, int piece) throws IOException {
    for (int done = 0; done < b.length; ) {
      int n = Math.min(piece, b.length - done);
      assertEquals(n, fs.write(h, off + done, b, done, n));
      done += n;
    }
  }

  private byte[] read(long h, long off, int len) throws IOException {
    byte[] out = new byte[len];
    int done = 0;
    while (done < len) {
      int n = fs.read(h, off + done, out, done, Math.min(len - done, 128 << 10));
      if (n == 0) {
        break;
      }
      done += n;
    }
    return Arrays.copyOf(out, done);
  }

  private byte[] readFile(long ino) throws IOException {
    long h = fs.open(ME, ino, O_RDONLY);
    try {
      long size = fs.getattr(ino).size();
      byte[] b = read(h, 0, (int) size);
      assertEquals(size, b.length, "short read of inode " + ino);
      return b;
    } finally {
      fs.release(h);
    }
  }

  private long writeFile(long parent, String name, byte[] content) throws IOException {
    OpenResult r = create(parent, name);
    writeFully(r.handle(), 0, content);
    fs.release(r.handle());
    return r.attr().ino();
  }

  /** The segment files of a device directory (not its identity file). */
  private static List<Path> segments(Path p) throws IOException {
    return list(p).stream().filter(f -> f.getFileName().toString().startsWith("seg-")).sorted().toList();
  }

  private static List<Path> list(Path p) throws IOException {
    try (Stream<Path> s = Files.list(p)) {
      return s.toList();
    }
  }

  private static void deleteTree(Path p) throws IOException {
    if (Files.isDirectory(p)) {
      for (Path c : list(p)) {
        deleteTree(c);
      }
    }
    Files.delete(p);
  }

  /**
   * Blocks in the store once the reclaimer has run: blocks that lost their last reference wait in pending
   * deletion until it does (every second in the background), so the tests run it first.
   */
  private long storedBlocks() throws IOException {
    fs.reclaimNow();
    return fs.blockStore().stats().blocks();
  }

  private static byte[] concat(byte[]... parts) {
    int n = 0;
    for (byte[] p : parts) {
      n += p.length;
    }
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }

  // ---- reading and writing ------------------------------------------------------------------------

  @ParameterizedTest
  @ValueSource(ints = {1 << 20, 64 << 10})
  void writeRead_acrossBlockBoundaries_roundTripsBeforeAndAfterCommitAndReopen(int blockSize) throws IOException {
    if (blockSize != FormatOptions.DEFAULT.blockSize()) {
      useFormat(new FormatOptions(blockSize, Codec.LZ4, 4096));
    }
    byte[] content = randomBytes(blockSize * 5 / 2 + 333);
    long start = blockSize - 1000;
    OpenResult r = create(ROOT, "f");
    writeChunked(r.handle(), start, content, 7777);
    long size = start + content.length;
    assertEquals(size, fs.getattr(r.attr().ino()).size());
    assertArrayEquals(content, read(r.handle(), start, content.length), "before commit");
    assertArrayEquals(new byte[(int) start], read(r.handle(), 0, (int) start), "the unwritten start is zeros");
    // reads that straddle each boundary
    for (long b = blockSize; b < size; b += blockSize) {
      assertArrayEquals(Arrays.copyOfRange(content, (int) (b - 10 - start), (int) (b + 10 - start)),
          read(r.handle(), b - 10, 20), "around " + b);
    }
    assertEquals(0, read(r.handle(), size, 100).length, "at EOF");
    assertEquals(17, read(r.handle(), size - 17, 100).length, "up to EOF");
    fs.flush(r.handle());
    assertArrayEquals(content, read(r.handle(), start, content.length), "after commit");
    fs.release(r.handle());
    long ino = r.attr().ino();
    reopen();
    byte[] all = readFile(ino);
    assertEquals(size, all.length);
    assertArrayEquals(content, Arrays.copyOfRange(all, (int) start, all.length), "after reopen");
  }

  @Test
  void write_scatteredInOneBlock_gapsReadAsZeros_whileTheBufferGrows() throws IOException {
    // The block buffer starts small and grows in 64 KiB steps: every write below lands past its end.
    byte[] expect = new byte[1 << 20];
    OpenResult r = create(ROOT, "scattered");
    long h = r.handle();
    int[] offsets = {10, 70_000, 69_990, 300_000, 1_048_000, 5};
    for (int at : offsets) {
      byte[] b = randomBytes(Math.min(500, expect.length - at));
      writeFully(h, at, b);
      System.arraycopy(b, 0, expect, at, b.length);
      int size = (int) fs.getattr(r.attr().ino()).size();
      assertArrayEquals(Arrays.copyOf(expect, size), read(h, 0, size), "after the write at " + at);
    }
    fs.setattr(ME, r.attr().ino(), SetAttr.truncate(200_000), h);
    Arrays.fill(expect, 200_000, expect.length, (byte) 0);
    writeFully(h, 900_000, new byte[] {7});
    expect[900_000] = 7;
    assertArrayEquals(Arrays.copyOf(expect, 900_001), read(h, 0, 900_001), "truncated, then extended");
    fs.release(h);
    reopen();
    assertArrayEquals(Arrays.copyOf(expect, 900_001), readFile(r.attr().ino()), "after reopen");
  }

  @Test
  void write_partialOverwriteOfStoredBlocks_keepsSurroundingBytes() throws IOException {
    byte[] content = randomBytes(3 << 20);
    long ino = writeFile(ROOT, "f", content);
    long h = fs.open(ME, ino, O_RDWR);
    byte[] patch = randomBytes(5000);
    long at = (1 << 20) - 2000; // straddles the first boundary
    writeFully(h, at, patch);
    byte[] small = {1, 2, 3};
    writeFully(h, (2 << 20) + 12345, small);
    System.arraycopy(patch, 0, content, (int) at, patch.length);
    System.arraycopy(small, 0, content, (2 << 20) + 12345, small.length);
    assertArrayEquals(content, read(h, 0, content.length), "before commit");
    fs.release(h);
    assertArrayEquals(content, readFile(ino), "after commit");
    assertEquals(3, storedBlocks(), "the replaced blocks are gone from the store");
    reopen();
    assertArrayEquals(content, readFile(ino), "after reopen");
    assertEquals(3L << 20, fs.getattr(ino).size());
  }

  @Test
  void sparseFile_holeReadsZeros_andHasFewerBlocks() throws IOException {
    byte[] head = randomBytes(100_000);
    byte[] tail = randomBytes(100_000);
    long tailAt = 10L << 20;
    OpenResult r = create(ROOT, "sparse");
    writeFully(r.handle(), 0, head);
    writeFully(r.handle(), tailAt, tail);
    fs.release(r.handle());
    OpenResult d = create(ROOT, "dense");
    writeFully(d.handle(), 0, randomBytes((int) tailAt + tail.length));
    fs.release(d.handle());

    Attr sparse = fs.getattr(r.attr().ino());
    Attr dense = fs.getattr(d.attr().ino());
    assertEquals(tailAt + tail.length, sparse.size());
    assertEquals(dense.size(), sparse.size());
    assertEquals((head.length + tail.length + 511) / 512, sparse.blocks());
    assertTrue(sparse.blocks() * 20 < dense.blocks(), () -> sparse.blocks() + " vs " + dense.blocks());
    byte[] all = readFile(r.attr().ino());
    assertArrayEquals(head, Arrays.copyOf(all, head.length));
    assertArrayEquals(new byte[(int) tailAt - head.length], Arrays.copyOfRange(all, head.length, (int) tailAt));
    assertArrayEquals(tail, Arrays.copyOfRange(all, (int) tailAt, all.length));
    assertEquals(2, fs.metadata().chunks(r.attr().ino(), 0, Long.MAX_VALUE).size(), "holes are not stored");
  }

  @Test
  void write_zeroBlock_isStoredAsHole() throws IOException {
    long ino = writeFile(ROOT, "zeros", new byte[3 << 20]);
    assertEquals(3L << 20, fs.getattr(ino).size());
    assertEquals(0, fs.getattr(ino).blocks());
    assertEquals(0, storedBlocks());
    assertArrayEquals(new byte[3 << 20], readFile(ino));
  }

  // ---- truncate -----------------------------------------------------------------------------------

  private static final long[][] SHRINK_THEN_GROW = {
      // {original size, shrink to, grow to}
      {3L << 20, 1L << 20, 3L << 20}, // block aligned
      {3L << 20, (1L << 20) + 100, 3L << 20}, // mid-block
      {3L << 20, 100, (2L << 20) + 5}, // into the first block
      {3L << 20, 0, 3L << 20}, // to nothing
      {50_000, 1000, 60_000}, // inline file
      {50_000, 1000, 5L << 20}, // inline file grown past the inline limit
      {(1L << 20) + 50_000, 30_000, (1L << 20) + 50_000}, // stored tail block, then small
  };

  private byte[] expectedAfterShrinkGrow(byte[] content, long shrink, long grow) {
    byte[] out = new byte[(int) grow];
    System.arraycopy(content, 0, out, 0, (int) Math.min(shrink, grow));
    return out;
  }

  @Test
  void truncate_shrinkThenExtendInOneOpenFile_readsZerosNotOldData() throws IOException {
    for (long[] c : SHRINK_THEN_GROW) {
      String name = "f" + c[0] + "-" + c[1] + "-" + c[2];
      byte[] content = randomBytes((int) c[0]);
      long ino = writeFile(ROOT, name, content);
      long h = fs.open(ME, ino, O_RDWR);
      // setattr commits each size change, while a handle keeps the file open throughout.
      fs.setattr(ME, ino, SetAttr.truncate(c[1]), h);
      assertEquals(c[1], fs.getattr(ino).size());
      fs.setattr(ME, ino, SetAttr.truncate(c[2]), h);
      byte[] expect = expectedAfterShrinkGrow(content, c[1], c[2]);
      assertArrayEquals(expect, read(h, 0, (int) c[2]), name + " before release");
      fs.release(h);
      assertArrayEquals(expect, readFile(ino), name + " after release");
    }
    Map<String, byte[]> expected = new HashMap<>();
    for (long[] c : SHRINK_THEN_GROW) {
      String name = "f" + c[0] + "-" + c[1] + "-" + c[2];
      expected.put(name, readFile(fs.lookup(ROOT, name)));
    }
    reopen();
    for (var e : expected.entrySet()) {
      assertArrayEquals(e.getValue(), readFile(fs.lookup(ROOT, e.getKey())), e.getKey() + " after reopen");
    }
  }

  @Test
  void truncate_shrinkThenExtendWithoutCommitInBetween_readsZerosNotOldData() throws IOException {
    // Write, shrink and grow in the open file's memory with no commit in between, then commit once.
    for (long[] c : SHRINK_THEN_GROW) {
      String name = "g" + c[0] + "-" + c[1] + "-" + c[2];
      byte[] content = randomBytes((int) c[0]);
      OpenResult r = create(ROOT, name);
      long ino = r.attr().ino();
      writeFully(r.handle(), 0, content);
      OpenFile of = openFileOf(ino);
      of.truncate(c[1]);
      of.truncate(c[2]);
      byte[] expect = expectedAfterShrinkGrow(content, c[1], c[2]);
      assertArrayEquals(expect, read(r.handle(), 0, (int) c[2]), name + " before commit");
      fs.flush(r.handle());
      assertArrayEquals(expect, read(r.handle(), 0, (int) c[2]), name + " after commit");
      fs.release(r.handle());
      assertArrayEquals(expect, readFile(ino), name + " after release");
    }
  }

  @Test
  void truncate_shrinkCommittedThenExtendCommitted_readsZerosAfterReopen() throws IOException {
    for (long[] c : SHRINK_THEN_GROW) {
      String name = "h" + c[0] + "-" + c[1] + "-" + c[2];
      byte[] content = randomBytes((int) c[0]);
      long ino = writeFile(ROOT, name, content);
      fs.setattr(ME, ino, SetAttr.truncate(c[1]), 0);
      reopen();
      fs.setattr(ME, ino, SetAttr.truncate(c[2]), 0);
      reopen();
      assertArrayEquals(expectedAfterShrinkGrow(content, c[1], c[2]), readFile(ino), name);
    }
  }

  @Test
  void openWithOTrunc_thenGrowByWrite_readsZerosInTheGap() throws IOException {
    byte[] content = randomBytes(3 << 20);
    long ino = writeFile(ROOT, "f", content);
    long h = fs.open(ME, ino, O_RDWR | O_TRUNC);
    assertEquals(0, fs.getattr(ino).size());
    byte[] tail = randomBytes(10);
    writeFully(h, (2L << 20) + 7, tail);
    byte[] expect = new byte[(2 << 20) + 17];
    System.arraycopy(tail, 0, expect, (2 << 20) + 7, 10);
    assertArrayEquals(expect, read(h, 0, expect.length));
    fs.release(h);
    assertArrayEquals(expect, readFile(ino));
    reopen();
    assertArrayEquals(expect, readFile(ino));
  }

  @Test
  void truncate_directory_failsEisdir() throws IOException {
    Attr d = fs.mkdir(ME, ROOT, "d", 0755);
    assertEquals(Errno.EISDIR,
        assertThrows(FsException.class, () -> fs.setattr(ME, d.ino(), SetAttr.truncate(0), 0)).errno());
  }

  private OpenFile openFileOf(long ino) throws IOException {
    // The API has no uncommitted truncate: reach the engine's OpenFile of the inode.
    OpenFile of = fs.openFileForTest(ino);
    assertNotNull(of, "inode " + ino + " is not open");
    return of;
  }


  // ---- handles ----------------------------------------------------------------------------------

  @Test
  void appendHandle_writesAtEndWhateverTheOffset() throws IOException {
    long ino = writeFile(ROOT, "log", "first\n".getBytes());
    long a = fs.open(ME, ino, O_WRONLY | O_APPEND);
    long b = fs.open(ME, ino, O_RDWR);
    fs.write(a, 0, "second\n".getBytes(), 0, 7);
    fs.write(b, 0, "F".getBytes(), 0, 1); // a plain handle writes where it is told
    fs.write(a, 2, "third\n".getBytes(), 0, 6);
    assertArrayEquals("First\nsecond\nthird\n".getBytes(), read(b, 0, 100));
    assertEquals(Errno.EBADF, assertThrows(FsException.class, () -> fs.read(a, 0, new byte[1], 0, 1)).errno());
    fs.release(a);
    fs.release(b);
    assertArrayEquals("First\nsecond\nthird\n".getBytes(), readFile(ino));
  }

  @Test
  void readOnlyHandle_write_failsEbadf_andReleasedHandleIsGone() throws IOException {
    long ino = writeFile(ROOT, "f", new byte[] {1});
    long h = fs.open(ME, ino, O_RDONLY);
    assertEquals(Errno.EBADF, assertThrows(FsException.class, () -> fs.write(h, 0, new byte[1], 0, 1)).errno());
    fs.release(h);
    assertEquals(Errno.EBADF, assertThrows(FsException.class, () -> fs.read(h, 0, new byte[1], 0, 1)).errno());
    assertEquals(Errno.EBADF, assertThrows(FsException.class, () -> fs.release(h)).errno());
  }

  @Test
  void unlinkWhileOpen_dataStaysReadable_andInodeIsReclaimedAtRelease() throws IOException {
    byte[] content = randomBytes(3 << 20);
    OpenResult r = create(ROOT, "f");
    long ino = r.attr().ino();
    writeFully(r.handle(), 0, content);
    fs.flush(r.handle());
    fs.unlink(ROOT, "f");
    assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> fs.lookup(ROOT, "f")).errno());
    assertEquals(0, fs.getattr(ino).nlink());
    assertEquals(ino, fs.inodeOf(r.handle()));
    assertArrayEquals(content, read(r.handle(), 0, content.length));
    byte[] more = randomBytes(1000);
    writeFully(r.handle(), 100, more); // still writable
    System.arraycopy(more, 0, content, 100, more.length);
    fs.flush(r.handle());
    assertArrayEquals(content, read(r.handle(), 0, content.length));
    assertEquals(List.of(ino), fs.metadata().orphans());
    assertTrue(storedBlocks() >= 3);

    fs.release(r.handle());
    assertNull(fs.metadata().inode(ino));
    assertEquals(List.of(), fs.metadata().orphans());
    assertEquals(0, storedBlocks(), "the reclaimed file's blocks leave the store");
    assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> fs.getattr(ino)).errno());
  }

  @Test
  void unlinkWhileOpen_neverReleased_isReclaimedWhenItsSessionCloses() throws IOException {
    byte[] content = randomBytes(2 << 20);
    OpenResult r = create(ROOT, "f");
    long ino = r.attr().ino();
    writeFully(r.handle(), 0, content);
    fs.flush(r.handle());
    fs.unlink(ROOT, "f");
    assertEquals(List.of(ino), fs.metadata().orphans(), "the orphan belongs to this mount's session");
    // Close without release: the unmount closes the session, and its orphans go with it.
    engine.closeEngine();
    try (MetadataStore meta = MetadataStore.open(engine.dir.metaDir(), engine.format.blockSize())) {
      assertEquals(List.of(), meta.orphans());
      assertNull(meta.inode(ino));
      assertEquals(List.of(), meta.sessions());
    }
    engine.close();
    engine.open();
    fs = engine.fs;
    assertEquals(0, storedBlocks());
  }

  @Test
  void open_afterACrashedSessionKeptFilesOpen_reclaimsThemAndEndsIt() throws IOException {
    OpenResult r = create(ROOT, "f");
    long ino = r.attr().ino();
    writeFully(r.handle(), 0, randomBytes(300_000));
    fs.release(r.handle());
    engine.closeEngine();
    // What a daemon killed with the file open leaves: its session, and the file as that session's orphan.
    long crashed = 0xdead;
    try (MetadataStore meta = MetadataStore.open(engine.dir.metaDir(), engine.format.blockSize())) {
      OpApplier ap = new OpApplier(meta);
      ap.apply(ap.appliedIndex() + 1, new MetaOp.OpenSession(crashed, "killed", Long.MAX_VALUE)).orThrow();
      ap.apply(ap.appliedIndex() + 1, new MetaOp.Remove(ROOT, "f", false, crashed, 1)).orThrow();
      assertEquals(java.util.Map.of(ino, crashed), meta.orphanSessions());
    }
    engine.close();
    engine.open();
    fs = engine.fs;
    assertNull(fs.metadata().inode(ino));
    assertEquals(List.of(), fs.metadata().orphans());
    assertNull(fs.metadata().session(crashed));
    assertEquals(1, fs.metadata().sessions().size(), "only the new mount's own session");
    assertEquals(0, storedBlocks());
  }

  /**
   * A real store that can hold the next put or the next sync at a gate: lets a test stop the engine at a
   * chosen point of the pipeline or of a commit (between snapshot and metadata update).
   */
  static final class GatedStore implements BlockStore {
    final BlockStore inner;
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch gate = new CountDownLatch(1);
    final AtomicBoolean gatePut = new AtomicBoolean();
    final AtomicBoolean gateSync = new AtomicBoolean();

    GatedStore(BlockStore inner) {
      this.inner = inner;
    }

    private void pass(AtomicBoolean armed) throws IOException {
      if (armed.getAndSet(false)) {
        entered.countDown();
        try {
          if (!gate.await(60, TimeUnit.SECONDS)) {
            throw new IOException("test gate never opened");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted at the test gate", e);
        }
      }
    }

    @Override
    public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
      pass(gatePut);
      return inner.put(id, data, length);
    }

    @Override
    public byte[] get(BlockId id, boolean sequential) throws IOException {
      return inner.get(id, sequential);
    }

    @Override
    public StoredBlock stat(BlockId id) {
      return inner.stat(id);
    }

    @Override
    public void delete(BlockId id) throws IOException {
      inner.delete(id);
    }

    @Override
    public void forEach(Consumer<StoredBlock> action) {
      inner.forEach(action);
    }

    @Override
    public void sync() throws IOException {
      pass(gateSync);
      inner.sync();
    }

    @Override
    public StoreStats stats() {
      return inner.stats();
    }

    @Override
    public void close() throws IOException {
      inner.close();
    }
  }

  /** Reopens the engine over a {@link GatedStore} with the given number of pipeline workers. */
  private GatedStore reopenGated(int workers) throws IOException {
    AtomicReference<GatedStore> gated = new AtomicReference<>();
    engine.close();
    engine.options = new EngineOptions(s -> {
      GatedStore g = new GatedStore(s);
      gated.set(g);
      return g;
    }, TimeSource.SYSTEM, workers, Duration.ofSeconds(5), 64L << 20);
    engine.open();
    fs = engine.fs;
    return gated.get();
  }

  @Test
  void setattr_truncateWithChmodAndTimes_isOneMetadataOperation() throws Exception {
    useFormat(SMALL_BLOCKS);
    List<MetaOp> applied = new java.util.concurrent.CopyOnWriteArrayList<>();
    engine.close();
    engine.options = EngineOptions.defaults().withApplyListener((op, r) -> applied.add(op));
    engine.open();
    fs = engine.fs;
    OpenResult r = fs.create(ME, ROOT, "f", 0644, O_RDWR);
    byte[] content = randomBytes(200_000);
    fs.write(r.handle(), 0, content, 0, content.length);
    fs.release(r.handle());
    long ino = r.attr().ino();
    applied.clear();

    Attr a = fs.setattr(ME, ino, new SetAttr(0600, null, null, 70_000L, null, TimeSpec.of(5_000_000_000L)), 0);

    assertEquals(1, applied.size(), () -> "ops: " + applied);
    MetaOp.CommitBlocks c = assertInstanceOf(MetaOp.CommitBlocks.class, applied.get(0));
    assertNotNull(c.attrs());
    assertEquals(70_000, a.size());
    assertEquals(FileType.REGULAR.bits() | 0600, a.mode());
    assertEquals(5_000_000_000L, a.mtimeNs());
    assertArrayEquals(Arrays.copyOf(content, 70_000), readFile(ino));
    reopen();
    assertEquals(FileType.REGULAR.bits() | 0600, fs.getattr(ino).mode());
    assertEquals(70_000, fs.getattr(ino).size());
  }

  @Test
  void getattr_whileBackgroundCommitIsPublishing_reportsTheLiveSize() throws Exception {
    // Past 64 pending blocks a write starts a background commit; hold it between its snapshot and the
    // metadata update (at the block-store sync) and look at the file meanwhile.
    useFormat(SMALL_BLOCKS);
    int bs = SMALL_BLOCKS.blockSize();
    GatedStore gated = reopenGated(2);
    OpenResult r = create(ROOT, "f");
    writeFully(r.handle(), 0, randomBytes(1000));
    fs.flush(r.handle());
    gated.gateSync.set(true);
    byte[] big = randomBytes(70 * bs);
    assertEquals(big.length, fs.write(r.handle(), 0, big, 0, big.length)); // one call: 70 blocks
    try {
      assertTrue(gated.entered.await(30, TimeUnit.SECONDS), "a background commit started");
      assertEquals(big.length, fs.getattr(r.attr().ino()).size(), "size while the commit is in flight");
    } finally {
      gated.gate.countDown();
    }
    fs.flush(r.handle());
    assertEquals(big.length, fs.getattr(r.attr().ino()).size());
    assertArrayEquals(big, read(r.handle(), 0, big.length + 1));
    fs.release(r.handle());
  }

  @Test
  void read_whileBackgroundCommitOfTruncationIsPublishing_readsZerosNotOldData() throws Exception {
    useFormat(SMALL_BLOCKS);
    int bs = SMALL_BLOCKS.blockSize();
    GatedStore gated = reopenGated(2);
    byte[] old = randomBytes(100 * bs);
    long ino = writeFile(ROOT, "f", old);
    long h = fs.open(ME, ino, O_RDWR | O_TRUNC); // shrink to 0, not yet committed
    gated.gateSync.set(true);
    byte[] fresh = randomBytes(70 * bs);
    assertEquals(fresh.length, fs.write(h, 0, fresh, 0, fresh.length)); // starts a background commit
    byte[] expect = new byte[99 * bs + 1];
    System.arraycopy(fresh, 0, expect, 0, fresh.length);
    expect[99 * bs] = 7;
    try {
      assertTrue(gated.entered.await(30, TimeUnit.SECONDS), "a background commit started");
      assertEquals(1, fs.write(h, 99L * bs, new byte[] {7}, 0, 1)); // grow past the truncated region
      assertArrayEquals(new byte[1000], read(h, 80L * bs, 1000),
          "block 80 was truncated away: zeros, not the old bytes still in metadata");
    } finally {
      gated.gate.countDown();
    }
    assertArrayEquals(expect, read(h, 0, expect.length + 1), "after the background commit");
    fs.release(h);
    assertArrayEquals(expect, readFile(ino), "after release");
  }

  @Test
  void releaseOfUnlinkedFile_withBlocksStillInThePipeline_returnsPromptlyAndReclaims() throws Exception {
    // One pipeline worker, held at a gate inside the first block's put; the other blocks wait in its
    // queue, not yet pinned. release() of the unlinked file must not wait for them while holding the
    // lock that pinning needs.
    GatedStore gated = reopenGated(1);
    gated.gatePut.set(true);

    OpenResult r = create(ROOT, "tmp");
    long ino = r.attr().ino();
    writeChunked(r.handle(), 0, randomBytes(3 << 20), 128 << 10); // three full blocks go to the pipeline
    assertTrue(gated.entered.await(30, TimeUnit.SECONDS), "the first block reached the store");
    fs.unlink(ROOT, "tmp");
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread release = new Thread(() -> {
      try {
        fs.release(r.handle()); // no flush first: the blocks are still in the pipeline
      } catch (Throwable t) {
        failure.set(t);
      }
    }, "test-release");
    release.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (release.isAlive() && release.getState() != Thread.State.TIMED_WAITING
        && release.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
      Thread.sleep(5); // until release is parked waiting for the gated block
    }
    gated.gate.countDown();
    release.join(15_000);
    if (release.isAlive()) {
      release.interrupt(); // its waits for pipeline futures are interruptible: lets the test finish
      release.join(30_000);
      fail("release of an unlinked file with blocks in the pipeline deadlocked: DynamicFileSystem.releaseFile"
          + " calls OpenFile.discard (which awaits the pipeline) while holding the MetaLog monitor, and each"
          + " pipeline task needs that monitor in MetaLog.pin");
    }
    assertNull(failure.get());
    assertNull(fs.metadata().inode(ino));
    assertEquals(List.of(), fs.metadata().orphans());
    assertEquals(0, storedBlocks(), "the discarded blocks leave the store once their pins are dropped");
  }

  @Test
  void renameOverOpenFile_keepsReplacedDataReadable_untilRelease() throws IOException {
    byte[] old = randomBytes(2 << 20);
    long oldIno = writeFile(ROOT, "target", old);
    long newIno = writeFile(ROOT, "incoming", randomBytes(100));
    long h = fs.open(ME, oldIno, O_RDONLY);
    fs.rename(ROOT, "incoming", ROOT, "target", 0);
    assertEquals(newIno, fs.lookup(ROOT, "target"));
    assertArrayEquals(old, read(h, 0, old.length));
    fs.release(h);
    assertNull(fs.metadata().inode(oldIno));
    assertEquals(0, storedBlocks(), "only the inline 100-byte file is left");
  }

  // ---- storage ----------------------------------------------------------------------------------

  @Test
  void smallFile_isInline_largeFileIsStored() throws IOException {
    long small = writeFile(ROOT, "small", randomBytes(1000));
    long edge = writeFile(ROOT, "edge", randomBytes(FormatOptions.DEFAULT.inlineMax()));
    assertEquals(0, storedBlocks(), "files up to the inline limit need no block store");
    Chunk c = fs.metadata().chunk(small, 0);
    assertTrue(c.isInline());
    assertEquals(1000, c.length());
    assertTrue(fs.metadata().chunk(edge, 0).isInline());
    assertEquals(List.of(), segments(engine.dir.blocksDir()).stream()
        .filter(p -> p.toFile().length() > 0).toList(), "nothing was appended to any segment");

    long big = writeFile(ROOT, "big", randomBytes(FormatOptions.DEFAULT.inlineMax() + 1));
    assertFalse(fs.metadata().chunk(big, 0).isInline());
    assertEquals(1, storedBlocks());
    assertEquals(2, (fs.getattr(small).blocks()));
  }

  @Test
  void sameContentInTwoFiles_isStoredOnce() throws IOException {
    byte[] content = randomBytes((2 << 20) + 5000);
    long a = writeFile(ROOT, "a", content);
    Attr d = fs.mkdir(ME, ROOT, "d", 0755);
    long b = writeFile(d.ino(), "b", content);
    assertEquals(3, storedBlocks(), "three distinct blocks, each stored once");
    long raw = fs.blockStore().stats().rawBytes();
    assertEquals(content.length, raw);
    BlockId first = fs.metadata().chunk(a, 0).id();
    assertEquals(first, fs.metadata().chunk(b, 0).id());
    assertEquals(2, fs.metadata().block(first).refs());
    assertArrayEquals(content, readFile(b));

    fs.unlink(ROOT, "a");
    assertEquals(3, storedBlocks());
    assertEquals(1, fs.metadata().block(first).refs());
    assertArrayEquals(content, readFile(b));
    fs.unlink(d.ino(), "b");
    assertEquals(0, storedBlocks());
  }

  @Test
  void repeatedBlockWithinOneFile_isStoredOnce() throws IOException {
    byte[] block = randomBytes(1 << 20);
    long ino = writeFile(ROOT, "f", concat(block, block, block, block));
    assertEquals(1, storedBlocks());
    assertEquals(4, fs.metadata().block(fs.metadata().chunk(ino, 0).id()).refs());
  }

  @Test
  void data_survivesCloseAndReopen() throws IOException {
    Map<String, byte[]> files = new HashMap<>();
    Attr d = fs.mkdir(ME, ROOT, "dir", 0750);
    Attr sub = fs.mkdir(ME, d.ino(), "sub", 0700);
    for (int i = 0; i < 6; i++) {
      byte[] b = randomBytes(i * 400_000 + 17);
      files.put("f" + i, b);
      writeFile(i % 2 == 0 ? d.ino() : sub.ino(), "f" + i, b);
    }
    fs.symlink(ME, ROOT, "link", "dir/f0");
    long f1 = fs.lookup(sub.ino(), "f1");
    fs.link(f1, ROOT, "hard");
    fs.setxattr(f1, "user.tag", new byte[] {1, 2}, 0);
    fs.syncMetadata();

    reopen();
    long dir = fs.lookup(ROOT, "dir");
    long s = fs.lookup(dir, "sub");
    for (int i = 0; i < 6; i++) {
      long ino = fs.lookup(i % 2 == 0 ? dir : s, "f" + i);
      assertArrayEquals(files.get("f" + i), readFile(ino), "f" + i);
      assertEquals(ME.uid(), fs.getattr(ino).uid());
    }
    assertEquals("dir/f0", fs.readlink(fs.lookup(ROOT, "link")));
    assertEquals(f1, fs.lookup(ROOT, "hard"));
    assertEquals(2, fs.getattr(f1).nlink());
    assertArrayEquals(new byte[] {1, 2}, fs.getxattr(f1, "user.tag"));
    assertEquals(3, fs.getattr(dir).nlink());
    assertEquals(0750, fs.getattr(dir).mode() & 07777);
    assertEquals(List.of("dir", "hard", "link"), fs.readdir(ROOT).stream().map(DirEntry::name).sorted().toList());
  }

  @Test
  void openHandlesAtClose_areCommittedByClose() throws IOException {
    byte[] content = randomBytes((1 << 20) + 100);
    OpenResult r = create(ROOT, "f");
    writeFully(r.handle(), 0, content);
    // neither flush nor release: close must commit what was written
    reopen();
    assertArrayEquals(content, readFile(r.attr().ino()));
  }

  // ---- fsck -------------------------------------------------------------------------------------

  @Test
  void randomMixOfOperations_fsckClean_andContentMatchesModel() throws IOException {
    useFormat(SMALL_BLOCKS);
    long seed = Long.getLong("dynamicfs.seed", System.nanoTime());
    try {
      randomMix(seed);
    } catch (AssertionError | IOException | RuntimeException e) {
      System.out.println("DynamicFileSystemTest.randomMix seed=" + seed);
      throw new AssertionError("random mix failed; rerun with -Ddynamicfs.seed=" + seed, e);
    }
  }

  private void randomMix(long seed) throws IOException {
    Random r = new Random(seed);
    int bs = SMALL_BLOCKS.blockSize();
    long[] dirs = {ROOT, fs.mkdir(ME, ROOT, "a", 0755).ino(), fs.mkdir(ME, ROOT, "b", 0755).ino()};
    Map<Long, byte[]> content = new HashMap<>(); // by inode
    Map<String, Long> names = new HashMap<>(); // "dirIndex/name" -> inode
    Map<Long, Long> open = new HashMap<>(); // handle -> inode
    byte[] pattern = randomBytes(bs);
    for (int step = 0; step < 400; step++) {
      int op = r.nextInt(100);
      List<String> existing = new ArrayList<>(names.keySet());
      existing.sort(null);
      String any = existing.isEmpty() ? null : existing.get(r.nextInt(existing.size()));
      if (op < 15 || any == null) {
        String key = r.nextInt(3) + "/n" + r.nextInt(12);
        if (names.containsKey(key)) {
          continue;
        }
        OpenResult o = fs.create(ME, dirs[key.charAt(0) - '0'], key.substring(2), 0644, O_RDWR);
        names.put(key, o.attr().ino());
        content.put(o.attr().ino(), new byte[0]);
        open.put(o.handle(), o.attr().ino());
      } else if (op < 45) {
        long ino = names.get(any);
        long h = handleFor(open, ino, r);
        int len = 1 + r.nextInt(r.nextBoolean() ? 3000 : 3 * bs);
        int off = r.nextInt(4 * bs);
        if (r.nextInt(4) == 0) {
          off = (off / bs) * bs;
        }
        byte[] data = new byte[len];
        switch (r.nextInt(3)) {
          case 0 -> r.nextBytes(data);
          case 1 -> {
            for (int i = 0; i < len; i++) {
              data[i] = pattern[(off + i) % bs]; // block-aligned runs of this dedup across files
            }
          }
          default -> { } // zeros
        }
        writeFully(h, off, data);
        byte[] c = content.get(ino);
        if (off + len > c.length) {
          c = Arrays.copyOf(c, off + len);
        }
        System.arraycopy(data, 0, c, off, len);
        content.put(ino, c);
      } else if (op < 55) {
        long ino = names.get(any);
        int size = r.nextInt(4 * bs + 100);
        fs.setattr(ME, ino, SetAttr.truncate(size), 0);
        content.put(ino, Arrays.copyOf(content.get(ino), size));
      } else if (op < 63) {
        String to = r.nextInt(3) + "/n" + r.nextInt(12);
        fs.rename(dirs[any.charAt(0) - '0'], any.substring(2), dirs[to.charAt(0) - '0'], to.substring(2), 0);
        long ino = names.get(any);
        if (!Long.valueOf(ino).equals(names.get(to))) { // two names of one inode: rename does nothing
          names.remove(any);
          names.put(to, ino);
        }
      } else if (op < 71) {
        fs.unlink(dirs[any.charAt(0) - '0'], any.substring(2));
        names.remove(any);
      } else if (op < 78) {
        String to = r.nextInt(3) + "/n" + r.nextInt(12);
        if (names.containsKey(to)) {
          continue;
        }
        long ino = names.get(any);
        fs.link(ino, dirs[to.charAt(0) - '0'], to.substring(2));
        names.put(to, ino);
      } else if (op < 85 && !open.isEmpty()) {
        List<Long> hs = new ArrayList<>(open.keySet());
        hs.sort(null);
        long h = hs.get(r.nextInt(hs.size()));
        if (r.nextBoolean()) {
          fs.flush(h);
        } else {
          closeHandle(h);
          open.remove(h);
        }
      } else if (op < 97) {
        long ino = names.get(any);
        long h = handleFor(open, ino, r);
        byte[] c = content.get(ino);
        int off = r.nextInt(c.length + 10);
        int len = r.nextInt(2 * bs);
        byte[] got = read(h, off, len);
        byte[] want = off >= c.length ? new byte[0] : Arrays.copyOfRange(c, off, Math.min(c.length, off + len));
        assertArrayEquals(want, got, "step " + step + ": read " + any + " @" + off + "+" + len);
      } else {
        for (long h : open.keySet()) {
          closeHandle(h);
        }
        open.clear();
        reopen();
      }
      // garbage: inodes with no name and no handle are gone
      content.keySet().removeIf(ino -> !names.containsValue(ino) && !open.containsValue(ino));
    }
    for (long h : open.keySet()) {
      closeHandle(h);
    }
    open.clear();
    content.keySet().removeIf(ino -> !names.containsValue(ino));
    reopen();
    for (var e : names.entrySet()) {
      long ino = fs.lookup(dirs[e.getKey().charAt(0) - '0'], e.getKey().substring(2));
      assertEquals(e.getValue(), ino);
      assertArrayEquals(content.get(ino), readFile(ino), e.getKey());
    }
    // after the last handle of every unlinked file is gone, nothing of it is left
    List<Long> inodes = new ArrayList<>();
    fs.metadata().forEachInode(i -> inodes.add(i.ino()));
    assertEquals(3 + content.size(), inodes.size(), "root, a, b and the named files");
  }

  /**
   * close(2) as the kernel does it: FLUSH, then RELEASE. (Releasing an unlinked file with blocks still in
   * the pipeline and no flush first hangs; see releaseOfUnlinkedFile_withBlocksStillInThePipeline_...)
   */
  private void closeHandle(long h) throws IOException {
    fs.flush(h);
    fs.release(h);
  }

  private long handleFor(Map<Long, Long> open, long ino, Random r) throws IOException {
    List<Long> hs = new ArrayList<>();
    for (var e : open.entrySet()) {
      if (e.getValue() == ino) {
        hs.add(e.getKey());
      }
    }
    hs.sort(null);
    if (!hs.isEmpty() && r.nextInt(4) != 0) {
      return hs.get(r.nextInt(hs.size()));
    }
    long h = fs.open(ME, ino, O_RDWR);
    open.put(h, ino);
    return h;
  }

  @Test
  void concurrentWritersSharingBlocks_eachFileIntact_andNoBlockLost() throws Exception {
    // Threads write the same few block contents into their own files while overwriting them, so one
    // thread frees a block's last reference while another dedups against it: the pin protocol must keep
    // every referenced block in the store.
    useFormat(SMALL_BLOCKS);
    int bs = SMALL_BLOCKS.blockSize();
    byte[][] shared = new byte[4][];
    for (int i = 0; i < shared.length; i++) {
      shared[i] = randomBytes(bs);
    }
    int threads = 4;
    long seed = Long.getLong("dynamicfs.seed", System.nanoTime());
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    List<Future<byte[]>> results = new ArrayList<>();
    long[] inos = new long[threads];
    try {
      for (int t = 0; t < threads; t++) {
        OpenResult o = create(ROOT, "w" + t);
        inos[t] = o.attr().ino();
        Random r = new Random(seed + t);
        results.add(pool.submit(() -> {
          byte[] model = new byte[0];
          for (int step = 0; step < 120; step++) {
            int idx = r.nextInt(8);
            byte[] b = shared[r.nextInt(shared.length)];
            int op = r.nextInt(10);
            if (op < 7) {
              assertEquals(bs, fs.write(o.handle(), (long) idx * bs, b, 0, bs));
              if ((idx + 1) * bs > model.length) {
                model = Arrays.copyOf(model, (idx + 1) * bs);
              }
              System.arraycopy(b, 0, model, idx * bs, bs);
            } else if (op < 8) {
              int size = r.nextInt(8) * bs;
              fs.setattr(ME, o.attr().ino(), SetAttr.truncate(size), o.handle());
              model = Arrays.copyOf(model, size);
            } else {
              fs.flush(o.handle());
            }
          }
          assertArrayEquals(model, read(o.handle(), 0, model.length + 1));
          fs.release(o.handle());
          return model;
        }));
      }
      List<byte[]> models = new ArrayList<>();
      for (var f : results) {
        models.add(f.get(60, TimeUnit.SECONDS));
      }
      reopen();
      for (int t = 0; t < threads; t++) {
        assertArrayEquals(models.get(t), readFile(inos[t]), "w" + t);
      }
      long stored = storedBlocks();
      assertTrue(stored <= shared.length, () -> "dedup: " + stored + " blocks stored");
    } catch (AssertionError | Exception e) {
      System.out.println("DynamicFileSystemTest.concurrentWriters seed=" + seed);
      throw e;
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void fsck_blockDeletedFromStore_reportsErrorNamingThePath() throws IOException {
    Attr d = fs.mkdir(ME, ROOT, "docs", 0755);
    long victim = writeFile(d.ino(), "report.bin", randomBytes((1 << 20) + 10));
    writeFile(ROOT, "fine.bin", randomBytes(1 << 20));
    BlockId second = fs.metadata().chunk(victim, 1).id();
    engine.closeEngine();
    try (MetadataStore meta = MetadataStore.open(engine.dir.metaDir(), engine.format.blockSize());
        SegmentStore store = SegmentStore.open(engine.dir.blocksDir(), engine.format.codec(), 64L << 20)) {
      assertTrue(Fsck.check(meta, store, true, s -> {}).clean(), "clean before the damage");
      store.delete(second);
      Fsck.Report r = Fsck.check(meta, store, false, s -> {});
      assertFalse(r.clean());
      assertEquals(1, r.errors(), () -> r.problems().toString());
      Fsck.Problem p = r.problems().get(0);
      assertEquals(Fsck.Severity.ERROR, p.severity());
      assertTrue(p.path().startsWith("/docs/report.bin"), p::toString);
      assertTrue(p.path().contains("@" + (1 << 20)), () -> "names the offset: " + p);
      assertTrue(p.message().contains("missing"), p::toString);
    }
    fsckAtEnd = false;
  }

  @Test
  void fsck_corruptPayload_reportsErrorNamingThePath_andReadFailsEio() throws IOException {
    Attr d = fs.mkdir(ME, ROOT, "docs", 0755);
    byte[] content = randomBytes(500_000); // one stored, incompressible block: the only record
    long ino = writeFile(d.ino(), "a.bin", content);
    engine.closeEngine();
    List<Path> segs = segments(engine.dir.blocksDir());
    assertEquals(1, segs.size());
    // an incompressible block is stored as raw frames after the header and frame table
    long record = SegmentStore.incompressibleRecordBytes(content.length);
    long plainAt = record - content.length;
    try (FileChannel ch = FileChannel.open(segs.get(0), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      assertEquals(record, ch.size());
      ch.write(ByteBuffer.wrap(new byte[] {(byte) ~content[1000]}), plainAt + 1000);
    }
    Fsck.Report r = engine.fsckOnDisk();
    assertEquals(1, r.errors(), () -> r.problems().toString());
    assertTrue(r.problems().get(0).path().startsWith("/docs/a.bin"), () -> r.problems().toString());

    engine.close();
    engine.open();
    fs = engine.fs;
    long h = fs.open(ME, ino, O_RDONLY);
    FsException e = assertThrows(FsException.class, () -> fs.read(h, 0, new byte[4096], 0, 4096));
    assertEquals(Errno.EIO, e.errno());
    assertArrayEquals(new byte[0], read(h, content.length, 10), "EOF needs no block");
    fs.release(h);
    fsckAtEnd = false;
  }

  // ---- namespace through the engine ---------------------------------------------------------------

  @Test
  void namespace_errorsSurfaceWithTheirErrno() throws IOException {
    Attr d = fs.mkdir(ME, ROOT, "d", 0755);
    writeFile(d.ino(), "f", new byte[] {1});
    long f = fs.lookup(d.ino(), "f");
    assertEquals(Errno.EEXIST, assertThrows(FsException.class, () -> fs.mkdir(ME, ROOT, "d", 0755)).errno());
    assertEquals(Errno.ENOTEMPTY, assertThrows(FsException.class, () -> fs.rmdir(ROOT, "d")).errno());
    assertEquals(Errno.EISDIR, assertThrows(FsException.class, () -> fs.unlink(ROOT, "d")).errno());
    assertEquals(Errno.ENOTDIR, assertThrows(FsException.class, () -> fs.lookup(f, "x")).errno());
    assertEquals(Errno.ENOTDIR, assertThrows(FsException.class, () -> fs.mkdir(ME, f, "x", 0755)).errno());
    assertEquals(Errno.EINVAL,
        assertThrows(FsException.class, () -> fs.rename(ROOT, "d", d.ino(), "x", 0)).errno());
    assertEquals(Errno.ENAMETOOLONG,
        assertThrows(FsException.class, () -> fs.mkdir(ME, ROOT, "x".repeat(256), 0755)).errno());
    fs.mkdir(ME, ROOT, "y".repeat(255), 0755);
    assertEquals(Errno.EEXIST,
        assertThrows(FsException.class, () -> fs.create(ME, d.ino(), "f", 0644, O_RDWR)).errno());
    assertEquals(4, fs.getattr(ROOT).nlink());
  }
}
