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

/** A real DynamicFS through the low-level binding: the POSIX behaviour the kernel sees. */
class LowLevelMountTest extends MountedTestBase {

  private static int nlink(Path p) throws IOException {
    return (Integer) Files.getAttribute(p, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
  }

  private static long ino(Path p) throws IOException {
    return (Long) Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
  }

  @Test
  void createWriteReadRemount() throws IOException {
    byte[] data = new byte[3 << 20];
    new Random(7).nextBytes(data);
    Path f = fs.path("big.bin");
    Files.write(f, data);
    assertArrayEquals(data, Files.readAllBytes(f));
    Files.writeString(fs.path("small.txt"), "hello");
    assertEquals(List.of("big.bin", "small.txt"), list(fs.mnt));
    fs.remount();
    assertArrayEquals(data, Files.readAllBytes(fs.path("big.bin")));
    assertEquals("hello", Files.readString(fs.path("small.txt")));
    assertEquals(data.length, Files.size(fs.path("big.bin")));
  }

  @Test
  void hardLinkNlinkThroughBothNamesImmediately() throws IOException {
    Path a = fs.path("a");
    Files.writeString(a, "x");
    assertEquals(1, nlink(a));
    Path b = fs.path("b");
    Files.createLink(b, a);
    assertEquals(2, nlink(a));
    assertEquals(2, nlink(b));
    assertEquals(ino(a), ino(b));
    Path c = fs.path("c");
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
    Files.createDirectories(fs.path("d1/sub"));
    Files.writeString(fs.path("d1/sub/f"), "content");
    Files.move(fs.path("d1/sub/f"), fs.path("d1/g"));
    assertFalse(Files.exists(fs.path("d1/sub/f")));
    assertEquals("content", Files.readString(fs.path("d1/g")));
    Files.move(fs.path("d1"), fs.path("d2"));
    assertEquals("content", Files.readString(fs.path("d2/g")));
    assertTrue(Files.isDirectory(fs.path("d2/sub")));
    Files.writeString(fs.path("d2/h"), "other");
    Files.move(fs.path("d2/h"), fs.path("d2/g"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    assertEquals("other", Files.readString(fs.path("d2/g")));
  }

  @Test
  void mkdirRmdirNotEmpty() throws IOException {
    Path d = Files.createDirectory(fs.path("dir"));
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
    assertThrows(IOException.class, () -> Files.createDirectory(fs.path("nope/deeper")));
  }

  @Test
  void symlink() throws IOException {
    Files.writeString(fs.path("target"), "t");
    Path l = Files.createSymbolicLink(fs.path("link"), Path.of("target"));
    assertTrue(Files.isSymbolicLink(l));
    assertEquals(Path.of("target"), Files.readSymbolicLink(l));
    assertEquals("t", Files.readString(l));
  }

  @Test
  void xattrs() throws IOException {
    Path f = Files.writeString(fs.path("x"), "x");
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
    Path f = Files.writeString(fs.path("m"), "m");
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
    Path f = fs.path("t");
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
    Path f = fs.path("open");
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
    assertEquals(List.of(), list(fs.mnt));
  }

  @Test
  void fstatOfOpenFileAndDirectory_replacedByRenameOrRemoved_answersNlinkZeroUntilClosed() throws Exception {
    String py = String.join("\n",
        "import os,sys,time",
        "m=sys.argv[1]",
        "open(m+'/a','w').write('new'); open(m+'/b','w').write('old!')",
        "fd=os.open(m+'/b',os.O_RDONLY)",
        "os.rename(m+'/a',m+'/b')",
        "time.sleep(1.2)  # past the kernel's attribute cache: fstat asks the daemon",
        "st=os.fstat(fd); assert st.st_nlink==0 and st.st_size==4, st",
        "assert os.pread(fd,10,0)==b'old!'",
        "os.close(fd)",
        "os.mkdir(m+'/d'); os.mkdir(m+'/e')",
        "dfd=os.open(m+'/d',os.O_RDONLY|os.O_DIRECTORY)",
        "efd=os.open(m+'/e',os.O_RDONLY|os.O_DIRECTORY)",
        "os.rmdir(m+'/d')",
        "os.mkdir(m+'/x'); os.rename(m+'/x',m+'/e')",
        "time.sleep(1.2)",
        "for fd in (dfd,efd):",
        "  st=os.fstat(fd); assert st.st_nlink==0, st",
        "  try:",
        "    os.mkdir('x', dir_fd=fd); raise SystemExit('mkdir in a removed directory worked')",
        "  except FileNotFoundError: pass",
        "  assert os.listdir(fd)==[], os.listdir(fd)",
        "  os.close(fd)",
        "print('ok')");
    assertEquals("ok", run("python3", "-c", py, fs.mnt.toString()).strip());
    assertEquals(List.of("b", "e"), list(fs.mnt));
    assertEquals(3, nlink(fs.mnt));
  }

  @Test
  void largestFile_bytesBelowTheLimitStored_atOrBeyondItEfbig_beforeAndAfterRemount() throws Exception {
    long max = io.dynamicfs.core.api.FileSystem.maxFileSize(io.dynamicfs.core.format.FormatOptions.DEFAULT.blockSize());
    String py = String.join("\n",
        "import os,sys,errno",
        "p=sys.argv[1]; mx=int(sys.argv[2])",
        "def efbig(f,*a):",
        "  try: f(*a)",
        "  except OSError as e:",
        "    assert e.errno==errno.EFBIG, e; return",
        "  raise SystemExit('no EFBIG from %s%r' % (f.__name__, a))",
        "fd=os.open(p,os.O_RDWR|os.O_CREAT,0o644)",
        "efbig(os.ftruncate,fd,2**63-1)",
        "efbig(os.ftruncate,fd,mx+1)",
        "assert os.fstat(fd).st_size==0",
        "os.ftruncate(fd,mx)",
        "assert os.pwrite(fd,b'z',mx-1)==1",
        "efbig(os.pwrite,fd,b'y',mx)",
        "efbig(os.pwrite,fd,b'y',2**63-2)",
        "assert os.pwrite(fd,b'abc',mx-3)==3",
        "assert os.pwrite(fd,b'BCD',mx-2)==2  # crossing the limit: what fits",
        "assert os.pread(fd,10,mx-4)==b'\\0aBC', os.pread(fd,10,mx-4)",
        "os.close(fd)",
        "print('ok')");
    Path f = fs.path("edge");
    assertEquals("ok", run("python3", "-c", py, f.toString(), Long.toString(max)).strip());
    fs.remount();
    assertEquals(max, Files.size(f));
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(10);
      assertEquals(4, ch.read(b, max - 4));
      assertArrayEquals(new byte[] {0, 'a', 'B', 'C'}, java.util.Arrays.copyOf(b.array(), 4));
    }
    assertTrue(Files.getAttribute(f, "unix:size").equals(max));
    String after = String.join("\n",
        "import os,sys,errno",
        "p=sys.argv[1]; mx=int(sys.argv[2])",
        "fd=os.open(p,os.O_RDWR)",
        "for f,a in ((os.pwrite,(fd,b'y',mx)),(os.ftruncate,(fd,mx+1)),(os.posix_fallocate,(fd,mx-1,2))):",
        "  try: f(*a); raise SystemExit('no EFBIG after remount from %s' % f.__name__)",
        "  except OSError as e: assert e.errno==errno.EFBIG, e",
        "assert os.pwrite(fd,b'Q',mx-1)==1",
        "os.close(fd)",
        "print('ok')");
    assertEquals("ok", run("python3", "-c", after, f.toString(), Long.toString(max)).strip());
    fs.remount();
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.allocate(10);
      assertEquals(4, ch.read(b, max - 4));
      assertArrayEquals(new byte[] {0, 'a', 'B', 'Q'}, java.util.Arrays.copyOf(b.array(), 4));
    }
  }

  /** Bytes the mount's statfs reports below its DATA's filesystem: what fallocate has reserved. */
  private long reservedAsSeenByStatfs() throws IOException {
    String py = "import os,sys\n"
        + "a=os.statvfs(sys.argv[1]); b=os.statvfs(sys.argv[2])\n"
        + "print(b.f_bavail*b.f_frsize - a.f_bavail*a.f_frsize)\n";
    return Long.parseLong(run("python3", "-c", py, fs.mnt.toString(), fs.data.toString()).strip());
  }

  @Test
  void fallocate_reservesSpace_enospcBeyondFree_stBlocksAndStatfs_releasedByTruncateAndUnlink_survivesRemount()
      throws Exception {
    long slack = 2 << 20; // other processes may write to the disk between the two statvfs calls
    Path f = fs.path("pre");
    String py = String.join("\n",
        "import os,sys,errno",
        "p=sys.argv[1]",
        "fd=os.open(p,os.O_RDWR|os.O_CREAT,0o644)",
        "st=os.statvfs(os.path.dirname(p)); free=st.f_bavail*st.f_frsize",
        "try:",
        "  os.posix_fallocate(fd,0,free+(1<<30)); raise SystemExit('no ENOSPC for more than the free space')",
        "except OSError as e: assert e.errno==errno.ENOSPC, e",
        "assert os.fstat(fd).st_size==0 and os.fstat(fd).st_blocks==0, os.fstat(fd)",
        "os.posix_fallocate(fd,0,8<<20)",
        "st=os.fstat(fd); assert st.st_size==8<<20 and st.st_blocks*512==8<<20, st",
        "os.pwrite(fd,os.urandom(1<<20),3<<20); os.fsync(fd)",
        "st=os.fstat(fd); assert st.st_blocks*512==8<<20, st",
        "os.close(fd)",
        "print('ok')");
    assertEquals("ok", run("python3", "-c", py, f.toString()).strip());
    long reserved = reservedAsSeenByStatfs();
    assertTrue(Math.abs(reserved - (7 << 20)) < slack, "7 MiB still promised, statfs shows " + reserved);
    fs.remount();
    assertEquals(8L << 20, (Long) Files.getAttribute(f, "unix:size"));
    assertEquals("16384", run("stat", "-c", "%b", f.toString()).strip(), "st_blocks after remount");
    reserved = reservedAsSeenByStatfs();
    assertTrue(Math.abs(reserved - (7 << 20)) < slack, "the reservation survived the remount: " + reserved);
    run("truncate", "-s", "2M", f.toString());
    assertEquals("4096", run("stat", "-c", "%b", f.toString()).strip());
    Path k = Files.createFile(fs.path("keep"));
    run("fallocate", "-n", "-l", "4M", k.toString()); // KEEP_SIZE
    assertEquals(0, Files.size(k));
    assertEquals("8192", run("stat", "-c", "%b", k.toString()).strip());
    Files.delete(f);
    Files.delete(k);
    reserved = reservedAsSeenByStatfs();
    assertTrue(Math.abs(reserved) < slack, "unlink released everything: " + reserved);
  }

  /**
   * An unprivileged fallocate clears set-user-ID, and set-group-ID when the file is group-executable or the
   * caller is not in its group (ext4's rule), and stat shows it at once, not after the attribute timeout.
   */
  @Test
  void fallocate_byAnotherUser_clearsSetuidAndSetgid_seenAtOnce() throws Exception {
    java.nio.file.Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
    String[][] cases = {{"6666", "fallocate -l 1M", "666"}, {"6666", "fallocate -n -l 2M", "666"},
        {"6676", "fallocate -l 1M", "676"}, {"2666", "fallocate -l 1M", "666"}};
    int n = 0;
    for (String[] c : cases) {
      Path f = fs.path("sg" + n++);
      Files.writeString(f, "x");
      run("chmod", c[0], f.toString());
      assertEquals(c[0], run("stat", "-c", "%a", f.toString()).strip());
      List<String> cmd = new java.util.ArrayList<>(List.of("runuser", "-u", "nobody", "--"));
      cmd.addAll(List.of(c[1].split(" ")));
      cmd.add(f.toString());
      run(cmd.toArray(String[]::new));
      assertEquals(c[2], run("stat", "-c", "%a", f.toString()).strip(), c[0] + " after " + c[1] + " by nobody");
    }
    Path own = fs.path("root-keeps");
    Files.writeString(own, "x");
    run("chmod", "6666", own.toString());
    run("fallocate", "-l", "1M", own.toString());
    assertEquals("6666", run("stat", "-c", "%a", own.toString()).strip(), "root (CAP_FSETID) keeps both");
  }

  private static final String HANDLES_C = String.join("\n",
      "#define _GNU_SOURCE",
      "#include <errno.h>",
      "#include <fcntl.h>",
      "#include <stdio.h>",
      "#include <stdlib.h>",
      "#include <string.h>",
      "#include <sys/stat.h>",
      "#include <unistd.h>",
      "int main(int argc, char **argv) {",
      "  if (argc == 3 && !strcmp(argv[1], \"get\")) {",
      "    struct file_handle *h = malloc(sizeof(*h) + MAX_HANDLE_SZ);",
      "    h->handle_bytes = MAX_HANDLE_SZ; int mnt;",
      "    if (name_to_handle_at(AT_FDCWD, argv[2], h, &mnt, 0) != 0) { printf(\"errno %d\\n\", errno); return 3; }",
      "    printf(\"%d:\", h->handle_type);",
      "    for (unsigned i = 0; i < h->handle_bytes; i++) printf(\"%02x\", h->f_handle[i]);",
      "    printf(\"\\n\"); return 0;",
      "  }",
      "  if (argc == 4 && !strcmp(argv[1], \"open\")) {",
      "    int mfd = open(argv[2], O_RDONLY | O_DIRECTORY);",
      "    const char *hex = strchr(argv[3], ':') + 1; size_t n = strlen(hex) / 2;",
      "    struct file_handle *h = malloc(sizeof(*h) + n);",
      "    h->handle_bytes = n; h->handle_type = atoi(argv[3]);",
      "    for (size_t i = 0; i < n; i++) sscanf(hex + 2 * i, \"%2hhx\", &h->f_handle[i]);",
      "    int fd = open_by_handle_at(mfd, h, O_RDONLY);",
      "    if (fd < 0) { printf(\"errno %d\\n\", errno); return 0; }",
      "    struct stat st; fstat(fd, &st);",
      "    char buf[256]; ssize_t r = S_ISDIR(st.st_mode) ? 0 : read(fd, buf, sizeof buf - 1);",
      "    buf[r < 0 ? 0 : r] = 0;",
      "    printf(\"ino %lu nlink %lu %s:%s\\n\", (unsigned long) st.st_ino, (unsigned long) st.st_nlink,",
      "        S_ISDIR(st.st_mode) ? \"dir\" : \"file\", buf);",
      "    return 0;",
      "  }",
      "  return 2;",
      "}");

  /**
   * name_to_handle_at / open_by_handle_at (what an NFS server re-exporting the mount does): a handle opens
   * its file or directory again, also after an unmount and mount of the same DATA (the kernel then knows
   * nothing and looks the inode up by number, "." of it); a removed file's handle is ESTALE.
   */
  @Test
  void fileHandles_openByHandle_alsoAfterRemount_removedIsEstale() throws Exception {
    Path src = base.resolve("handles.c");
    Path exe = base.resolve("handles");
    Files.writeString(src, HANDLES_C);
    Process cc;
    try {
      cc = new ProcessBuilder("gcc", "-O", "-o", exe.toString(), src.toString()).redirectErrorStream(true).start();
    } catch (IOException e) {
      org.junit.jupiter.api.Assumptions.abort("no C compiler (gcc) to call name_to_handle_at: " + e.getMessage());
      return;
    }
    String ccOut = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, cc.waitFor(), ccOut);

    Files.createDirectory(fs.path("d"));
    Path f = Files.writeString(fs.path("d", "file"), "by handle", StandardCharsets.UTF_8);
    Path gone = Files.writeString(fs.path("gone"), "x");
    Path d = f.getParent();
    String hf = run(exe.toString(), "get", f.toString()).strip();
    String hd = run(exe.toString(), "get", d.toString()).strip();
    String hg = run(exe.toString(), "get", gone.toString()).strip();
    assertTrue(hf.matches("\\d+:[0-9a-f]+"), hf);
    long fi = ino(f);
    long di = ino(d);
    assertEquals("ino " + fi + " nlink 1 file:by handle", run(exe.toString(), "open", fs.mnt.toString(), hf).strip());
    Files.delete(gone);

    fs.remount(); // a new kernel superblock: no inode is cached, every handle goes through lookup of "."
    assertEquals("ino " + fi + " nlink 1 file:by handle", run(exe.toString(), "open", fs.mnt.toString(), hf).strip());
    assertEquals("ino " + di + " nlink 2 dir:", run(exe.toString(), "open", fs.mnt.toString(), hd).strip());
    assertEquals("errno 116", run(exe.toString(), "open", fs.mnt.toString(), hg).strip(), "ESTALE");
    assertEquals("by handle", Files.readString(f));
  }

