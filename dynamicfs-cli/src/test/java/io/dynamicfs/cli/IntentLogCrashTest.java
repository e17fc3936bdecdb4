package io.dynamicfs.cli;

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
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Invariant 4 for the write intent log: writers make small random changes to files of whole blocks, each
 * followed by fsync (so they live in the log as overlays), while a small log (4 MiB) is folded over and
 * over in the background and by back-pressure; the daemon is killed with SIGKILL at a random moment, so
 * between log appends and folds, and during folds. After each kill: fsck (with every overlay's record)
 * finds nothing, and through a new mount every file holds exactly its fsync'd bytes, except that the one
 * change in flight at the kill may be there or not.
 */
class IntentLogCrashTest {
  private static final int FILE_SIZE = 3 << 20;

  @TempDir Path work;

  /** One writer's file: what fsync made durable, and the write that may have been in flight. */
  private static final class Tracked {
    final String name;
    final byte[] durable;
    volatile long inflightOffset = -1;
    volatile byte[] inflight;
    int fsyncs;

    Tracked(String name, byte[] content) {
      this.name = name;
      this.durable = content;
    }
  }

  @Test
  void kill9DuringFsyncsAndFolds_everyFsyncedByteReadsBack_andFsckIsClean() throws Exception {
    Path data = Files.createDirectories(work.resolve("data"));
    Path mnt = Files.createDirectories(work.resolve("mnt"));
    long seed = System.nanoTime();
    Random rnd = new Random(seed);
    Tracked[] files = new Tracked[3];
    int totalFsyncs = 0;
    int folds = 0;
    for (int round = 0; round < 3; round++) {
      try (Daemon d = Daemon.start(data, mnt, work, "--intent-log-size", "4M")) {
        if (round == 0) {
          for (int f = 0; f < files.length; f++) {
            byte[] content = new byte[FILE_SIZE];
            rnd.nextBytes(content);
            Path p = mnt.resolve("db" + f);
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
              write(ch, 0, content);
              ch.force(true);
            }
            files[f] = new Tracked("db" + f, content);
          }
        }
        AtomicBoolean stop = new AtomicBoolean();
        List<String> failures = new CopyOnWriteArrayList<>();
        Thread[] writers = new Thread[files.length];
        for (int w = 0; w < writers.length; w++) {
          Tracked t = files[w];
          long wseed = rnd.nextLong();
          writers[w] = new Thread(() -> storm(mnt, t, new Random(wseed), stop, failures));
          writers[w].start();
        }
        folds += watchFolds(data.resolve("intent"), 1500 + rnd.nextInt(2500));
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
      try (Daemon d = Daemon.start(data, mnt, work, "--intent-log-size", "4M")) {
        for (Tracked t : files) {
          byte[] got = Files.readAllBytes(mnt.resolve(t.name));
          check(t, got, "seed " + seed + " round " + round);
          totalFsyncs += t.fsyncs;
          t.fsyncs = 0;
          System.arraycopy(got, 0, t.durable, 0, FILE_SIZE); // the in-flight change, if it landed, is durable now
          t.inflightOffset = -1;
        }
        int code = d.terminate();
        assertTrue(code == 0 || code == 143, "exit code " + code + ": " + d.output());
      }
      assertFalse(FuseMount.isMounted(mnt));
    }
    System.out.println("IntentLogCrashTest: " + totalFsyncs + " fsyncs and at least " + folds
        + " folds over 3 kills, seed " + seed);
    assertTrue(totalFsyncs > 100, "the writers fsync'd only " + totalFsyncs + " times");
    assertTrue(folds > 0, "no fold was seen (a log file deleted while the writers ran)");
    Fsck.Report atEnd = fsck(data);
    assertTrue(atEnd.clean() && atEnd.problems().isEmpty(), "seed " + seed + ": at the end " + atEnd.problems());
  }

  /**
   * Watches the log directory for {@code millis}: returns how many times a log file seen before was gone
   * (a fold reclaimed it), a lower bound of the folds that ran.
   */
  private static int watchFolds(Path dir, long millis) throws Exception {
    long end = System.nanoTime() + millis * 1_000_000;
    java.util.Set<Path> seen = new java.util.HashSet<>();
    int gone = 0;
    while (System.nanoTime() < end) {
      java.util.Set<Path> now = new java.util.HashSet<>();
      if (Files.isDirectory(dir)) {
        try (var s = Files.list(dir)) {
          s.forEach(now::add);
        }
      }
      for (Path p : seen) {
        if (!now.contains(p)) {
          gone++;
        }
      }
      seen = now;
      Thread.sleep(20);
    }
    return gone;
  }

  /** The file equals its durable bytes, but for the in-flight change, which is all there or not at all. */
  private static void check(Tracked t, byte[] got, String context) {
    assertEquals(FILE_SIZE, got.length, context + ": size of " + t.name);
    byte[] expected = t.durable.clone();
    long off = t.inflightOffset;
    byte[] in = t.inflight;
    if (off >= 0 && in != null
        && Arrays.equals(got, (int) off, (int) off + in.length, in, 0, in.length)) {
      System.arraycopy(in, 0, expected, (int) off, in.length);
    }
    int bad = Arrays.mismatch(got, expected);
    assertEquals(-1, bad, () -> context + ": " + t.name + " first wrong byte at " + bad + " (in flight: " + off
        + "+" + (in == null ? 0 : in.length) + ")");
  }

  /** pwrite of 1 byte to 64 KiB at a random place, fsync, record it as durable; until {@code stop}. */
  private static void storm(Path mnt, Tracked t, Random r, AtomicBoolean stop, List<String> failures) {
    try (FileChannel ch = FileChannel.open(mnt.resolve(t.name), StandardOpenOption.WRITE)) {
      while (!stop.get()) {
        byte[] b = new byte[1 + r.nextInt(switch (r.nextInt(3)) {
          case 0 -> 512;
          case 1 -> 8192;
          default -> 65536; // still a small part of a 1 MiB block: logged, and fills the log fast
        })];
        r.nextBytes(b);
        long off = r.nextInt(4) == 0 ? (long) r.nextInt(FILE_SIZE / 4096) * 4096 : r.nextInt(FILE_SIZE - b.length);
        off = Math.min(off, FILE_SIZE - b.length);
        t.inflight = b;
        t.inflightOffset = off;
        write(ch, off, b);
        ch.force(r.nextBoolean());
        System.arraycopy(b, 0, t.durable, (int) off, b.length);
        t.inflightOffset = -1;
        t.fsyncs++;
      }
    } catch (IOException | RuntimeException e) {
      if (!stop.get()) {
        failures.add(t.name + ": " + e);
      } // else the daemon was killed under us: expected
    }
  }

  private static void write(FileChannel ch, long off, byte[] b) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(b);
    while (buf.hasRemaining()) {
      off += ch.write(buf, off);
    }
  }

  private static Fsck.Report fsck(Path data) throws IOException {
    try (DataDirectory dir = DataDirectory.open(data, null)) {
      return Fsck.checkOffline(dir, true, s -> { });
    }
  }
}
