package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mount -t fuse.dynamicfs} and an fstab line, through the helper that scripts/install puts in place,
 * run by the real mount(8). mount(8) clears PATH and looks for helpers only in /sbin, so each test runs in a
 * private mount namespace (unshare) where the temporary install is laid over the system directories: the
 * machine's own /sbin and /usr/local/bin are never touched, and every mount vanishes with the namespace.
 */
class MountHelperTest {
  @TempDir
  static Path installed;
  static Path prefix;
  @TempDir
  Path tmp;
  Path data;
  Path mnt;

  /** scripts/install into a temporary prefix, running the CLI from this test's class path. */
  @BeforeAll
  static void install() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/mount")) || Files.isExecutable(Path.of("/bin/mount")),
        "mount(8) is not installed (Debian: apt-get install mount)");
    prefix = installed.resolve("prefix");
    Run r = run(installed, Map.of(), List.of(repo().resolve("scripts/install").toString(), "--prefix",
        prefix.toString(), "--sbin", prefix.resolve("sbin").toString(), "--classpath",
        System.getProperty("java.class.path")));
    assertEquals(0, r.code(), r.output());
    assertTrue(Files.isSymbolicLink(prefix.resolve("sbin/mount.fuse.dynamicfs")));
    assertTrue(Files.size(prefix.resolve("share/bash-completion/completions/dynamicfs")) > 1000, "completion");
  }

  @BeforeEach
  void dirs() throws Exception {
    data = Files.createDirectories(tmp.resolve("data"));
    mnt = Files.createDirectories(tmp.resolve("mnt"));
  }

  private static Path repo() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("scripts/install"))) {
      p = p.getParent();
    }
    assertTrue(p != null, "cannot find the checkout's scripts/install");
    return p;
  }

  record Run(int code, String output) {}

  private Run run(Map<String, String> env, List<String> cmd) throws Exception {
    return run(tmp, env, cmd);
  }

  private static Run run(Path dir, Map<String, String> env, List<String> cmd) throws Exception {
    Path out = Files.createTempFile(dir, "run-", ".out");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("timed out: " + cmd + "\n" + Files.readString(out));
    }
    return new Run(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
  }

  /** Runs {@code body} as bash in a private mount namespace after {@code setup}; unmounts on any exit. */
  private Run inNamespace(String setup, String body) throws Exception {
    String bin = prefix.resolve("bin/dynamicfs").toString();
    String script = String.join("\n",
        "set -euo pipefail",
        "MNT='" + mnt + "' DATA='" + data + "' DFS='" + bin + "'",
        "cleanup() { if grep -q \" $MNT \" /proc/self/mounts; then \"$DFS\" umount \"$MNT\" || fusermount -u -z \"$MNT\";"
            + " fi; }",
        "trap cleanup EXIT",
        setup,
        body,
        "grep -q \" $MNT fuse.dynamicfs \" /proc/self/mounts || { echo NOT-MOUNTED; exit 1; }",
        "echo 'written through mount(8)' > \"$MNT/hello.txt\"",
        "cat \"$MNT/hello.txt\"",
        "\"$DFS\" umount \"$MNT\"",
        "if grep -q \" $MNT \" /proc/self/mounts; then echo STILL-MOUNTED; exit 1; fi",
        "echo UNMOUNTED");
    return run(Map.of(), List.of("unshare", "--mount", "--propagation", "private", "bash", "-c", script));
  }

  private void assertMountedWroteAndUnmounted(Run r) throws Exception {
    assertEquals(0, r.code(), r.output());
    assertTrue(r.output().contains("written through mount(8)\nUNMOUNTED"), r.output());
    assertTrue(Files.exists(data.resolve("dynamicfs.properties")), "DATA was formatted");
    CliRun f = cli("fsck", data.toString());
    assertEquals(0, f.code, f.out);
    assertTrue(f.out.contains("2 inodes"), "root and hello.txt: " + f.out);
  }

  record CliRun(int code, String out) {}

  private static CliRun cli(String... args) {
    java.io.StringWriter w = new java.io.StringWriter();
    java.io.PrintStream old = System.out;
    java.io.ByteArrayOutputStream raw = new java.io.ByteArrayOutputStream();
    System.setOut(new java.io.PrintStream(raw, true, StandardCharsets.UTF_8));
    try {
      var cl = Main.commandLine();
      cl.setOut(new java.io.PrintWriter(w, true));
      int code = cl.execute(args);
      return new CliRun(code, w + raw.toString(StandardCharsets.UTF_8));
    } finally {
      System.setOut(old);
    }
  }

  private String formatProperty(String key) throws IOException {
    for (String line : Files.readAllLines(data.resolve("dynamicfs.properties"))) {
      if (line.startsWith(key + "=")) {
        return line.substring(key.length() + 1);
      }
    }
    return null;
  }

  @Test
  void helper_translatesMountOptions_dropsBookkeeping_restGoesToLibfuse() throws Exception {
    Run r = run(Map.of("DFS_MOUNT_HELPER_DRY_RUN", "1"), List.of(prefix.resolve("sbin/mount.fuse.dynamicfs").toString(),
        "dynamicfs#/srv/data", "/mnt/dfs", "-n", "-s", "-o",
        "rw,cache_memory=512M,block_size=4M,debug_fuse,noauto,_netdev,nofail,x-systemd.automount,comment=x,"
            + "foreground,allow_other,ro,max_read=65536", "-t", "fuse.dynamicfs"));
    assertEquals(0, r.code(), r.output());
    assertEquals(prefix.resolve("bin/dynamicfs") + " mount /srv/data /mnt/dfs --cache-memory 512M --block-size 4M"
        + " --debug-fuse -o allow_other,ro,max_read=65536", r.output().trim());
  }

  @Test
  void helper_badInvocation_exit2() throws Exception {
    String helper = prefix.resolve("sbin/mount.dynamicfs").toString();
    Run r = run(Map.of(), List.of(helper, "/srv/data"));
    assertEquals(2, r.code(), r.output());
    assertTrue(r.output().startsWith("mount.dynamicfs: usage"), r.output());
    r = run(Map.of(), List.of(helper, "/srv/data", "/mnt", "-N", "1234"));
    assertEquals(2, r.code(), r.output());
    assertTrue(r.output().contains("not supported"), r.output());
  }

  @Test
  void helper_remountOfWhatIsNotADynamicfsMount_exit2_andNoDaemonStarted() throws Exception {
    String helper = prefix.resolve("sbin/mount.dynamicfs").toString();
    Run r = run(Map.of(), List.of(helper, data.toString(), mnt.toString(), "-o", "remount,ro"));
    assertEquals(2, r.code(), r.output());
    assertEquals("mount.dynamicfs: " + mnt + " is not mounted", r.output().trim());
    r = run(Map.of(), List.of(helper, "proc", "/proc", "-o", "rw,remount"));
    assertEquals(2, r.code(), r.output());
    assertTrue(r.output().contains("is not a DynamicFS mount (it is proc)"), r.output());
    assertEquals(List.of(), java.util.Arrays.asList(data.toFile().list()), "nothing formatted");
  }

  @Test
  void mountDashT_withoutOwnHelper_goesThroughMountFuseAndTheLauncher() throws Exception {
    Assumptions.assumeTrue(Files.exists(Path.of("/sbin/mount.fuse")), "/sbin/mount.fuse missing (apt-get install fuse3)");
    // As after `scripts/install` with the default prefix, minus the /sbin helper: /sbin/mount.fuse runs
    // `dynamicfs DATA MNT -o OPTS` from its default PATH, which holds /usr/local/bin.
    String setup = "mount --bind '" + prefix.resolve("bin") + "' /usr/local/bin\n"
        + "if [ -e /sbin/mount.fuse.dynamicfs ]; then mount --bind '" + prefix.resolve("sbin/mount.dynamicfs")
        + "' /sbin/mount.fuse.dynamicfs; fi";
    Run r = inNamespace(setup, "mount -t fuse.dynamicfs \"$DATA\" \"$MNT\""
        + " -o block_size=64K,compression=zstd,cache_memory=16M,noauto,_netdev,nofail,x-systemd.automount");
    assertMountedWroteAndUnmounted(r);
    assertEquals("65536", formatProperty("block.size"), "block_size=64K reached dynamicfs mount");
    assertEquals("zstd", formatProperty("compression"));
  }

  @Test
  void remountReadOnlyAndBack_throughMount8_isTheKernelsRemount_writesErofsWhileReadOnly() throws Exception {
    Path sbin = Path.of("/sbin").toRealPath();
    String setup = "mount -t overlay overlay -o lowerdir='" + prefix.resolve("sbin") + "':'" + sbin + "' '" + sbin
        + "' || exit 42\n[ -L /sbin/mount.fuse.dynamicfs ] || exit 43";
    String body = String.join("\n",
        "mount -t fuse.dynamicfs \"$DATA\" \"$MNT\" -o cache_memory=16M,_netdev",
        "echo before > \"$MNT/before.txt\"",
        "pid=$(cat \"$DATA/lock\" 2>/dev/null | tr -dc 0-9 || true)",
        "mount -v -o remount,ro \"$MNT\"",
        "grep \" $MNT fuse.dynamicfs ro,\" /proc/self/mounts >/dev/null || { echo NOT-RO; grep \" $MNT \" /proc/self/mounts; exit 1; }",
        "[ \"$(grep -c \" $MNT \" /proc/self/mounts)\" = 1 ] || { echo SECOND-MOUNT; exit 1; }",
        "if echo x 2>\"$MNT.err\" > \"$MNT/refused.txt\"; then echo WRITE-WORKED; exit 1; fi",
        "cat \"$MNT.err\"",
        "if echo more >> \"$MNT/before.txt\" 2>/dev/null; then echo APPEND-WORKED; exit 1; fi",
        "echo \"read: $(cat \"$MNT/before.txt\")\"",
        "mount -o remount,rw \"$MNT\"",
        "grep \" $MNT fuse.dynamicfs rw,\" /proc/self/mounts >/dev/null || { echo NOT-RW; exit 1; }",
        "[ \"$(cat \"$DATA/lock\" 2>/dev/null | tr -dc 0-9 || true)\" = \"$pid\" ] || { echo DAEMON-CHANGED; exit 1; }",
        "echo after >> \"$MNT/before.txt\"",
        "echo \"final: $(tr '\\n' ' ' < \"$MNT/before.txt\")\"");
    Run r = inNamespace(setup, body);
    Assumptions.assumeFalse(r.code() == 42, "overlayfs is not available here: " + r.output());
    assertEquals(0, r.code(), r.output());
    assertTrue(r.output().contains("Read-only file system"), "the kernel refused the write: " + r.output());
    assertTrue(r.output().contains("read: before"), r.output());
    assertTrue(r.output().contains("written through mount(8)\nUNMOUNTED"), r.output());
    assertTrue(r.output().contains("final: before after \n"), r.output());
    CliRun f = cli("fsck", data.toString());
    assertEquals(0, f.code, f.out);
  }

  @Test
  void fstabLine_mountByMountPointAlone_usesTheSbinHelper() throws Exception {
    Path fstab = tmp.resolve("fstab");
    Files.writeString(fstab, "# DynamicFS\n" + data + "  " + mnt
        + "  fuse.dynamicfs  block_size=128K,cache_memory=16M,noauto,_netdev,x-systemd.requires=network-online.target  0  0\n");
    // Lay the installed helpers over the system's sbin (read-only overlay, this namespace only), as
    // `scripts/install` does for real: mount(8) then runs /sbin/mount.fuse.dynamicfs itself.
    Path sbin = Path.of("/sbin").toRealPath();
    String setup = "mount -t overlay overlay -o lowerdir='" + prefix.resolve("sbin") + "':'" + sbin + "' '" + sbin
        + "' || exit 42\n[ -L /sbin/mount.fuse.dynamicfs ] || exit 43";
    Run r = inNamespace(setup, "mount -v --fstab '" + fstab + "' \"$MNT\"");
    Assumptions.assumeFalse(r.code() == 42, "overlayfs is not available here: " + r.output());
    assertMountedWroteAndUnmounted(r);
    assertTrue(r.output().contains(prefix.resolve("bin/dynamicfs") + " mount " + data + " " + mnt
        + " --block-size 128K --cache-memory 16M"), "the helper (verbose) shows the translated command: " + r.output());
    assertEquals("131072", formatProperty("block.size"));
  }
}
