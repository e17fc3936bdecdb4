package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A real DynamicFS through the low-level binding: the POSIX behaviour the kernel sees. The mount comes from
 * the subclass ({@link LowLevelMountTest} on a single node, a cluster mount in the cli module); each case
 * works inside {@link #root()}.
 */
public abstract class LowLevelCases implements MountUnderTest {

  static int nlink(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
  }

  static long ino(Path p) throws IOException {
    return (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }

  @Test
  void createWriteReadRemount() throws IOException {
    byte[] data = new byte[3 << 20];
    new Random(7).nextBytes(data);
    Path f = path("big.bin");
    Files.write(f, data);
    assertArrayEquals(data, Files.readAllBytes(f));
    Files.writeString(path("small.txt"), "hello");
    assertEquals(List.of("big.bin", "small.txt"), list(root()));
    remount();
    assertArrayEquals(data, Files.readAllBytes(path("big.bin")));
    assertEquals("hello", Files.readString(path("small.txt")));
    assertEquals(data.length, Files.size(path("big.bin")));
  }

  @Test
  void hardLinkNlinkThroughBothNamesImmediately() throws IOException {
    Path a = path("a");
    Files.writeString(a, "x");
    assertEquals(1, nlink(a));
    Path b = path("b");
    Files.createLink(b, a);
    assertEquals(2, nlink(a));
    assertEquals(2, nlink(b));
    assertEquals(ino(a), ino(b));
    Path c = path("c");
    Files.createLink(c, b);
    assertEquals(3, nlink(a));
    Files.delete(b);
    assertEquals(2, nlink(a));
    assertEquals(2, nlink(c));
    Files.delete(a);
    assertEquals(1, nlink(c));
    assertEquals("x", Files.readString(c));
    assertFalse(Files.exists(a));
  }

  @Test
  void renameFileAndDirectory() throws IOException {
    Files.createDirectories(path("d1/sub"));
    Files.writeString(path("d1/sub/f"), "content");
    Files.move(path("d1/sub/f"), path("d1/g"));
    assertFalse(Files.exists(path("d1/sub/f")));
    assertEquals("content", Files.readString(path("d1/g")));
    Files.move(path("d1"), path("d2"));
    assertEquals("content", Files.readString(path("d2/g")));
    assertTrue(Files.isDirectory(path("d2/sub")));
    Files.writeString(path("d2/h"), "other");
    Files.move(path("d2/h"), path("d2/g"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertEquals("other", Files.readString(path("d2/g")));
  }

  @Test
  void mkdirRmdirNotEmpty() throws IOException {
    Path d = Files.createDirectory(path("dir"));
    Files.writeString(d.resolve("f"), "x");
    assertEquals(2, nlink(d));
    Files.createDirectory(d.resolve("sub"));
    assertEquals(3, nlink(d));
    Files.delete(d.resolve("sub"));
    assertEquals(2, nlink(d));
    assertThrows(DirectoryNotEmptyException.class, () -> Files.delete(d));
    Files.delete(d.resolve("f"));
    Files.delete(d);
    assertFalse(Files.exists(d));
    assertThrows(IOException.class, () -> Files.createDirectory(path("nope/deeper")));
  }

  @Test
  void symlink() throws IOException {
    Files.writeString(path("target"), "t");
    Path l = Files.createSymbolicLink(path("link"), Path.of("target"));
    assertTrue(Files.isSymbolicLink(l));
    assertEquals(Path.of("target"), Files.readSymbolicLink(l));
    assertEquals("t", Files.readString(l));
  }

  @Test
  void xattrs() throws IOException {
    Path f = Files.writeString(path("x"), "x");
    UserDefinedFileAttributeView v = Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
    v.write("k1", ByteBuffer.wrap("value-one".getBytes(StandardCharsets.UTF_8)));
    v.write("k2", ByteBuffer.wrap(new byte[1000]));
    assertEquals(List.of("k1", "k2"), v.list().stream().sorted().collect(Collectors.toList()));
    assertEquals(9, v.size("k1"));
    ByteBuffer out = ByteBuffer.allocate(9);
    v.read("k1", out);
    assertEquals("value-one", new String(out.array(), StandardCharsets.UTF_8));
    v.delete("k1");
    assertEquals(List.of("k2"), v.list());
    assertThrows(IOException.class, () -> v.size("k1"));
  }

  @Test
  void chmodChownUtimes() throws IOException {
    Path f = Files.writeString(path("m"), "m");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwx------"));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    Files.setAttribute(f, "unix:uid", 1234);
    Files.setAttribute(f, "unix:gid", 4321);
    assertEquals(1234, Files.getAttribute(f, "unix:uid"));
    assertEquals(4321, Files.getAttribute(f, "unix:gid"));
    FileTime t = FileTime.from(1_000_000_000L, TimeUnit.SECONDS);
    Files.setLastModifiedTime(f, t);
    assertEquals(t, Files.getLastModifiedTime(f));
    FileTime at = FileTime.from(1_100_000_000L, TimeUnit.SECONDS);
    Files.setAttribute(f, "lastAccessTime", at);
    assertEquals(at, Files.getAttribute(f, "lastAccessTime"));
    assertEquals(t, Files.getLastModifiedTime(f));
  }

  @Test
  void truncate() throws IOException {
    Path f = path("t");
    Files.write(f, new byte[100_000]);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.truncate(10);
      assertEquals(10, ch.size());
    }
    assertEquals(10, Files.size(f));
    Files.writeString(f, "abc", StandardOpenOption.TRUNCATE_EXISTING);
    assertEquals("abc", Files.readString(f));
    run("truncate", "-s", "5000", f.toString());
    assertEquals(5000, Files.size(f));
  }

  @Test
  void unlinkWhileOpenStaysReadableAndFstatWorks() throws Exception {
    Path f = path("open");
    Files.writeString(f, "still here");
    String py = "import os,sys\n"
        + "fd=os.open(sys.argv[1],os.O_RDWR)\n"
        + "os.unlink(sys.argv[1])\n"
        + "assert not os.path.exists(sys.argv[1])\n"
        + "st=os.fstat(fd)\n"
        + "assert st.st_nlink==0, st\n"
        + "assert st.st_size==10, st\n"
        + "assert os.pread(fd,100,0)==b'still here'\n"
        + "os.pwrite(fd,b'!!',10)\n"
        + "assert os.fstat(fd).st_size==12\n"
        + "assert os.pread(fd,100,0)==b'still here!!'\n"
        + "os.close(fd)\n"
        + "print('ok')\n";
    assertEquals("ok", run("python3", "-c", py, f.toString()).strip());
    assertEquals(List.of(), list(root()));
  }

  @Test
  void statfs() throws IOException {
    FileStore store = Files.getFileStore(root());
    assertTrue(store.getTotalSpace() > 0);
    assertTrue(store.getUsableSpace() > 0 && store.getUsableSpace() <= store.getTotalSpace(),
        store.getUsableSpace() + " usable of " + store.getTotalSpace());
    assertEquals("fuse.dynamicfs", store.type());
    String out = run("stat", "-f", "-c", "%l %b", root().toString());
    assertTrue(out.startsWith("255 "), out);
  }

  @Test
  void manyEntriesReaddir() throws IOException {
    Path d = Files.createDirectory(path("many"));
    for (int i = 0; i < 1500; i++) {
      Files.writeString(d.resolve("file-with-a-longish-name-" + i), "");
    }
    assertEquals(1500, list(d).size());
    assertTrue(run("ls", "-a", d.toString()).lines().anyMatch(".."::equals));
  }

  @Test
  void readdirDotDotNamesTheParent_alsoAfterTheDirectoryMoved() throws IOException {
    Path a = Files.createDirectory(path("a"));
    Path b = Files.createDirectory(a.resolve("b"));
    Path c = Files.createDirectory(path("c"));
    assertEquals(ino(a), dotDotInListing(b));
    assertEquals(ino(root()), dotDotInListing(a));
    Path moved = Files.move(b, c.resolve("b"));
    assertEquals(ino(c), dotDotInListing(moved));
  }

  /** The inode number readdir gives for ".." ({@code ls -ai} prints what getdents returned). */
  private long dotDotInListing(Path dir) throws IOException {
    return run("ls", "-ai1", dir.toString()).lines().map(String::trim).filter(l -> l.endsWith(" .."))
        .mapToLong(l -> Long.parseLong(l.substring(0, l.indexOf(' ')))).findFirst()
        .orElseThrow(() -> new AssertionError("no '..' in the listing of " + dir));
  }

  /**
   * fallocate's punch-hole and zero-range modes (util-linux's fallocate -p / -z, with and without KEEP_SIZE)
   * mixed with writes, on a file of the mount and the same file in a plain directory: after every step both
   * hold the same bytes and size. A file punched whole reports no blocks.
   */
  @Test
  void punchHoleAndZeroRange_matchAPlainFilesystem() throws Exception {
    Path plain = Files.createTempDirectory("dfs-punch-reference");
    try {
      Random rnd = new Random();
      long seed = rnd.nextLong();
      rnd.setSeed(seed);
      Path m = root().resolve("p");
      Path r = plain.resolve("p");
      byte[] data = new byte[(3 << 20) + rnd.nextInt(1 << 20)];
      rnd.nextBytes(data);
      Files.write(m, data);
      Files.write(r, data);
      for (int step = 0; step < 30; step++) {
        long size = Files.size(r);
        long off = (long) (rnd.nextDouble() * (size + (1 << 20)));
        long len = 1 + (long) (rnd.nextDouble() * (rnd.nextBoolean() ? 1 << 20 : 3 << 20));
        String what;
        switch (rnd.nextInt(4)) {
          case 0 -> what = "-p";
          case 1 -> what = "-z";
          case 2 -> what = "-z -n";
          default -> what = null;
        }
        String desc = "seed " + seed + " step " + step + ": " + (what == null ? "write" : "fallocate " + what)
            + " at " + off + " length " + len;
        if (what == null) {
          byte[] b = new byte[(int) Math.min(len, 300_000)];
          rnd.nextBytes(b);
          for (Path p : new Path[] {m, r}) {
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
              ch.write(ByteBuffer.wrap(b), off);
            }
          }
        } else {
          for (Path p : new Path[] {m, r}) {
            List<String> cmd = new java.util.ArrayList<>(List.of("fallocate"));
            cmd.addAll(List.of(what.split(" ")));
            cmd.addAll(List.of("-o", Long.toString(off), "-l", Long.toString(len), p.toString()));
            run(cmd.toArray(new String[0]));
          }
        }
        assertEquals(Files.size(r), Files.size(m), desc);
        assertArrayEquals(Files.readAllBytes(r), Files.readAllBytes(m), desc);
      }
      String all = Long.toString(Files.size(m) + (1L << 30)); // also what KEEP_SIZE reserved past the end
      run("fallocate", "-p", "-o", "0", "-l", all, m.toString());
      // (ext4 keeps preallocated blocks past the end through a punch; DynamicFS releases them too)
      try (FileChannel ch = FileChannel.open(m, StandardOpenOption.READ)) {
        ch.read(ByteBuffer.allocate(1)); // an open: the kernel's cached attributes of the file are refreshed
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
      String blocks;
      do {
        blocks = run("stat", "-c", "%b", m.toString()).trim();
      } while (!blocks.equals("0") && System.nanoTime() < deadline);
      assertEquals("0", blocks, "a file punched whole holds no blocks (seed " + seed + ")");
      byte[] zeros = new byte[(int) Files.size(m)];
      assertArrayEquals(zeros, Files.readAllBytes(m));
    } finally {
      try (Stream<Path> s = Files.walk(plain)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  // ---- renameat2, copy_file_range, lseek (libfuse 3) ----------------------------------------------

  /** Cases of what libfuse 2 cannot negotiate skip there, saying so (they run on the libfuse 3 mounts). */
  private void assumeFuse3(String what) {
    org.junit.jupiter.api.Assumptions.assumeTrue(fuseLibrary().equals("fuse3"),
        "libfuse 2 cannot negotiate " + what + " (this mount uses " + fuseLibrary() + ")");
  }

  private static String errno(org.junit.jupiter.api.function.Executable call) {
    NativeCalls.ErrnoException e = assertThrows(NativeCalls.ErrnoException.class, call);
    return e.getMessage();
  }

  @Test
  void renameat2_noreplace_existingTargetEexist_elseRenames() throws IOException {
    assumeFuse3("renameat2 flags");
    Files.writeString(path("a"), "A");
    Files.writeString(path("b"), "B");
    assertEquals("File exists", errno(() -> NativeCalls.renameat2(path("a"), path("b"),
        NativeCalls.RENAME_NOREPLACE)));
    assertEquals("B", Files.readString(path("b")));
    NativeCalls.renameat2(path("a"), path("c"), NativeCalls.RENAME_NOREPLACE);
    assertEquals(List.of("b", "c"), list(root()));
    assertEquals("A", Files.readString(path("c")));
    assertEquals("Invalid argument", errno(() -> NativeCalls.renameat2(path("b"), path("d"),
        NativeCalls.RENAME_NOREPLACE | NativeCalls.RENAME_EXCHANGE)));
  }

  @Test
  void renameat2_exchange_swapsFilesAndDirectoriesAcrossDirectories_parentLinksAndTimesRight() throws Exception {
    assumeFuse3("renameat2 flags");
    Path x = Files.createDirectory(path("x"));
    Path y = Files.createDirectory(path("y"));
    Files.writeString(x.resolve("f"), "file in x");
    Path sub = Files.createDirectory(y.resolve("sub"));
    Files.writeString(sub.resolve("inner"), "inner");
    long fileIno = ino(x.resolve("f"));
    long dirIno = ino(sub);
    assertEquals(2, nlink(x));
    assertEquals(3, nlink(y));
    FileTime before = Files.getLastModifiedTime(x);
    Thread.sleep(20);
    NativeCalls.renameat2(x.resolve("f"), y.resolve("sub"), NativeCalls.RENAME_EXCHANGE);
    assertEquals(dirIno, ino(x.resolve("f")), "x/f is now the directory");
    assertEquals(fileIno, ino(y.resolve("sub")), "y/sub is now the file");
    assertEquals("inner", Files.readString(x.resolve("f").resolve("inner")));
    assertEquals("file in x", Files.readString(y.resolve("sub")));
    assertEquals(3, nlink(x), "x gained a subdirectory");
    assertEquals(2, nlink(y), "y lost one");
    assertTrue(Files.getLastModifiedTime(x).compareTo(before) > 0, "the parents' mtime moves");
    assertEquals(root().toString() + "/x", x.resolve("f").resolve("..").toRealPath().toString());
    assertEquals("No such file or directory", errno(() -> NativeCalls.renameat2(x.resolve("f"), y.resolve("none"),
        NativeCalls.RENAME_EXCHANGE)));
    Files.writeString(y.resolve("g"), "g");
    NativeCalls.renameat2(y.resolve("sub"), y.resolve("g"), NativeCalls.RENAME_EXCHANGE); // same directory
    assertEquals("file in x", Files.readString(y.resolve("g")));
    assertEquals("g", Files.readString(y.resolve("sub")));
    assertEquals("Invalid argument", errno(() -> NativeCalls.renameat2(path("x"), x.resolve("f").resolve("inner"),
        NativeCalls.RENAME_EXCHANGE)), "a directory into its own subtree");
    remount();
    assertEquals("inner", Files.readString(path("x", "f", "inner")));
    assertEquals(3, nlink(path("x")));
    assertEquals(2, nlink(path("y")));
  }

  @Test
  void copyFileRange_unflushedSourceUnalignedEdges_readsBackAsAByteCopy() throws IOException {
    Random rnd = new Random(11);
    byte[] src = new byte[(5 << 20) + 12_345];
    rnd.nextBytes(src);
    byte[] dst = new byte[7 << 20];
    rnd.nextBytes(dst);
    Path s = path("src");
    Path d = path("dst");
    Files.write(d, dst);
    try (FileChannel ch = FileChannel.open(s, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(src)); // still open: nothing of it flushed when the copies run
      assertEquals(src.length, NativeCalls.copyFileRange(s, 0, path("whole"), 0, Long.MAX_VALUE >> 2));
      long[][] ranges = {{(1 << 20) + 7, (2 << 20) + 7, 3 << 20}, {0, 5, 100_000}, {3, (1 << 20) + 3, 4 << 20}};
      for (long[] r : ranges) {
        assertEquals(r[2], NativeCalls.copyFileRange(s, r[0], d, r[1], r[2]));
        System.arraycopy(src, (int) r[0], dst, (int) r[1], (int) r[2]);
      }
    }
    assertArrayEquals(src, Files.readAllBytes(path("whole")));
    assertArrayEquals(dst, Files.readAllBytes(d));
    assertEquals(0, NativeCalls.copyFileRange(s, src.length, d, 0, 10), "at the end of the source");
    remount();
    assertArrayEquals(src, Files.readAllBytes(path("whole")));
    assertArrayEquals(dst, Files.readAllBytes(path("dst")));
  }

  @Test
  void lseekDataHole_sparseFile_holesBetweenWrittenBlocks_enxioAtTheEnd() throws IOException {
    assumeFuse3("lseek SEEK_DATA/SEEK_HOLE");
    Path f = path("sparse");
    long first = 8L << 20;
    long second = 24L << 20;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), first);
      ch.write(ByteBuffer.wrap(new byte[] {4, 5, 6}), second);
    }
    long size = second + 3;
    long data = NativeCalls.seek(f, 0, NativeCalls.SEEK_DATA);
    assertTrue(data > 0 && data <= first, "the first data at " + data + ", written at " + first);
    assertEquals(0, NativeCalls.seek(f, 0, NativeCalls.SEEK_HOLE), "the file starts with a hole");
    long hole = NativeCalls.seek(f, first, NativeCalls.SEEK_HOLE);
    assertTrue(hole > first + 2 && hole < second, "a hole after the first write, at " + hole);
    long next = NativeCalls.seek(f, hole, NativeCalls.SEEK_DATA);
    assertTrue(next > hole && next <= second, "the second write's data at " + next);
    assertEquals(size, NativeCalls.seek(f, second, NativeCalls.SEEK_HOLE), "the end of file is a hole");
    assertEquals("No such device or address", errno(() -> NativeCalls.seek(f, size, NativeCalls.SEEK_DATA)));
    assertEquals("No such device or address", errno(() -> NativeCalls.seek(f, size, NativeCalls.SEEK_HOLE)));
    byte[] all = Files.readAllBytes(f);
    for (long i = 0; i < data; i++) {
      assertEquals(0, all[(int) i], "a skipped byte is zero");
    }
  }

  static List<String> list(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  static String run(String... cmd) throws IOException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      int rc = p.waitFor();
      if (rc != 0) {
        throw new IOException(String.join(" ", cmd) + " failed rc=" + rc + ": " + out);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
    return out;
  }
}
