package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.fuse.FuseMount;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line: bad input gets one clear line and exit code 2, and nothing is touched or mounted. */
class CliTest {
  @TempDir
  Path tmp;

  private static CliRun.Result run(String... args) {
    return CliRun.run(args);
  }

  private Path dir(String name) throws Exception {
    return Files.createDirectories(tmp.resolve(name));
  }

  private static List<String> list(Path p) throws Exception {
    try (Stream<Path> s = Files.list(p)) {
      return s.map(x -> x.getFileName().toString()).sorted().toList();
    }
  }

  private static void assertUsageError(CliRun.Result r, String expected) {
    assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
    assertTrue(r.err().contains(expected), "stderr should mention '" + expected + "': " + r.err());
    assertTrue(r.err().startsWith("dynamicfs: "), r.err());
  }

  @Test
  void version_printsVersionAndFormat() {
    CliRun.Result r = run("--version");
    assertEquals(0, r.code());
    assertTrue(r.out().contains("dynamicfs") && r.out().contains("data format 1"), r.out());
  }

  @Test
  void help_onEveryCommand_explainsOptions() {
    for (String cmd : List.of("mount", "umount", "fsck")) {
      CliRun.Result r = run(cmd, "--help");
      assertEquals(0, r.code(), cmd);
      assertTrue(r.out().contains("Usage: dynamicfs " + cmd), r.out());
    }
    assertTrue(run("mount", "--help").out().contains("--compression"));
  }

  @Test
  void unknownOption_exit2() {
    assertUsageError(run("mount", "--no-such-option", "a", "b"), "Unknown option");
  }

  @Test
  void mount_missingMountPoint_exit2_dataUntouched() throws Exception {
    Path data = dir("data");
    assertUsageError(run("mount", data.toString(), tmp.resolve("nope").toString(), "--foreground"),
        "does not exist");
    assertEquals(List.of(), list(data), "DATA must not be formatted when the mount cannot happen");
  }

  @Test
  void mount_nonEmptyMountPoint_exit2() throws Exception {
    Path mnt = dir("mnt");
    Files.writeString(mnt.resolve("x"), "x");
    assertUsageError(run("mount", dir("data").toString(), mnt.toString(), "--foreground"), "not empty");
  }

  @Test
  void mount_dataNotDynamicFs_exit2_andNothingWritten() throws Exception {
    Path data = dir("data");
    Files.writeString(data.resolve("precious.txt"), "keep me");
    assertUsageError(run("mount", data.toString(), dir("mnt").toString(), "--foreground"),
        "not a DynamicFS data directory");
    assertEquals(List.of("precious.txt"), list(data));
  }

  @Test
  void mount_dataFromNewerFormat_exit2() throws Exception {
    Path data = dir("data");
    Files.writeString(data.resolve("dynamicfs.properties"),
        "format.version=99\nblock.size=1048576\ncompression=lz4\ninline.max=65536\n");
    assertUsageError(run("mount", data.toString(), dir("mnt").toString(), "--foreground"), "newer");
  }

  @Test
  void mount_dataInUse_exit2() throws Exception {
    Path data = dir("data");
    try (DataDirectory held = DataDirectory.open(data, FormatOptions.DEFAULT)) {
      assertUsageError(run("mount", data.toString(), dir("mnt").toString(), "--foreground"), "in use");
    }
  }

  @Test
  void mount_badBlockSizeOrCodec_exit2() throws Exception {
    assertUsageError(run("mount", dir("d1").toString(), dir("m1").toString(), "--block-size", "1000"),
        "power of two");
    assertUsageError(run("mount", dir("d2").toString(), dir("m2").toString(), "--compression", "brotli"),
        "unknown compression");
    assertUsageError(run("mount", dir("d3").toString(), dir("m3").toString(), "--cache-memory", "lots"),
        "is not a size");
  }

  @Test
  void fsck_notADataDirectory_exit2() throws Exception {
    assertUsageError(run("fsck", dir("empty").toString()), "not a DynamicFS data directory");
  }

  @Test
  void umount_notMounted_exit2() throws Exception {
    assertUsageError(run("umount", dir("mnt").toString()), "is not mounted");
  }

  @Test
  void backgroundMount_thenUmount_thenFsck_corruptSegment_reportsThePath() throws Exception {
    Path data = dir("data");
    Path mnt = dir("mnt");
    CliRun.Result m = run("mount", data.toString(), mnt.toString(), "--cache-memory", "16M");
    assertEquals(0, m.code(), m.toString());
    try {
      assertTrue(FuseMount.isMounted(mnt));
      byte[] content = new byte[3 << 20];
      new java.util.Random(1).nextBytes(content);
      Files.createDirectories(mnt.resolve("docs"));
      Files.write(mnt.resolve("docs/report.bin"), content);
    } finally {
      CliRun.Result u = run("umount", mnt.toString());
      assertEquals(0, u.code(), u.toString());
    }
    assertFalse(FuseMount.isMounted(mnt));
    assertEquals(0, run("fsck", data.toString()).code());
    // Flip one payload byte of the first record: fsck must name the file that owns the block.
    Path seg;
    try (Stream<Path> s = Files.list(data.resolve("blocks"))) {
      seg = s.filter(p -> p.getFileName().toString().startsWith("seg-")).sorted().findFirst().orElseThrow();
    }
    try (var ch = java.nio.channels.FileChannel.open(seg, java.nio.file.StandardOpenOption.READ,
        java.nio.file.StandardOpenOption.WRITE)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(1);
      ch.read(b, 1000);
      b.put(0, (byte) (b.get(0) ^ 0x55));
      b.rewind();
      ch.write(b, 1000);
    }
    CliRun.Result f = run("fsck", "-q", data.toString());
    assertEquals(1, f.code(), f.toString());
    assertTrue(f.out().contains("/docs/report.bin") && f.out().contains("corrupt"), f.out());
  }

  @Test
  void mount_segmentWithDamagedRecordHeader_refusedWithClearError_nothingMounted() throws Exception {
    Path data = dir("data");
    Path mnt = dir("mnt");
    assertEquals(0, run("mount", data.toString(), mnt.toString()).code());
    try {
      byte[] content = new byte[5 << 20];
      new java.util.Random(2).nextBytes(content);
      Files.write(mnt.resolve("f"), content);
    } finally {
      assertEquals(0, run("umount", mnt.toString()).code());
    }
    Path seg;
    try (Stream<Path> s = Files.list(data.resolve("blocks"))) {
      seg = s.filter(p -> p.getFileName().toString().startsWith("seg-")).sorted().findFirst().orElseThrow();
    }
    // The second record's header starts after the first record (header, frame table, 1 MiB of raw frames:
    // random bytes do not compress).
    long second = io.dynamicfs.core.block.SegmentStore.incompressibleRecordBytes(1 << 20);
    try (var ch = java.nio.channels.FileChannel.open(seg, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3, 4}), second + 20);
    }
    CliRun.Result m = run("mount", data.toString(), mnt.toString(), "--foreground");
    assertUsageError(m, "damaged at offset " + second);
    assertTrue(m.err().contains("fsck"), m.err());
    assertFalse(FuseMount.isMounted(mnt));
    CliRun.Result f = run("fsck", "-q", data.toString());
    assertEquals(1, f.code(), f.toString());
    assertTrue(f.out().contains("damaged at offset " + second), f.out());
  }
}