  @Test
  void statfs() throws IOException {
    FileStore store = Files.getFileStore(fs.mnt);
    FileStore disk = Files.getFileStore(fs.data); // one copy on one device under DATA: the same space
    assertTrue(store.getTotalSpace() > 0);
    assertTrue(Math.abs(store.getTotalSpace() - disk.getTotalSpace()) < 2 * 4096,
        store.getTotalSpace() + " vs the disk's " + disk.getTotalSpace());
    long usable = store.getUsableSpace();
    long diskUsable = disk.getUsableSpace();
    // other processes may write to the disk between the two calls
    assertTrue(Math.abs(usable - diskUsable) < (64L << 20), usable + " vs the disk's " + diskUsable);
    assertEquals("fuse.dynamicfs", store.type());
    String out = run("stat", "-f", "-c", "%l %b", fs.mnt.toString());
    assertTrue(out.startsWith("255 "), out);
  }

  @Test
  void manyEntriesReaddir() throws IOException {
    Path d = Files.createDirectory(fs.path("many"));
    for (int i = 0; i < 1500; i++) {
      Files.writeString(d.resolve("file-with-a-longish-name-" + i), "");
    }
    assertEquals(1500, list(d).size());
    assertTrue(run("ls", "-a", d.toString()).lines().anyMatch(".."::equals));
  }

