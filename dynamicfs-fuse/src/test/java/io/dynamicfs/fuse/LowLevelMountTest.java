package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The low-level cases on a fresh single-node mount per case, the binding's selection property, and cases
 * of a single node's own (the largest file, fallocate reservations against DATA's disk, file handles, space).
 */
class LowLevelMountTest extends LowLevelCases {
  @TempDir
  Path base;
  MountedFs fs;

  @BeforeEach
  void mount() throws IOException {
    fs = MountedFs.mount(base);
  }

  @AfterEach
  void unmountAndCheck() throws IOException {
    MountedTestBase.unmountAndCheck(fs);
  }

  @Override
  public Path root() {
    return fs.mnt;
  }

  @Override
  public void remount() throws IOException {
    fs.remount();
  }

  @Override
  public long expectedTotalSpace() throws IOException {
    return Files.getFileStore(fs.data).getTotalSpace();
  }

  @Override
  public String fuseLibrary() {
    return fs.fuseLibrary();
  }

  @Override
  public void openPathToOthers() throws IOException {
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  /**
   * The close of a handle that cannot write makes no FLUSH round trip (libfuse 3 tells the kernel so at open:
   * FOPEN_NOFLUSH); a writer's close still flushes, and what it wrote is read back.
   */
  @Test
  void closeOfAReadOnlyHandle_sendsNoFlush_aWritersCloseDoes() throws IOException {
    org.junit.jupiter.api.Assumptions.assumeTrue(fs.fuseLibrary().equals("fuse3"),
        "libfuse 2 has no noflush open flag (this mount uses " + fs.fuseLibrary() + ")");
    Path f = fs.path("f");
    Files.writeString(f, "data");
    long before = fs.flushRequests();
    for (int i = 0; i < 5; i++) {
      assertEquals("data", Files.readString(f));
    }
    assertEquals(before, fs.flushRequests(), "five read-only opens and closes");
    Files.writeString(f, "more", StandardOpenOption.APPEND);
    assertEquals(before + 1, fs.flushRequests(), "a writer's close");
    assertEquals("datamore", Files.readString(f));
  }

  /**
   * The reader keeps reading the device for a spell after each request (DeviceSpin): a program's requests
   * one after another are mostly taken without the reader sleeping in between; after a quiet spell it
   * sleeps, and the next request still wakes it and is answered.
   */
  @Test
  void requestsBackToBack_areTakenWhileTheReaderSpins_afterAQuietSpellItSleepsAndWakes() throws Exception {
    Path d = Files.createDirectory(fs.path("spin"));
    long[] before = fs.deviceSpinCounts();
    for (int i = 0; i < 2000; i++) {
      assertFalse(Files.exists(d.resolve("missing-" + i)));
    }
    long[] loop = fs.deviceSpinCounts();
    assertTrue(loop[0] - before[0] >= 200, "of 2,000 lookups back to back, taken while spinning: "
        + (loop[0] - before[0]) + " (after sleeping: " + (loop[1] - before[1]) + ")");
    Thread.sleep(300);
    Files.writeString(d.resolve("after-quiet"), "woken");
    assertEquals("woken", Files.readString(d.resolve("after-quiet")));
    long[] after = fs.deviceSpinCounts();
    assertTrue(after[1] > loop[1], "a request after 300 ms of nothing finds the reader asleep: " + after[1]);
  }

  /**
   * The writeback cache, asked for (opt-in) on a high-performance mount, is granted on libfuse 3: the kernel
   * merges writes in its page cache, reads pages of a file opened write-only, handles O_APPEND, and owns size
   * and mtime until it sends them by setattr. After writes and close, content and size equal a plain directory's, the mtime
   * falls between the last write and the close as there, and all of it is what the daemon stored: the same
   * after a remount.
   */
  @Test
  void writebackCache_optedIn_sizeMtimeContentAfterWritesCloseRemount_matchAPlainDirectory()
      throws Exception {
    Path plain = Files.createDirectories(base.resolve("plain"));
    try (MountedFs hp = WritebackCache.mount(base.resolve("hp"))) {
      assertEquals(hp.fuseLibrary().equals("fuse3"), hp.writebackCache(), "writeback cache on libfuse 3 only");
      String py = String.join("\n",
          "import os,sys,random,time",
          "d=sys.argv[1]; r=random.Random(5)",
          "fd=os.open(d+'/w',os.O_WRONLY|os.O_CREAT,0o644)",
          "for i in range(200):",
          "  os.pwrite(fd,r.randbytes(r.randint(1,9000)),r.randint(0,3<<20))",
          "os.ftruncate(fd,(3<<20)+12345)",
          "os.pwrite(fd,b'tail',(3<<20)+12340)",
          "before=time.time_ns(); os.pwrite(fd,b'last',100); os.close(fd); after=time.time_ns()",
          "a=os.open(d+'/a',os.O_WRONLY|os.O_CREAT|os.O_APPEND,0o644)",
          "for i in range(50): os.write(a,r.randbytes(r.randint(1,5000)))",
          "os.close(a)",
          "m=os.stat(d+'/w').st_mtime_ns",
          "assert before-10**7<=m<=after+10**7, (before,m,after)",
          "print(m)");
      long mtime = Long.parseLong(run("python3", "-c", py, hp.mnt.toString()).strip());
      run("python3", "-c", py, plain.toString());
      for (String n : List.of("w", "a")) {
        assertEquals(Files.size(plain.resolve(n)), Files.size(hp.path(n)), n);
        assertArrayEquals(Files.readAllBytes(plain.resolve(n)), Files.readAllBytes(hp.path(n)), n);
      }
      hp.remount();
      assertEquals(Long.toString(mtime), run("python3", "-c", "import os,sys; print(os.stat(sys.argv[1]).st_mtime_ns)",
          hp.path("w").toString()).strip(), "the mtime the kernel showed is the one stored");
      for (String n : List.of("w", "a")) {
        assertEquals(Files.size(plain.resolve(n)), Files.size(hp.path(n)), n + " after remount");
        assertArrayEquals(Files.readAllBytes(plain.resolve(n)), Files.readAllBytes(hp.path(n)), n + " after remount");
      }
      hp.stop();
      assertFalse(FuseMount.isMounted(hp.mnt));
      FsckAssert.assertClean(hp.data);
    }
  }

  /**
   * On libfuse 3 the kernel reads a directory it has nothing of cached with readdirplus: listing alone (no
   * stat) hands it every entry with its attributes, each a counted lookup; on libfuse 2 a listing looks
   * nothing up.
   */
  @Test
  void listing_onFuse3_isReaddirplus_entriesCountAsKernelLookups() throws IOException {
    for (int i = 0; i < 20; i++) {
      Files.writeString(fs.path("f" + i), "x" + i);
    }
    long ino = ino(fs.path("f5"));
    fs.remount();
    assertEquals(0, fs.kernelLookups(ino));
    assertEquals(20, list(fs.mnt).size());
    if (fuseLibrary().equals("fuse3")) {
      assertEquals(1, fs.kernelLookups(ino), "readdirplus gave the kernel f5");
    } else {
      assertEquals(0, fs.kernelLookups(ino), "a plain readdir looks nothing up");
    }
    assertEquals("x5", Files.readString(fs.path("f5")));
    assertEquals(2, Files.size(fs.path("f5")));
  }

  /** libfuse 3 negotiates max_pages: one write() of 4 MiB arrives as 1 MiB requests (128 KiB on libfuse 2). */
  @Test
  void writeRequests_carryOneMebibyteOnFuse3_128KibOnFuse2() throws IOException {
    byte[] data = new byte[4 << 20];
    new java.util.Random(3).nextBytes(data);
    try (FileChannel ch = FileChannel.open(fs.path("w"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(data);
      while (b.hasRemaining()) {
        ch.write(b);
      }
    }
    long want = fuseLibrary().equals("fuse3") ? 1 << 20 : 128 << 10;
    assertEquals(want, fs.largestWriteRequest(), "largest write request on " + fuseLibrary());
    assertArrayEquals(data, Files.readAllBytes(fs.path("w")));
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
  void statfs_totalAndUsableSpaceFollowTheDiskUnderData() throws IOException {
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

}
