package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.format.DataDirectory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGKILL in the middle of a tier move and in the middle of segment compaction, several times: fsck stays
 * clean and every file reads back byte-identical afterwards.
 */
class StorageCrashTest {
  @TempDir
  Path work;

  private final long seed = Long.getLong("dfs.seed", System.nanoTime());
  private final Random rnd = new Random(seed);

  private static byte[] sha(byte[] b) throws Exception {
    return MessageDigest.getInstance("SHA-256").digest(b);
  }

  /** Writes and fsyncs a file; returns its hash. */
  private byte[] writeFile(Path p, int size) throws Exception {
    byte[] b = new byte[size];
    if (rnd.nextBoolean()) {
      rnd.nextBytes(b);
    } else {
      for (int i = 0; i < size; i++) {
        b[i] = (byte) ('a' + (i * 13 + size) % 26);
      }
    }
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(b);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    return sha(b);
  }

  private void verify(Path mnt, Map<String, byte[]> files) throws Exception {
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      assertArrayEquals(e.getValue(), sha(Files.readAllBytes(mnt.resolve(e.getKey()))),
          "seed " + seed + ": " + e.getKey() + " changed");
    }
  }

  private Fsck.Report fsck(Path data) throws Exception {
    try (DataDirectory dir = DataDirectory.open(data, null)) {
      Fsck.Report r = Fsck.checkOffline(dir, true, s -> { });
      assertTrue(r.clean(), "seed " + seed + ": " + r.problems());
      return r;
    }
  }

  @Test
  void kill9DuringTierMoves_losesNothing() throws Exception {
    Path data = Files.createDirectories(work.resolve("data"));
    Path mnt = Files.createDirectories(work.resolve("mnt"));
    String fast = "fast:replicate-2:" + work.resolve("f0") + "," + work.resolve("f1");
    String slow = "slow:rs-2-1:" + work.resolve("s0") + "," + work.resolve("s1") + "," + work.resolve("s2");
    Map<String, byte[]> files = new LinkedHashMap<>();
    try (Daemon d = Daemon.start(data, mnt, work, "--tier", fast, "--tier", slow)) {
      Files.createDirectories(mnt.resolve("tree/sub"));
      for (int i = 0; i < 48; i++) {
        String name = (i % 3 == 0 ? "tree/sub/f" : "tree/f") + i;
        files.put(name, writeFile(mnt.resolve(name), 200_000 + rnd.nextInt(3_000_000)));
      }
      Files.copy(mnt.resolve("tree/f1"), mnt.resolve("dedup-copy"));
      files.put("dedup-copy", files.get("tree/f1"));
      int code = d.terminate();
      assertTrue(code == 0 || code == 143, "clean stop on SIGTERM, exit " + code);
    }
    int interrupted = 0;
    String[] targets = {"slow", "fast", "slow", "fast"};
    for (int round = 0; round < targets.length; round++) {
      Path log = work.resolve("move-" + round + ".log");
      Process p = Daemon.command(log, "tier", "move", "--data", data.toString(), "/", "--to", targets[round]);
      // anywhere from JVM start-up to well into the copying: a fixed 1.2-2.7 s came after every move had
      // finished on an idle machine (the command prints nothing until it ends, so there is no progress to
      // wait for)
      Thread.sleep(300 + rnd.nextInt(1200));
      if (p.isAlive()) {
        interrupted++;
      }
      p.destroyForcibly();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      fsck(data);
      try (Daemon d = Daemon.start(data, mnt, work)) {
        verify(mnt, files);
        d.terminate();
      }
      fsck(data);
    }
    // a final, uninterrupted move leaves every block on the target tier
    Path log = work.resolve("move-final.log");
    Process p = Daemon.command(log, "tier", "move", "--data", data.toString(), "/", "--to", "slow");
    assertTrue(p.waitFor(120, TimeUnit.SECONDS));
    assertEquals(0, p.exitValue(), Files.readString(log));
    Process st = Daemon.command(work.resolve("status.log"), "tier", "status", data.toString());
    assertTrue(st.waitFor(60, TimeUnit.SECONDS));
    String status = Files.readString(work.resolve("status.log"));
    for (String line : status.split("\n")) {
      if (line.startsWith("fast ")) {
        assertTrue(line.matches(".*\\s0\\s+0\\s+0\\s+/.*"), "nothing left on fast: " + line);
      }
    }
    try (Daemon d = Daemon.start(data, mnt, work)) {
      verify(mnt, files);
      d.terminate();
    }
    fsck(data);
    assertTrue(interrupted > 0, "seed " + seed + ": no move was actually interrupted; make the data bigger");
  }

  @Test
  void kill9DuringCompaction_losesNothing() throws Exception {
    Path data = Files.createDirectories(work.resolve("data"));
    Path mnt = Files.createDirectories(work.resolve("mnt"));
    Path config = work.resolve("settings.yaml");
    Files.writeString(config, "compaction:\n  live_fraction_below: 0.95\n  interval_seconds: 0.2\n");
    Map<String, byte[]> kept = new LinkedHashMap<>();
    for (int round = 0; round < 3; round++) {
      try (Daemon d = Daemon.start(data, mnt, work, "--config", config.toString())) {
        verify(mnt, kept);
        // ~150 MiB in files: more than two 64 MiB segments, then delete two thirds of them
        Map<String, byte[]> written = new LinkedHashMap<>();
        for (int i = 0; i < 75; i++) {
          String name = "r" + round + "-" + i;
          written.put(name, writeFile(mnt.resolve(name), (1 << 20) + rnd.nextInt(2 << 20)));
        }
        for (Map.Entry<String, byte[]> e : written.entrySet()) {
          if (rnd.nextInt(3) == 0) {
            kept.put(e.getKey(), e.getValue());
          } else {
            Files.delete(mnt.resolve(e.getKey()));
          }
        }
        Thread.sleep(200 + rnd.nextInt(1500));
        d.kill9();
      }
      fsck(data);
    }
    try (Daemon d = Daemon.start(data, mnt, work)) {
      verify(mnt, kept);
      d.terminate();
      assertTrue(Files.readString(data.resolve("logs/dynamicfs.log")).contains("segment compacted"),
          "compaction really ran during the test");
    }
    fsck(data);
  }
}
