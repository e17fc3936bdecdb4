package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The orphan scan end to end: three node processes (replicate-2) with a 30 s grace and a FUSE mount of them.
 * Rounds of pwrite and ftruncate on a 5 MB file supersede blocks the mount stored before their commit, which
 * {@code fsck --cluster} then reports as unplaced copies; once the grace has passed the nodes' scans have
 * removed them (0 unplaced), the cluster's copies all verify, and a new mount reads every file back whole.
 */
class ClusterOrphanScanCliTest {
  private static final int GRACE_S = 30;
  private static final int SIZE = 5_000_000;
  private static final int BLOCK = 1 << 20;
  private static final Pattern UNPLACED = Pattern.compile("fsck unplaced copies: (\\d+), (\\d+) bytes");

  @TempDir Path tmp;

  @Test
  void pwriteAndFtruncateRounds_leaveUnplacedCopies_theScanRemovesThem_andEveryFileReadsBack() throws Exception {
    try (ClusterFixture c = ClusterFixture.start(tmp, 3, "replicate-2", "--orphan-grace",
        Integer.toString(GRACE_S))) {
      Random random = new Random(325);
      Daemon m = c.mount(tmp.resolve("m"), "balanced");
      byte[] kept = new byte[3 * BLOCK + 777];
      random.nextBytes(kept);
      Files.write(m.mnt.resolve("kept"), kept); // committed at close: placed, never removed

      byte[] model = new byte[SIZE];
      random.nextBytes(model);
      int size = SIZE;
      Path f = m.mnt.resolve("churn");
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE)) {
        write(ch, 0, model, 0, SIZE);
        for (int round = 0; round < 30; round++) {
          // a whole aligned block (stored on the nodes at once), then a truncate into it or below it
          int at = (round % 4) * BLOCK;
          byte[] chunk = new byte[BLOCK];
          random.nextBytes(chunk);
          if (at + BLOCK > model.length) {
            model = Arrays.copyOf(model, at + BLOCK);
          }
          write(ch, at, chunk, 0, BLOCK);
          System.arraycopy(chunk, 0, model, at, BLOCK);
          size = Math.max(size, at + BLOCK);
          int cut = at + random.nextInt(BLOCK / 2);
          ch.truncate(cut);
          size = cut;
          // grow back to 5 MB with new bytes, as the file was
          byte[] grow = new byte[SIZE - size];
          random.nextBytes(grow);
          write(ch, size, grow, 0, grow.length);
          model = Arrays.copyOf(model, SIZE);
          System.arraycopy(grow, 0, model, size, grow.length);
          size = SIZE;
        }
      }
      byte[] want = Arrays.copyOf(model, size);
      assertArrayEquals(want, Files.readAllBytes(f));

      long before = unplacedCopies(c);
      assertTrue(before > 0, "the rounds left copies no record places (got " + before + ")");

      // the nodes scan every G/4 once G has passed since the copies' last put: all gone within G + a few scans
      long deadline = System.nanoTime() + (GRACE_S + 90) * 1_000_000_000L;
      long now = before;
      while (now > 0 && System.nanoTime() < deadline) {
        Thread.sleep(3000);
        now = unplacedCopies(c);
      }
      assertEquals(0, now, "unplaced copies left after the grace and the scans");
      c.assertFsckClean(); // every referenced block's copies are there and verify

      c.unmount(m);
      Daemon again = c.mount(tmp.resolve("again"), "safe");
      assertArrayEquals(kept, Files.readAllBytes(again.mnt.resolve("kept")));
      assertArrayEquals(want, Files.readAllBytes(again.mnt.resolve("churn")));
      c.unmount(again);
    }
  }

  private static void write(FileChannel ch, long at, byte[] b, int off, int len) throws Exception {
    ByteBuffer buf = ByteBuffer.wrap(b, off, len);
    long pos = at;
    while (buf.hasRemaining()) {
      pos += ch.write(buf, pos);
    }
  }

  private static long unplacedCopies(ClusterFixture c) {
    CliRun.Result fsck = CliRun.run("fsck", "-q", "--fast", "--cluster", c.peers(), "--token-file",
        c.token.toString());
    Matcher mt = UNPLACED.matcher(fsck.out());
    assertTrue(mt.find(), fsck.toString());
    return Long.parseLong(mt.group(1));
  }
}