  @Test
  void readdirDotDotNamesTheParent_alsoAfterTheDirectoryMoved() throws IOException {
    Path a = Files.createDirectory(fs.path("a"));
    Path b = Files.createDirectory(a.resolve("b"));
    Path c = Files.createDirectory(fs.path("c"));
    assertEquals(ino(a), dotDotInListing(b));
    assertEquals(ino(fs.mnt), dotDotInListing(a));
    Path moved = Files.move(b, c.resolve("b"));
    assertEquals(ino(c), dotDotInListing(moved));
  }

  /** The inode number readdir gives for ".." ({@code ls -ai} prints what getdents returned). */
  private long dotDotInListing(Path dir) throws IOException {
    return run("ls", "-ai1", dir.toString()).lines().map(String::trim).filter(l -> l.endsWith(" .."))
        .mapToLong(l -> Long.parseLong(l.substring(0, l.indexOf(' ')))).findFirst()
        .orElseThrow(() -> new AssertionError("no '..' in the listing of " + dir));
  }

  @Test
  void fuseMountDelegatesWhenPropertySet() throws IOException {
    fs.close();
    Path mnt = base.resolve("mnt");
    String before = System.getProperty("dfs.fuse.api");
    System.setProperty("dfs.fuse.api", "lowlevel");
    try (io.dynamicfs.core.format.DataDirectory dir =
            io.dynamicfs.core.format.DataDirectory.open(base.resolve("data"), null);
        io.dynamicfs.core.engine.DynamicFileSystem engine = io.dynamicfs.core.engine.DynamicFileSystem.open(dir,
            io.dynamicfs.core.engine.EngineOptions.defaults())) {
      FuseMount m = FuseMount.mount(engine, mnt, io.dynamicfs.fuse.MountOptions.defaults("dynamicfs:hook"));
      try {
        assertTrue(m.isAlive());
        assertEquals(mnt.toAbsolutePath().normalize(), m.mountPoint());
        assertTrue(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("fuse-ll-")),
            "low-level workers running");
        Files.writeString(mnt.resolve("f"), "via hook");
        assertEquals("via hook", Files.readString(mnt.resolve("f")));
      } finally {
        m.close();
      }
      assertFalse(m.isAlive());
      assertFalse(FuseMount.isMounted(mnt));
    } finally {
      if (before == null) {
        System.clearProperty("dfs.fuse.api");
      } else {
        System.setProperty("dfs.fuse.api", before);
      }
    }
  }

  private static List<String> list(Path d) throws IOException {
    try (Stream<Path> s = Files.list(d)) {
      return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
    }
  }

  private static String run(String... cmd) throws IOException {
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
