package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.policy.mount.MountTracker;
import io.dynamicfs.policy.track.AccessTable;
import io.dynamicfs.policy.track.AccessTracker;
import io.dynamicfs.policy.track.TrackerFile;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy engine on a real mount (the CLI's daemon in its own JVM, unmounted at the end of every test):
 * reads through FUSE reach the tracker, whose tables are saved in DATA/policy at unmount and loaded again at
 * the next mount.
 */
class PolicyMountTest {
  private static final int MIB = 1 << 20;

  @TempDir
  Path tmp;

  private static byte[] random(int seed, int n) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Reads the whole file {@code times} times, each through a fresh open (the safe preset keeps no pages). */
  private static void readTimes(Path f, int times) throws Exception {
    byte[] buf = new byte[1 << 16];
    for (int i = 0; i < times; i++) {
      try (InputStream in = Files.newInputStream(f)) {
        while (in.read(buf) >= 0) {
          // read it all
        }
      }
    }
  }

  /** {@code dynamicfs umount MNT}, then waits for the daemon to have saved everything and exited. */
  private static void unmount(Daemon d, Path mnt) throws Exception {
    CliRun.Result r = CliRun.run("umount", mnt.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(d.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS), "the daemon did not exit");
    assertEquals(0, d.process.exitValue(), d.output());
  }

  @Test
  void tracking_readsThroughTheMount_savedAtUnmount() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    long ino;
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--fuse-preset", "safe")) {
      Files.write(mnt.resolve("hot.bin"), random(1, 2 * MIB + 100));
      ino = (Long) Files.getAttribute(mnt.resolve("hot.bin"), "unix:ino");
      readTimes(mnt.resolve("hot.bin"), 3);
      unmount(d, mnt);
    }
    TrackerFile.Loaded saved = TrackerFile.load(data.resolve("policy").resolve("tracker"),
        AccessTracker.Config.defaults(1000, 1000));
    assertTrue(saved.ok(), saved.problem());
    AccessTable files = saved.tracker().files();
    int s = files.find(ino);
    assertTrue(s >= 0, "the file's accesses were saved");
    assertTrue(files.bytes(s) >= 4L * (2 * MIB + 100), "a write and three whole reads at least: "
        + files.bytes(s));
    assertTrue(files.writes(s) >= 1);
    AccessTable extents = saved.tracker().extents();
    for (int b = 0; b < 3; b++) {
      int e = extents.find(MountTracker.extentKey(ino, b));
      assertTrue(e >= 0, "block " + b + " tracked");
      assertTrue(extents.accesses(e) - extents.writes(e) >= 3, "block " + b + " read three times");
    }
    assertTrue(Files.size(data.resolve("policy").resolve("access.log")) > 0);
  }

  @Test
  void tracking_off_recordsNothing() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "64M", "--policy-tracking", "off")) {
      Files.write(mnt.resolve("f"), random(2, 1000));
      readTimes(mnt.resolve("f"), 1);
      unmount(d, mnt);
    }
    assertFalse(Files.exists(data.resolve("policy").resolve("tracker")));
  }
}
