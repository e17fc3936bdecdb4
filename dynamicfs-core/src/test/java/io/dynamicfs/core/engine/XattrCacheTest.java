package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.format.FormatOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine's xattr cache on a real DATA directory: answers (also "none") cached, changes always seen. */
class XattrCacheTest {
  private static final long ROOT = FileSystem.ROOT_INO;
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final int XATTR_CREATE = 1;

  @TempDir
  Path data;
  DynamicFileSystemTest.Engine engine;
  DynamicFileSystem fs;

  @BeforeEach
  void start() throws IOException {
    engine = new DynamicFileSystemTest.Engine(data, FormatOptions.DEFAULT);
    fs = engine.fs;
  }

  @AfterEach
  void close() throws IOException {
    try {
      assertEquals(List.of(), engine.fsckOnDisk().problems());
    } finally {
      engine.close();
    }
  }

  private long file(String name) throws IOException {
    OpenResult r = fs.create(ME, ROOT, name, 0644, 2);
    fs.release(r.handle());
    return r.attr().ino();
  }

  private Errno errno(long ino, String name) {
    return assertThrows(FsException.class, () -> fs.getxattr(ino, name)).errno();
  }

  @Test
  void getxattr_absent_isCachedAsEnodata() throws IOException {
    long f = file("f");
    XattrCache c = fs.metaLogForTest().xattrs();
    assertEquals(Errno.ENODATA, errno(f, "security.capability"));
    long misses = c.misses();
    long hits = c.hits();
    for (int i = 0; i < 10; i++) {
      assertEquals(Errno.ENODATA, errno(f, "security.capability"));
    }
    assertEquals(misses, c.misses(), "repeated negative lookups do not reach the metadata store");
    assertEquals(hits + 10, c.hits());
  }

  @Test
  void setxattr_afterCachedAbsence_isSeen_andRemoveIsSeen() throws IOException {
    long f = file("f");
    assertEquals(Errno.ENODATA, errno(f, "user.a"));
    fs.setxattr(f, "user.a", new byte[] {1}, 0);
    assertArrayEquals(new byte[] {1}, fs.getxattr(f, "user.a"));
    assertArrayEquals(new byte[] {1}, fs.getxattr(f, "user.a"));
    fs.setxattr(f, "user.a", new byte[] {2, 3}, 0);
    assertArrayEquals(new byte[] {2, 3}, fs.getxattr(f, "user.a"));
    fs.removexattr(f, "user.a");
    assertEquals(Errno.ENODATA, errno(f, "user.a"));
  }

  @Test
  void failedSetxattr_leavesTheCachedValueRight() throws IOException {
    long f = file("f");
    fs.setxattr(f, "user.a", new byte[] {1}, 0);
    assertArrayEquals(new byte[] {1}, fs.getxattr(f, "user.a"));
    assertThrows(FsException.class, () -> fs.setxattr(f, "user.a", new byte[] {9}, XATTR_CREATE));
    assertArrayEquals(new byte[] {1}, fs.getxattr(f, "user.a"));
  }

  @Test
  void returnedValue_isACopy() throws IOException {
    long f = file("f");
    fs.setxattr(f, "user.a", new byte[] {1}, 0);
    fs.getxattr(f, "user.a")[0] = 42;
    assertArrayEquals(new byte[] {1}, fs.getxattr(f, "user.a"));
  }

  @Test
  void unlinkOfLastName_dropsTheInodesAnswers() throws IOException {
    long f = file("f");
    fs.setxattr(f, "user.a", new byte[] {1}, 0);
    assertArrayEquals(new byte[] {1}, fs.getxattr(f, "user.a"));
    fs.unlink(ROOT, "f");
    assertEquals(Errno.ENOENT, errno(f, "user.a"));
  }

  @Test
  void renameOverAFile_dropsTheReplacedInodesAnswers() throws IOException {
    long victim = file("victim");
    file("other");
    fs.setxattr(victim, "user.a", new byte[] {1}, 0);
    assertArrayEquals(new byte[] {1}, fs.getxattr(victim, "user.a"));
    fs.rename(ROOT, "other", ROOT, "victim", 0);
    assertEquals(Errno.ENOENT, errno(victim, "user.a"));
  }

  @Test
  void cachedAnswers_areRebuiltAfterReopen() throws IOException {
    long f = file("f");
    fs.setxattr(f, "user.a", new byte[] {7}, 0);
    assertEquals(Errno.ENODATA, errno(f, "user.b"));
    fs = engine.reopen();
    assertArrayEquals(new byte[] {7}, fs.getxattr(f, "user.a"));
    assertEquals(Errno.ENODATA, errno(f, "user.b"));
  }
}
