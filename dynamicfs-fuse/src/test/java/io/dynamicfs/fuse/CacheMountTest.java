package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cache.Admission;
import io.dynamicfs.cache.CacheStack;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.format.FormatOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Caches on real mounts: L2 persistence across remounts, L2 damaged or deleted while mounted, concurrent
 * readers through tiny caches, and the engine's xattr cache seen through the kernel. 64 KiB blocks, L1 of 4
 * blocks, so reads of a 2 MiB file reach L2. Each test unmounts and runs fsck afterwards.
 */
class CacheMountTest {
  private static final FormatOptions SMALL = new FormatOptions(64 << 10, Codec.LZ4, 4096);
  private static final int FILE = 2 << 20;
  private static final int BLOCKS = FILE / (64 << 10);

  @TempDir
  Path base;
  MountedFs fs;
  SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final Random random = new Random(11);

  private Path l2() {
    return base.resolve("l2");
  }

  private void mount(FusePreset preset) throws IOException {
    fs = MountedFs.mount(base, SMALL, CacheStack.builder(registry).memory(256 << 10)
        .disk(l2(), 64 << 20, Admission.ALWAYS).build(), preset);
  }

  @AfterEach
  void unmountAndCheck() throws IOException {
    if (fs != null) {
      fs.close();
      assertFalse(FuseMount.isMounted(fs.mnt), "mount left behind");
      FsckAssert.assertClean(fs.data);
    }
  }

  private double l2(String meter) {
    return registry.get(meter).tag("level", "l2").counter().count();
  }

  private byte[] writeRandom(String name) throws IOException {
    byte[] b = new byte[FILE];
    random.nextBytes(b);
    Files.write(fs.path(name), b);
    return b;
  }

  /** Entry files in the L2 directory (polls: admissions are written behind the reads). */
  private long awaitL2Files(long atLeast) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + 30_000_000_000L;
    long n;
    while ((n = l2Files().size()) < atLeast && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return n;
  }

  /**
   * The entry files in the L2 directory. The cache's writer renames temporary files into place meanwhile, and a
   * walk that meets a file gone between listing and visiting it fails: then it walks again.
   */
  private List<Path> l2Files() throws IOException {
    for (int attempt = 0; ; attempt++) {
      if (!Files.isDirectory(l2())) {
        return List.of();
      }
      try (Stream<Path> s = Files.walk(l2())) {
        return s.filter(p -> p.getFileName().toString().length() == 64 && Files.isRegularFile(p)).toList();
      } catch (java.io.UncheckedIOException e) {
        if (!(e.getCause() instanceof java.nio.file.NoSuchFileException) || attempt >= 100) {
          throw e;
        }
      }
    }
  }

  @Test
  void l2_afterRemount_servesEveryBlockWithoutTheStore() throws IOException {
    mount(FusePreset.BALANCED);
    byte[] b = writeRandom("f");
    fs.remount(); // a fresh L1: this read misses L1 and L2, and admits every block into L2
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    assertTrue(l2("dfs.cache.misses") >= BLOCKS, "the first read goes past L2");
    fs.remount(); // the writer drained at unmount; the new L2 rebuilds its index from the directory
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    assertTrue(l2("dfs.cache.hits") >= BLOCKS, "hits " + l2("dfs.cache.hits"));
    assertEquals(0, l2("dfs.cache.misses"), "no read went past L2 to the block store");
  }

