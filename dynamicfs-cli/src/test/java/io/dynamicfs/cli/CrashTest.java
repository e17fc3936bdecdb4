package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.fuse.FuseMount;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Invariant 4: kill -9 the daemon in the middle of a write storm, mount again: fsck finds no errors,
 * and every file that had been fsync'd reads back byte-identical. Repeated with different timings.
 */
class CrashTest {
  @TempDir
  Path work;

  @Test
  void kill9DuringWriteStorm_fsyncedFilesSurvive_andFsckIsClean() throws Exception {
    Path data = Files.createDirectories(work.resolve("data"));
    Path mnt = Files.createDirectories(work.resolve("mnt"));
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    Map<String, byte[]> synced = new ConcurrentHashMap<>();
    for (int round = 0; round < 3; round++) {
      try (Daemon d = Daemon.start(data, mnt, work)) {
        AtomicBoolean stop = new AtomicBoolean();
        List<String> failures = new CopyOnWriteArrayList<>();
        Thread[] writers = new Thread[3];
        for (int w = 0; w < writers.length; w++) {
          long wseed = rnd.nextLong();
          String prefix = "r" + round + "w" + w;
          writers[w] = new Thread(() -> storm(mnt, prefix, new Random(wseed), stop, synced, failures));
          writers[w].start();
        }
        Thread.sleep(1500 + rnd.nextInt(2000));
        stop.set(true); // from here on, errors are the kill's
        d.kill9();
        for (Thread t : writers) {
          t.join(60_000);
          assertFalse(t.isAlive(), "a writer hung after the daemon died");
        }
        assertEquals(List.of(), failures, "seed " + seed + " round " + round + ": errors before the kill");
      }
      Fsck.Report afterCrash = fsck(data);
      assertTrue(afterCrash.clean(), "seed " + seed + " round " + round + ": " + afterCrash.problems());
      try (Daemon d = Daemon.start(data, mnt, work)) {
        for (Map.Entry<String, byte[]> e : synced.entrySet()) {
          byte[] got = sha256(Files.readAllBytes(mnt.resolve(e.getKey())));
          assertArrayEquals(e.getValue(), got, "seed " + seed + ": fsync'd file " + e.getKey() + " changed");
        }
        int code = d.terminate();
        // The JVM reports death by SIGTERM as 143 even when its shutdown hook finished cleanly.
        assertTrue(code == 0 || code == 143, "exit code " + code + ": " + d.output());
        assertTrue(Files.readAllLines(data.resolve("logs/dynamicfs.log")).stream().anyMatch(
            l -> l.contains("\"message\":\"dynamicfs stopped\"") && l.contains("\"clean\":true")),
            "the daemon must log a clean stop after SIGTERM");
      }
      assertFalse(FuseMount.isMounted(mnt));
      Fsck.Report afterRemount = fsck(data);
      assertTrue(afterRemount.clean() && afterRemount.problems().isEmpty(),
          "seed " + seed + ": after remount " + afterRemount.problems());
    }
    assertTrue(synced.size() > 10, "the storm fsync'd only " + synced.size() + " files");
  }

  /**
   * Writes files of random sizes; every third is fsync'd (and then recorded) before close. An error before
   * {@code stop} is set (the kill comes after it) is a real one (EIO, ENOSPC, ...) and goes to {@code failures}.
   */
  private static void storm(Path mnt, String prefix, Random r, AtomicBoolean stop, Map<String, byte[]> synced,
      List<String> failures) {
    try {
      for (int i = 0; !stop.get(); i++) {
        String name = prefix + "-" + i;
        int size = r.nextInt(10) == 0 ? (1 << 20) * (1 + r.nextInt(4)) + r.nextInt(5000) : r.nextInt(200_000);
        byte[] content = new byte[size];
        r.nextBytes(content);
        boolean sync = i % 3 == 0;
        Path tmp = mnt.resolve(name + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
          ByteBuffer b = ByteBuffer.wrap(content);
          while (b.hasRemaining()) {
            ch.write(b);
          }
          if (sync) {
            ch.force(true);
          }
        }
        Files.move(tmp, mnt.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        if (sync) {
          synced.put(name, sha256(content));
        }
        if (r.nextInt(5) == 0 && i > 0) {
          // forget it first: a delete the daemon applied just before dying may never answer
          synced.remove(prefix + "-" + (i - 1));
          Files.deleteIfExists(mnt.resolve(prefix + "-" + (i - 1)));
        }
      }
    } catch (IOException | RuntimeException e) {
      if (!stop.get()) {
        failures.add(prefix + ": " + e);
      } // else the daemon was killed under us: expected
    }
  }

  private static byte[] sha256(byte[] b) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(b);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Fsck.Report fsck(Path data) throws IOException {
    try (DataDirectory dir = DataDirectory.open(data, null)) {
      return Fsck.checkOffline(dir, true, s -> { });
    }
  }
}
