package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Attr;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.FormatOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * fallocate reserves: a reservation is accounted in st_blocks and taken off statfs, writing into it does
 * not grow st_blocks, truncate and unlink release it, it survives a reopen, a request larger than the
 * free space is ENOSPC, and once granted, writes into the range succeed while writes elsewhere get ENOSPC
 * rather than the reserved space. DATA lives on a small tmpfs, whose free space only this test changes.
 */
class FallocateTest {
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final Caller OTHER = new Caller(2000, 2000, 43);
  private static final int O_RDONLY = 0;
  private static final int O_RDWR = 2;
  private static final int BS = 64 << 10;
  private static final long ROOT = FileSystem.ROOT_INO;

  @TempDir Path tmp;
  private Path data;
  private boolean mounted;
  private DynamicFileSystemTest.Engine engine;
  private DynamicFileSystem fs;

  /** A fresh engine on a tmpfs of {@code size} (an assumption, reported, where tmpfs cannot be mounted). */
  private void start(String size) throws Exception {
    data = Files.createDirectories(tmp.resolve("data"));
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", data.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    Assumptions.assumeTrue(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0,
        "cannot mount a tmpfs here (needs root): " + out);
    mounted = true;
    engine = new DynamicFileSystemTest.Engine(data, new FormatOptions(BS, Codec.LZ4, 4096));
    engine.options = new EngineOptions(UnaryOperator.identity(), TimeSource.SYSTEM, 2, Duration.ofSeconds(5),
        4L << 20);
    fs = engine.reopen();
  }

  @AfterEach
  void fsckCloseUnmount() throws Exception {
    try {
      if (engine != null) {
        try {
          Fsck.Report r = engine.fsckOnDisk();
          assertEquals(List.of(), r.problems(), "fsck after the test");
        } finally {
          engine.close();
        }
      }
    } finally {
      if (mounted) {
        new ProcessBuilder("umount", "-l", data.toString()).start().waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  private long usable() throws IOException {
    return Files.getFileStore(data).getUsableSpace();
  }

  private long reserved() throws FsException {
    return fs.metadata().reservedBytes();
  }

  private static Errno errno(org.junit.jupiter.api.function.Executable e) {
    return assertThrows(FsException.class, e).errno();
  }

  @Test
  void reservation_countsInStBlocksAndStatfs_writesUseIt_truncateAndUnlinkRelease_survivesReopen()
      throws Exception {
    start("64m");
    OpenResult r = fs.create(ME, ROOT, "f", 0644, O_RDWR);
    long ino = r.attr().ino();
    long h = r.handle();
    long before = usable();
    fs.fallocate(ME, h, 0, 10, 3L * BS); // touches blocks 0..3
    Attr a = fs.getattr(ino);
    assertEquals(10 + 3L * BS, a.size());
    assertEquals(4L * BS / 512, a.blocks(), "whole reserved blocks in st_blocks");
    assertEquals(4L * BS, reserved());
    assertEquals(before, usable(), "nothing written to the device");
    assertEquals(usable() - 4L * BS, fs.statfs().availableBytes(), "statfs takes the reservation off");

    byte[] data1 = new byte[100_000];
    new Random(1).nextBytes(data1);
    assertEquals(data1.length, fs.write(h, BS + 5, data1, 0, data1.length));
    fs.flush(h);
    assertEquals(4L * BS / 512, fs.getattr(ino).blocks(), "writing into the range does not grow st_blocks");
    assertEquals(4L * BS - data1.length - 5, reserved(), "the written bytes used the reservation up");
    fs.fallocate(ME, h, 0, 0, 2L * BS); // already reserved: nothing more
    assertEquals(4L * BS - data1.length - 5, reserved());
    fs.release(h);

    fs = engine.reopen();
    assertEquals(4L * BS / 512, fs.getattr(ino).blocks(), "the reservation is metadata: it survives a restart");
    assertEquals(4L * BS - data1.length - 5, reserved());
    long h2 = fs.open(ME, ino, O_RDWR);
    byte[] back = new byte[data1.length];
    assertEquals(back.length, fs.read(h2, BS + 5, back, 0, back.length));
    assertArrayEquals(data1, back);
    byte[] zeros = new byte[5];
    assertEquals(5, fs.read(h2, BS, zeros, 0, 5));
    assertArrayEquals(new byte[5], zeros, "reserved, never written: zeros");

    fs.setattr(ME, ino, SetAttr.truncate(BS + 7), h2); // releases blocks 2 and 3
    assertEquals(2L * BS / 512, fs.getattr(ino).blocks());
    assertEquals(2L * BS - 7, reserved(), "block 1 now holds its first 7 bytes; block 0 none");
    fs.release(h2);
    fs.unlink(ROOT, "f");
    assertEquals(0, reserved());
    assertEquals(usable(), fs.statfs().availableBytes());
  }

  @Test
  void keepSize_reservesPastTheEnd_sizeUnchanged_truncateToTheSameSizeReleasesIt() throws Exception {
    start("64m");
    OpenResult r = fs.create(ME, ROOT, "k", 0644, O_RDWR);
    long h = r.handle();
    byte[] five = {1, 2, 3, 4, 5};
    fs.write(h, 0, five, 0, 5);
    fs.fallocate(ME, h, FileSystem.FALLOC_FL_KEEP_SIZE, 0, 8L * BS);
    Attr a = fs.getattr(r.attr().ino());
    assertEquals(5, a.size(), "KEEP_SIZE");
    assertEquals(8L * BS / 512, a.blocks());
    assertEquals(8L * BS - 5, reserved());
    fs.setattr(ME, r.attr().ino(), SetAttr.truncate(5), h); // ext4 also drops preallocation past EOF here
    assertEquals(BS / 512, fs.getattr(r.attr().ino()).blocks(), "the block holding the 5 bytes stays reserved");
    assertEquals(BS - 5, reserved());
    byte[] back = new byte[10];
    assertEquals(5, fs.read(h, 0, back, 0, 10));
    fs.release(h);
  }

  @Test
  void moreThanFree_isEnospc_andChangesNothing_badRequestsFailAsLinux() throws Exception {
    start("64m");
    OpenResult r = fs.create(ME, ROOT, "big", 0644, O_RDWR);
    long h = r.handle();
    long free = fs.statfs().availableBytes();
    assertEquals(Errno.ENOSPC, errno(() -> fs.fallocate(ME, h, 0, 0, free + 16L * BS)));
    assertEquals(Errno.ENOSPC, errno(() -> fs.fallocate(ME, h, 0, 0, 1L << 50)));
    assertEquals(0, fs.getattr(r.attr().ino()).size());
    assertEquals(0, fs.getattr(r.attr().ino()).blocks());
    assertEquals(0, reserved());
    fs.fallocate(ME, h, 0, 0, free / 2);
    assertEquals(Errno.ENOSPC, errno(() -> fs.fallocate(ME, h, 0, free / 2 + BS, free / 2 + 8L * BS)),
        "the first reservation is taken off what the second may have");

    assertEquals(Errno.EOPNOTSUPP, errno(() -> fs.fallocate(ME, h, 0x02, 0, BS))); // PUNCH_HOLE needs KEEP_SIZE
    assertEquals(Errno.EOPNOTSUPP, errno(() -> fs.fallocate(ME, h, 0x02 | 0x10 | 0x01, 0, BS))); // with ZERO_RANGE
    assertEquals(Errno.EOPNOTSUPP, errno(() -> fs.fallocate(ME, h, 0x08, 0, BS))); // COLLAPSE_RANGE
    assertEquals(Errno.EINVAL, errno(() -> fs.fallocate(ME, h, 0, 0, 0)));
    assertEquals(Errno.EINVAL, errno(() -> fs.fallocate(ME, h, 0, -1, BS)));
    long max = FileSystem.maxFileSize(BS);
    assertEquals(Errno.EFBIG, errno(() -> fs.fallocate(ME, h, 0, max - 10, 11)));
    assertEquals(Errno.EFBIG, errno(() -> fs.fallocate(ME, h, 0, Long.MAX_VALUE - 5, 10)));
    long ro = fs.open(ME, r.attr().ino(), O_RDONLY);
    assertEquals(Errno.EBADF, errno(() -> fs.fallocate(ME, ro, 0, 0, BS)));
    fs.release(ro);
    fs.release(h);
  }

  @Test
  void setuidAndSetgid_clearedByAnUnprivilegedCallersFallocate_keptForRoot() throws Exception {
    start("32m");
    OpenResult r = fs.create(Caller.ROOT, ROOT, "s", 06666, O_RDWR);
    long ino = r.attr().ino();
    fs.setattr(Caller.ROOT, ino, SetAttr.chmod(06666), r.handle());
    fs.fallocate(Caller.ROOT, r.handle(), 0, 0, 100);
    assertEquals(06666, fs.getattr(ino).mode() & 07777, "root (CAP_FSETID) keeps both");
    long h = fs.open(OTHER, ino, O_RDWR);
    fs.fallocate(OTHER, h, 0, 0, 200);
    assertEquals(0666, fs.getattr(ino).mode() & 07777, "group not executable, caller not in the group");
    assertEquals(200, fs.getattr(ino).size());
    fs.setattr(Caller.ROOT, ino, SetAttr.chmod(02666), h);
    Caller member = new Caller(3000, 0, 44); // in the file's group (0): set-group-ID stays, as on Linux
    fs.fallocate(member, h, FileSystem.FALLOC_FL_KEEP_SIZE, 0, 300);
    assertEquals(02666, fs.getattr(ino).mode() & 07777);
    fs.setattr(Caller.ROOT, ino, SetAttr.chmod(02676), h);
    fs.fallocate(member, h, FileSystem.FALLOC_FL_KEEP_SIZE, 0, 300);
    assertEquals(0676, fs.getattr(ino).mode() & 07777, "group-executable: cleared even for a member");
    fs.release(h);
    fs.release(r.handle());
  }

  @Test
  void granted_writesIntoTheRangeSucceed_whileWritesElsewhereGetEnospcNotTheReservedSpace() throws Exception {
    start("48m");
    OpenResult f = fs.create(ME, ROOT, "reserved", 0644, O_RDWR);
    long avail = fs.statfs().availableBytes();
    long want = (avail - (12L << 20)) / BS * BS;
    fs.fallocate(ME, f.handle(), 0, 0, want);
    assertEquals(want, reserved());

    OpenResult g = fs.create(ME, ROOT, "other", 0644, O_RDWR);
    byte[] chunk = new byte[128 << 10];
    Random rnd = new Random(7);
    long written = 0;
    FsException refused = null;
    try {
      for (int i = 0; i < 1000; i++) { // 125 MiB: far more than is left
        rnd.nextBytes(chunk);
        written += fs.write(g.handle(), written, chunk, 0, chunk.length);
      }
    } catch (FsException e) {
      refused = e;
    }
    assertTrue(refused != null, "the unreserved writer was stopped after " + written + " bytes");
    assertEquals(Errno.ENOSPC, refused.errno(), refused.getMessage());
    fs.fsync(g.handle(), false);

    // The whole reserved range takes incompressible data, and it is durable.
    long pos = 0;
    Random content = new Random(11);
    while (pos < want) {
      content.nextBytes(chunk);
      int n = (int) Math.min(chunk.length, want - pos);
      assertEquals(n, fs.write(f.handle(), pos, chunk, 0, n));
      pos += n;
    }
    fs.fsync(f.handle(), false);
    assertEquals(0, reserved(), "all of it used");
    assertEquals(want / 512, fs.getattr(f.attr().ino()).blocks());
    fs.release(f.handle());
    fs.release(g.handle());

    fs = engine.reopen();
    long h = fs.open(ME, f.attr().ino(), O_RDONLY);
    Random expect = new Random(11);
    byte[] got = new byte[chunk.length];
    for (long p = 0; p < want; p += chunk.length) {
      expect.nextBytes(chunk);
      int n = (int) Math.min(chunk.length, want - p);
      assertEquals(n, fs.read(h, p, got, 0, n));
      assertArrayEquals(java.util.Arrays.copyOf(chunk, n), java.util.Arrays.copyOf(got, n), "at " + p);
    }
    fs.release(h);
  }
}