  @Test
  void l2_bytesFlippedWhileMounted_readsStayCorrect() throws Exception {
    mount(FusePreset.SAFE); // no page cache kept across opens: every open re-reads through the caches
    byte[] b = writeRandom("f");
    fs.remount();
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    assertEquals(BLOCKS, awaitL2Files(BLOCKS));
    for (Path p : l2Files()) {
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        ByteBuffer one = ByteBuffer.allocate(1);
        long at = 48 + random.nextInt((int) ch.size() - 48);
        ch.read(one, at);
        one.flip();
        one.put(0, (byte) (one.get(0) ^ 0x5a));
        ch.write(one, at);
      }
    }
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    assertTrue(l2("dfs.cache.corrupt") >= BLOCKS - 8, "corrupt " + l2("dfs.cache.corrupt"));
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
  }

  @Test
  void l2_directoryDeletedWhileMounted_readsStayCorrectAndCacheComesBack() throws Exception {
    mount(FusePreset.SAFE);
    byte[] b = writeRandom("f");
    fs.remount();
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    assertEquals(BLOCKS, awaitL2Files(BLOCKS));
    deleteTree(l2());
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    assertTrue(awaitL2Files(BLOCKS - 8) >= BLOCKS - 8, "the cache refills its recreated directory");
    assertTrue(Files.isRegularFile(l2().resolve("dynamicfs-cache")));
    double hits = l2("dfs.cache.hits");
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    assertTrue(l2("dfs.cache.hits") > hits, "served from the recreated directory");
  }

  @Test
  void concurrentReaders_sameFile_tinyCaches_allReadTheRightBytes() throws Exception {
    mount(FusePreset.SAFE);
    byte[] b = new byte[4 << 20];
    random.nextBytes(b);
    Files.write(fs.path("shared"), b);
    fs.remount();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<?>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        long seed = t;
        results.add(pool.submit(() -> {
          Random r = new Random(seed);
          for (int i = 0; i < 40; i++) {
            int len = 1 + r.nextInt(200_000);
            int off = r.nextInt(b.length - len);
            try (FileChannel ch = FileChannel.open(fs.path("shared"), StandardOpenOption.READ)) {
              ByteBuffer buf = ByteBuffer.allocate(len);
              while (buf.hasRemaining() && ch.read(buf, off + buf.position()) > 0) {
                // keep reading
              }
              assertArrayEquals(java.util.Arrays.copyOfRange(b, off, off + len), buf.array(),
                  "offset " + off + " length " + len);
            }
          }
          return null;
        }));
      }
      for (Future<?> f : results) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    assertTrue(registry.get("dfs.cache.evictions").tag("level", "l1").counter().count() > 0);
  }

  // ---- xattrs through the kernel ------------------------------------------------------------------

  private static byte[] getxattr(Path p, String name) throws IOException {
    var view = Files.getFileAttributeView(p, java.nio.file.attribute.UserDefinedFileAttributeView.class);
    if (!view.list().contains(name)) {
      return null;
    }
    ByteBuffer buf = ByteBuffer.allocate(view.size(name));
    view.read(name, buf);
    return buf.array();
  }

  private static void setxattr(Path p, String name, byte[] v) throws IOException {
    Files.getFileAttributeView(p, java.nio.file.attribute.UserDefinedFileAttributeView.class)
        .write(name, ByteBuffer.wrap(v));
  }

  @Test
  void xattrs_setAndRemoveThroughTheMount_areSeenAtOnce() throws IOException {
    mount(FusePreset.BALANCED);
    Path f = Files.write(fs.path("x"), new byte[] {1});
    assertEquals(null, getxattr(f, "tag"));
    Files.write(f, new byte[] {2}, StandardOpenOption.APPEND); // kernel asks security.capability: cached ENODATA
    setxattr(f, "tag", new byte[] {1, 2, 3});
    assertArrayEquals(new byte[] {1, 2, 3}, getxattr(f, "tag"));
    setxattr(f, "tag", new byte[] {9});
    assertArrayEquals(new byte[] {9}, getxattr(f, "tag"));
    Files.getFileAttributeView(f, java.nio.file.attribute.UserDefinedFileAttributeView.class).delete("tag");
    assertEquals(null, getxattr(f, "tag"));
    assertArrayEquals(new byte[] {1, 2}, Files.readAllBytes(f));
  }

  @Test
  void xattrs_changedBehindTheKernel_areSeenAtOnce() throws IOException {
    mount(FusePreset.HIGH_PERFORMANCE);
    Path f = Files.write(fs.path("x"), new byte[] {1});
    DynamicFileSystem engine = fs.engine();
    long ino = engine.lookup(FileSystem.ROOT_INO, "x");
    assertEquals(null, getxattr(f, "tag"));
    engine.setxattr(ino, "user.tag", new byte[] {4}, 0); // as another mount's change would arrive
    assertArrayEquals(new byte[] {4}, getxattr(f, "tag"));
    engine.removexattr(ino, "user.tag");
    assertEquals(null, getxattr(f, "tag"));
  }

  // ---- presets --------------------------------------------------------------------------------

  /** Overwrites {@code b} at {@code off} through the engine, not the kernel (as another mount would). */
  private void writeBehindTheKernel(String name, long off, byte[] b) throws IOException {
    DynamicFileSystem engine = fs.engine();
    long ino = engine.lookup(FileSystem.ROOT_INO, name);
    long h = engine.open(Caller.ROOT, ino, 2);
    try {
      engine.write(h, off, b, 0, b.length);
    } finally {
      engine.release(h);
    }
  }

  private String mountOptions() throws IOException {
    String mp = fs.mnt.toAbsolutePath().normalize().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f[4].equals(mp)) {
        return f[5];
      }
    }
    throw new AssertionError("not mounted: " + mp);
  }

  @Test
  void highPerformancePreset_reachesTheKernel_noatimeAndLongCaching() throws IOException {
    mount(FusePreset.HIGH_PERFORMANCE);
    assertTrue(List.of(mountOptions().split(",")).contains("noatime"), mountOptions());
    assertTrue(fs.kernelCaching().contains("attrTimeout=60.0"), fs.kernelCaching());
    byte[] b = new byte[100_000];
    random.nextBytes(b);
    Files.write(fs.path("f"), b);
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    byte[] changed = b.clone();
    changed[10] ^= 1;
    writeBehindTheKernel("f", 0, changed); // same size: the kernel is told of new attributes, not of new bytes
    // keep_cache: the pages stay, so the kernel still answers the bytes it cached.
    assertEquals(b.length, Files.size(fs.path("f")));
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
  }

  @Test
  void safePreset_changeBehindTheKernel_isSeenAtOnce() throws IOException {
    mount(FusePreset.SAFE);
    assertFalse(List.of(mountOptions().split(",")).contains("noatime"), mountOptions());
    byte[] b = new byte[100_000];
    random.nextBytes(b);
    Files.write(fs.path("f"), b);
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    try (FileChannel open = FileChannel.open(fs.path("f"), StandardOpenOption.READ)) {
      ByteBuffer first = ByteBuffer.allocate(4096);
      open.read(first, 0);
      byte[] changed = b.clone();
      changed[10] ^= 1;
      writeBehindTheKernel("f", 0, changed);
      writeBehindTheKernel("f", b.length, new byte[] {7});
      assertEquals(b.length + 1, Files.size(fs.path("f")), "no attribute caching");
      byte[] want = java.util.Arrays.copyOf(changed, b.length + 1);
      want[b.length] = 7;
      assertArrayEquals(want, Files.readAllBytes(fs.path("f")), "a new open sees the new bytes");
      ByteBuffer again = ByteBuffer.allocate(4096);
      open.read(again, 0);
      assertEquals(changed[10], again.get(10), "an open handle sees them too (auto_inval_data)");
    }
  }

  @Test
  void balancedPreset_changedFile_dropsItsPagesAtOpen() throws IOException {
    mount(FusePreset.BALANCED);
    byte[] b = new byte[100_000];
    random.nextBytes(b);
    Files.write(fs.path("f"), b);
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    assertArrayEquals(b, Files.readAllBytes(fs.path("f")));
    byte[] changed = b.clone();
    changed[10] ^= 1;
    writeBehindTheKernel("f", 0, changed);
    assertArrayEquals(changed, Files.readAllBytes(fs.path("f")), "keep_cache only when unchanged");
  }

  @Test
  void balancedPreset_singleNode_cachesLong_andIsToldOfChangesNoRequestMade() throws Exception {
    mount(FusePreset.BALANCED);
    assertTrue(fs.kernelCaching().contains("attrTimeout=" + FusePreset.LONG_TIMEOUT), fs.kernelCaching());
    byte[] b = new byte[100_000];
    random.nextBytes(b);
    Files.write(fs.path("f"), b);
    for (int i = 0; i < 50; i++) {
      Files.createFile(fs.path("e" + i));
      Files.size(fs.path("e" + i));
    }
    assertEquals(b.length, Files.size(fs.path("f"))); // cached by the kernel now
    assertEquals(0, fs.invalidationsSent(), "changes made by requests need no notice");
    writeBehindTheKernel("f", b.length, new byte[] {7}); // grows by one byte, on this thread
    long deadline = System.nanoTime() + 10_000_000_000L; // far below the 60 s the kernel may cache
    while (Files.size(fs.path("f")) != b.length + 1 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(b.length + 1, Files.size(fs.path("f")), "the kernel was told the size changed");
    assertTrue(fs.invalidationsSent() > 0);
    byte[] want = java.util.Arrays.copyOf(b, b.length + 1);
    want[b.length] = 7;
    assertArrayEquals(want, Files.readAllBytes(fs.path("f")));
  }

  static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(q);
      }
    }
  }
}
