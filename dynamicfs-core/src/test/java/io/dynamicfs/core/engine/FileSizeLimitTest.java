package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.FormatOptions;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The largest file ({@link FileSystem#maxFileSize}): bytes up to it are stored and survive a reopen, a
 * write at it or a size beyond it is EFBIG, a write crossing it is short; nothing is ever reported
 * written that was not stored (issue 13: a byte at 2^63-2 used to read back as zero after close).
 */
class FileSizeLimitTest {
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final int O_RDWR = 2;
  private static final int O_APPEND = 02000;

  @TempDir Path data;
  private DynamicFileSystemTest.Engine engine;

  @AfterEach
  void fsckAndClose() throws IOException {
    engine.assertFsckCleanAndClose();
  }

  private static FsException efbig(org.junit.jupiter.api.function.Executable e) {
    FsException x = assertThrows(FsException.class, e);
    assertEquals(Errno.EFBIG, x.errno(), x.getMessage());
    return x;
  }

  @ParameterizedTest
  @ValueSource(ints = {64 << 10, 1 << 20, 16 << 20})
  void edges_maxMinusOneStored_atMaxEfbig_crossingIsShort_beyondMaxRefused(int blockSize) throws IOException {
    engine = new DynamicFileSystemTest.Engine(data, new FormatOptions(blockSize, Codec.LZ4, 4096));
    DynamicFileSystem fs1 = engine.fs;
    long max = FileSystem.maxFileSize(blockSize);
    assertEquals(0, max % blockSize);
    assertEquals(Long.MAX_VALUE - blockSize + 1, max);

    var r = fs1.create(ME, FileSystem.ROOT_INO, "edge", 0644, O_RDWR);
    long ino = r.attr().ino();
    long h = r.handle();
    efbig(() -> fs1.setattr(ME, ino, SetAttr.truncate(max + 1), h));
    efbig(() -> fs1.setattr(ME, ino, SetAttr.truncate(Long.MAX_VALUE), h));
    assertEquals(0, fs1.getattr(ino).size(), "a refused truncate changes nothing");

    assertEquals(max, fs1.setattr(ME, ino, SetAttr.truncate(max), h).size());
    assertEquals(1, fs1.write(h, max - 1, new byte[] {'z'}, 0, 1));
    efbig(() -> fs1.write(h, max, new byte[] {'y'}, 0, 1));
    efbig(() -> fs1.write(h, Long.MAX_VALUE - 1, new byte[] {'y'}, 0, 1));
    assertEquals(2, fs1.write(h, max - 2, new byte[] {'a', 'b', 'c'}, 0, 3), "stores what fits");
    assertEquals(0, fs1.write(h, max, new byte[0], 0, 0), "an empty write at the limit is no error");
    assertEquals(max, fs1.getattr(ino).size());
    assertArrayEquals(new byte[] {0, 'a', 'b'}, read(fs1, h, max - 3, 10));
    fs1.release(h);

    DynamicFileSystem fs = engine.reopen();
    assertEquals(max, fs.getattr(ino).size());
    long h2 = fs.open(ME, ino, O_RDWR | O_APPEND);
    assertArrayEquals(new byte[] {0, 'a', 'b'}, read(fs, h2, max - 3, 10), "stored, not dropped");
    DynamicFileSystem f2 = fs;
    efbig(() -> f2.write(h2, 0, new byte[] {'q'}, 0, 1)); // O_APPEND at the limit
    assertEquals(fs.getattr(ino).size(), max);
    fs.release(h2);
  }

  private static byte[] read(DynamicFileSystem fs, long h, long off, int len) throws IOException {
    byte[] b = new byte[len];
    int n = fs.read(h, off, b, 0, len);
    return java.util.Arrays.copyOf(b, n);
  }
}
