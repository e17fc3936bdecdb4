package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
 * POSIX behaviour through a real kernel mount, checked with java.nio and a few coreutils. The mount comes
 * from the subclass: a single-node mount in this module ({@link MountedPosixTest}), a cluster mount in the
 * cli module. Each case works inside {@link #root()}, which is empty when the case starts.
 */
public abstract class PosixCases implements MountUnderTest {

  private static int nlink(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
  }

  private static long ino(Path p) throws IOException {
    return (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }

  private static FileTime ctime(Path p) throws IOException {
    return (FileTime) Files.getAttribute(p, "unix:ctime", LinkOption.NOFOLLOW_LINKS);
  }

  private static byte[] random(long seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), () -> String.join(" ", cmd) + " failed: " + out);
    return out.trim();
  }

  @Test
  void writeRead_acrossBlocks_roundTripsAndSurvivesRemount() throws IOException {
    byte[] data = random(1, 3 * (1 << 20) + 12345);
    Path f = path("f.bin");
    Files.write(f, data);
    assertArrayEquals(data, Files.readAllBytes(f));
    remount();
    assertArrayEquals(data, Files.readAllBytes(f));
    assertEquals(data.length, Files.size(f));
  }

  @Test
  void partialOverwrite_keepsSurroundingBytes() throws IOException {
    byte[] data = random(2, 2 * (1 << 20));
    Path f = path("f");
    Files.write(f, data);
    byte[] patch = random(3, 5000);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(patch), (1 << 20) - 2000);
    }
    System.arraycopy(patch, 0, data, (1 << 20) - 2000, patch.length);
    assertArrayEquals(data, Files.readAllBytes(f));
  }

  @Test
  void sparseFile_holesReadZeros_andUseFewBlocks_beyond4GiB() throws IOException {
    Path f = path("sparse");
    long far = 5L << 30;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("start".getBytes(StandardCharsets.UTF_8)), 0);
      ch.write(ByteBuffer.wrap("end".getBytes(StandardCharsets.UTF_8)), far);
    }
    assertEquals(far + 3, Files.size(f));
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(4096);
      ch.read(b, 3L << 30);
      assertTrue(isZero(b.array()), "hole must read as zeros");
      ByteBuffer e = ByteBuffer.allocate(3);
      ch.read(e, far);
      assertEquals("end", new String(e.array(), StandardCharsets.UTF_8));
    }
    long blocks = Long.parseLong(assertDoesNotFail(() -> run("stat", "-c", "%b", f.toString())));
    assertTrue(blocks < 8 * 1024, "a 5 GiB sparse file must not report 5 GiB allocated, got " + blocks);
  }

  private static boolean isZero(byte[] b) {
    for (byte x : b) {
      if (x != 0) {
        return false;
      }
    }
    return true;
  }

  interface Call<T> {
    T call() throws Exception;
  }

  private static <T> T assertDoesNotFail(Call<T> c) {
    try {
      return c.call();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void truncate_shrinkThenGrow_readsZerosNotOldData() throws IOException {
    Path f = path("t");
    byte[] data = random(4, 3 << 20);
    Files.write(f, data);
    try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
      raf.setLength(1000);
      raf.setLength(2 << 20);
    }
    byte[] got = Files.readAllBytes(f);
    assertEquals(2 << 20, got.length);
    for (int i = 0; i < 1000; i++) {
      assertEquals(data[i], got[i]);
    }
    for (int i = 1000; i < got.length; i++) {
      if (got[i] != 0) {
        throw new AssertionError("byte " + i + " after truncate+extend is " + got[i]);
      }
    }
  }

  @Test
  void append_writesAtEnd() throws IOException {
    Path f = path("log");
    Files.writeString(f, "a");
    Files.writeString(f, "b", StandardOpenOption.APPEND);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      ch.write(ByteBuffer.wrap("c".getBytes(StandardCharsets.UTF_8)), 0);
    }
    assertEquals("abc", Files.readString(f));
  }

  @Test
  void hardLink_sharesInode_andNlinkIsRightThroughEveryName() throws IOException {
    Path a = path("a");
    Files.writeString(a, "shared");
    Files.createDirectory(path("d"));
    Path b = path("d", "b");
    Files.createLink(b, a);
    assertEquals(ino(a), ino(b));
    assertEquals(2, nlink(a));
    assertEquals(2, nlink(b));
    Files.writeString(b, "changed through b");
    assertEquals("changed through b", Files.readString(a));
    assertEquals(Files.size(b), Files.size(a));
    Files.delete(b);
    assertEquals(1, nlink(a));
    assertEquals("changed through b", Files.readString(a));
  }

  @Test
  void directoryNlink_isTwoPlusSubdirectories() throws IOException {
    Path d = path("d");
    Files.createDirectory(d);
    assertEquals(2, nlink(d));
    Files.createDirectory(d.resolve("x"));
    Files.createDirectory(d.resolve("y"));
    Files.writeString(d.resolve("file"), "f");
    assertEquals(4, nlink(d));
    Files.move(d.resolve("y"), path("y"));
    assertEquals(3, nlink(d));
    Files.delete(d.resolve("x"));
    assertEquals(2, nlink(d));
  }

  @Test
  void rename_semantics() throws IOException {
    Path a = path("a");
    Path b = path("b");
    Files.writeString(a, "A");
    Files.writeString(b, "B");
    Files.move(a, b, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    assertFalse(Files.exists(a));
    assertEquals("A", Files.readString(b));
    Path d1 = Files.createDirectory(path("d1"));
    Path d2 = Files.createDirectory(path("d2"));
    Files.move(d1, d2, StandardCopyOption.REPLACE_EXISTING);
    assertTrue(Files.isDirectory(d2));
    Path d3 = Files.createDirectory(path("d3"));
    Files.writeString(d3.resolve("x"), "x");
    FileSystemException notEmpty = assertThrows(FileSystemException.class,
        () -> Files.move(d2, d3, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE));
    assertTrue(String.valueOf(notEmpty.getReason()).contains("Directory not empty"), notEmpty.toString());
    FileSystemException intoSelf = assertThrows(FileSystemException.class,
        () -> Files.move(d3, d3.resolve("inner"), StandardCopyOption.ATOMIC_MOVE));
    assertTrue(String.valueOf(intoSelf.getReason()).contains("Invalid argument"), intoSelf.toString());
    Files.move(b, d3.resolve("moved"), StandardCopyOption.ATOMIC_MOVE);
    assertEquals("A", Files.readString(d3.resolve("moved")));
  }

  @Test
  void rmdir_nonEmpty_failsEnotempty_andUnlinkMissing_failsEnoent() throws IOException {
    Path d = Files.createDirectory(path("d"));
    Files.writeString(d.resolve("f"), "f");
    assertThrows(DirectoryNotEmptyException.class, () -> Files.delete(d));
    assertThrows(NoSuchFileException.class, () -> Files.delete(path("missing")));
    assertThrows(FileAlreadyExistsException.class, () -> Files.createDirectory(d));
  }

  @Test
  void unlinkWhileOpen_vanishesFromDirectory_andStaysReadable() throws IOException {
    Path f = path("open");
    byte[] data = random(5, (1 << 20) + 7);
    Files.write(f, data);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      Files.delete(f);
      try (Stream<Path> s = Files.list(root())) {
        assertEquals(List.of(), s.collect(Collectors.toList()), "no .fuse_hidden file may remain");
      }
      ch.write(ByteBuffer.wrap(new byte[] {42}), 3);
      data[3] = 42;
      ByteBuffer b = ByteBuffer.allocate(data.length);
      while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
        // read everything
      }
      assertArrayEquals(data, b.array());
    }
  }

  @Test
  void symlink_readlinkAndFollow() throws IOException {
    Files.writeString(path("target"), "T");
    Path l = path("link");
    Files.createSymbolicLink(l, Path.of("target"));
    assertEquals(Path.of("target"), Files.readSymbolicLink(l));
    assertEquals("T", Files.readString(l));
    Path dangling = path("dangling");
    Files.createSymbolicLink(dangling, Path.of("nowhere/at/all"));
    assertTrue(Files.isSymbolicLink(dangling));
    assertFalse(Files.exists(dangling));
  }

  @Test
  void xattrs_setGetListRemove() throws IOException {
    Path f = path("x");
    Files.writeString(f, "x");
    UserDefinedFileAttributeView v = Files.getFileAttributeView(f, UserDefinedFileAttributeView.class);
    v.write("color", ByteBuffer.wrap("blue".getBytes(StandardCharsets.UTF_8)));
    byte[] big = random(6, 4000);
    v.write("big", ByteBuffer.wrap(big));
    assertEquals(List.of("big", "color"), v.list().stream().sorted().collect(Collectors.toList()));
    ByteBuffer b = ByteBuffer.allocate(v.size("big"));
    v.read("big", b);
    assertArrayEquals(big, b.array());
    v.delete("color");
    assertEquals(List.of("big"), v.list());
    assertThrows(FileSystemException.class, () -> v.delete("color"));
  }

  @Test
  void chmodChownUtimens_updateAttributesAndCtime() throws Exception {
    Path f = path("m");
    Files.writeString(f, "m");
    FileTime c0 = ctime(f);
    Thread.sleep(20);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxr-x---"));
    assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(f)));
    FileTime c1 = ctime(f);
    assertTrue(c1.compareTo(c0) > 0, "chmod must move ctime");
    run("chown", "1234:4321", f.toString());
    assertEquals(1234, Files.getAttribute(f, "unix:uid"));
    assertEquals(4321, Files.getAttribute(f, "unix:gid"));
    FileTime t = FileTime.fromMillis(946_684_800_123L);
    Files.setLastModifiedTime(f, t);
    assertEquals(t, Files.getLastModifiedTime(f));
    run("touch", "-a", "-d", "2001-02-03 04:05:06.789", f.toString());
    assertEquals(t, Files.getLastModifiedTime(f), "touch -a must leave mtime (UTIME_OMIT)");
    assertEquals("2001-02-03 04:05:06.789000000", run("stat", "-c", "%x", f.toString()).substring(0, 29));
  }

  @Test
  void permissions_checkedForOtherUsers() throws Exception {
    openPathToOthers();
    Path secret = path("secret");
    Files.writeString(secret, "top");
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
    Path open = path("open");
    Files.writeString(open, "shared");
    Process p = new ProcessBuilder("runuser", "-u", "nobody", "--", "cat", secret.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(1, p.waitFor(), out);
    assertTrue(out.contains("Permission denied"), out);
    assertEquals("shared", run("runuser", "-u", "nobody", "--", "cat", open.toString()));
    Process w = new ProcessBuilder("runuser", "-u", "nobody", "--", "touch", path("nobody-file").toString())
        .redirectErrorStream(true).start();
    String wout = new String(w.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(1, w.waitFor(), "root dir is 0755: nobody must not create entries: " + wout);
    Path shared = Files.createDirectory(path("tmp"));
    run("chmod", "1777", shared.toString());
    run("runuser", "-u", "nobody", "--", "touch", shared.resolve("mine").toString());
    assertEquals(65534, Files.getAttribute(shared.resolve("mine"), "unix:uid"), "new files take the caller's uid");
  }

  @Test
  void setuidBit_clearedByChown() throws Exception {
    Path f = path("suid");
    Files.writeString(f, "s");
    run("chmod", "6755", f.toString());
    run("chown", "1:1", f.toString());
    assertEquals("755", run("stat", "-c", "%a", f.toString()));
  }

  /**
   * Linux's rule for a write or truncate by someone other than the owner (without CAP_FSETID): set-user-ID
   * goes, set-group-ID goes when the file is group-executable and stays otherwise. On the low-level binding
   * the kernel does it (HANDLE_KILLPRIV is not negotiated), sending the mode change as a setattr.
   */
  @Test
  void setuidSetgid_clearedByAnotherUsersWriteAndTruncate() throws Exception {
    openPathToOthers();
    Path exec = path("exec");
    Path plain = path("plain");
    Path cut = path("cut");
    for (Path f : List.of(exec, plain, cut)) {
      Files.writeString(f, "data");
    }
    run("chmod", "6777", exec.toString());
    run("chmod", "6666", plain.toString());
    run("chmod", "6777", cut.toString());
    run("runuser", "-u", "nobody", "--", "sh", "-c", "echo more >> " + exec);
    run("runuser", "-u", "nobody", "--", "sh", "-c", "echo more >> " + plain);
    run("runuser", "-u", "nobody", "--", "truncate", "-s", "1", cut.toString());
    assertEquals("777", run("stat", "-c", "%a", exec.toString()).strip(), "both bits go (group-executable)");
    assertEquals("2666", run("stat", "-c", "%a", plain.toString()).strip(), "set-group-ID stays (not group-executable)");
    assertEquals("777", run("stat", "-c", "%a", cut.toString()).strip(), "a truncate clears them as a write does");
    assertEquals("datamore\n", Files.readString(exec));
  }

  @Test
  void setgidDirectory_newEntriesInheritGroup() throws Exception {
    Path d = Files.createDirectory(path("sg"));
    run("chown", "0:4242", d.toString());
    run("chmod", "2775", d.toString());
    Files.writeString(d.resolve("f"), "f");
    Path sub = Files.createDirectory(d.resolve("sub"));
    assertEquals(4242, Files.getAttribute(d.resolve("f"), "unix:gid"));
    assertEquals(4242, Files.getAttribute(sub, "unix:gid"));
    assertEquals("2755", run("stat", "-c", "%a", sub.toString()));
  }

  @Test
  void writes_moveMtimeOfFile_andEntries_moveMtimeOfParent() throws Exception {
    Path d = Files.createDirectory(path("d"));
    FileTime d0 = Files.getLastModifiedTime(d);
    Thread.sleep(20);
    Path f = d.resolve("f");
    Files.writeString(f, "1");
    FileTime d1 = Files.getLastModifiedTime(d);
    assertTrue(d1.compareTo(d0) > 0, "creating an entry must move the parent's mtime");
    FileTime f1 = Files.getLastModifiedTime(f);
    Thread.sleep(20);
    Files.writeString(f, "2", StandardOpenOption.APPEND);
    assertTrue(Files.getLastModifiedTime(f).compareTo(f1) > 0, "a write must move mtime");
  }

  @Test
  void names_255BytesWork_256Fail_unicodeRoundTrips() throws IOException {
    String n255 = "n".repeat(255);
    Files.writeString(path(n255), "long");
    assertEquals("long", Files.readString(path(n255)));
    FileSystemException e = assertThrows(FileSystemException.class,
        () -> Files.writeString(path("n".repeat(256)), "x"));
    assertTrue(String.valueOf(e.getReason()).contains("File name too long"), e.toString());
    String uni = "Grüße-日本語-😀-Ω";
    Files.writeString(path(uni), "u");
    try (Stream<Path> s = Files.list(root())) {
      assertTrue(s.anyMatch(p -> p.getFileName().toString().equals(uni)));
    }
  }

  @Test
  void deepTree_pathLongerThanPathMax_works() throws IOException {
    String comp = "d".repeat(200);
    // Java hands whole paths to the kernel, which refuses more than PATH_MAX; a shell walks relative.
    String out = assertDoesNotFail(() -> runIn(root(), "bash", "-c",
        "for i in $(seq 25); do mkdir " + comp + " && cd " + comp + " || exit 1; done; "
            + "echo deep > f && cat f && pwd | wc -c"));
    String[] lines = out.split("\n");
    assertEquals("deep", lines[0]);
    assertTrue(Integer.parseInt(lines[1].trim()) > 4096, "path length " + lines[1]);
  }

  private static String runIn(Path dir, String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), out);
    return out;
  }

  @Test
  void fifo_createdWithMkfifo_passesData() throws Exception {
    Path fifo = path("pipe");
    run("mkfifo", fifo.toString());
    assertEquals("fifo", run("stat", "-c", "%F", fifo.toString()));
    assertEquals("through the pipe", runIn(root(), "bash", "-c",
        "(echo 'through the pipe' > pipe &) ; cat pipe"));
  }

  @Test
  void statfs_reportsRealSpace() throws Exception {
    String[] df = run("df", "-B1", "--output=size,avail,fstype", root().toString()).split("\n")[1].trim()
        .split("\\s+");
    long size = Long.parseLong(df[0]);
    long avail = Long.parseLong(df[1]);
    long expected = expectedTotalSpace();
    assertTrue(Math.abs(size - expected) <= expected / 100, "df size " + size + " vs expected " + expected);
    assertTrue(avail > 0 && avail <= size);
    assertEquals("fuse.dynamicfs", df[2]);
  }

  @Test
  void fsync_andFdatasync_succeed() throws IOException {
    Path f = path("sync");
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(random(7, 200_000)));
      ch.force(true);
      ch.write(ByteBuffer.wrap(random(8, 10)));
      ch.force(false);
    }
    assertEquals(200_010, Files.size(f));
  }

  @Test
  void ctime_movesOnLinkAndRename() throws Exception {
    Path f = path("c");
    Files.writeString(f, "c");
    FileTime c0 = ctime(f);
    Thread.sleep(20);
    Files.createLink(path("c2"), f);
    FileTime c1 = ctime(f);
    assertTrue(c1.compareTo(c0) > 0, "link must move ctime");
    Thread.sleep(20);
    Files.move(f, path("c3"));
    assertNotEquals(c1, ctime(path("c3")), "rename must move ctime");
  }
}
