package io.dynamicfs.core.block;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Power loss for the segment store, at many seeded points: puts (noise, compressible, repeated), deletes,
 * syncs and compactions, then the power goes. What a sync made durable is known from the store's own fsync
 * calls (an injected {@link SegmentStore.ChannelSync} that records each segment's size when it syncs);
 * every byte of a segment past that is dropped, cut at a random point, or cut with its last pages reading
 * as zeros (the size reached the disk, the pages did not), as a power loss may leave it.
 *
 * <p>Not modelled, because the store fails it today (found by this harness, see docs/storage.md): a hole
 * of zeros or junk in the unsynced tail with records written back after it (out-of-order writeback). The
 * store cannot tell that from damage to synced records, so it refuses to open ("damaged at offset",
 * run fsck) instead of truncating; nothing synced is lost, but the mount needs fsck/salvage. Then the store is opened again (it truncates torn tails) and checked: every
 * block put before the last good sync (and not deleted since) reads back exactly, every block put again
 * reads back (a torn record must not stay indexed), and a read-only scan finds no damage. Several crashes follow each other in one directory, so recovered stores crash again.
 *
 * <p>Replay one seed with {@code -Ddynamicfs.seed=N}; more points with {@code -Ddynamicfs.crashPoints=N}.
 */
class SegmentStorePowerLossTest {
  private static final long SEGMENT = 4L << 20;

  @TempDir Path root;

  @Test
  void powerLossAtSeededPoints_keepsEverySyncedBlock_andReopensClean() throws Exception {
    Long fixed = Long.getLong("dynamicfs.seed");
    int points = fixed != null ? 1 : Integer.getInteger("dynamicfs.crashPoints", 12);
    long base = System.nanoTime();
    long damaged = 0;
    for (int p = 0; p < points; p++) {
      long seed = fixed != null ? fixed : base + p;
      Path dir = root.resolve("p" + p);
      try {
        damaged += run(dir, new Random(seed), 4);
      } catch (AssertionError | Exception e) {
        throw new AssertionError("seed " + seed + " (replay with -Ddynamicfs.seed=" + seed + ")", e);
      }
    }
    System.out.println("SegmentStorePowerLossTest: " + points + " runs of 4 crashes, " + damaged
        + " unsynced bytes dropped or damaged");
    assertTrue(damaged > 0, "the crashes had unsynced bytes to lose");
  }

  /** {@code crashes} workloads, each ended by a power loss, in one directory; returns the bytes damaged. */
  private long run(Path dir, Random r, int crashes) throws IOException {
    Map<BlockId, byte[]> durable = new HashMap<>();
    Map<BlockId, byte[]> everPut = new HashMap<>();
    byte[] repeat = new byte[70_000];
    r.nextBytes(repeat);
    long damaged = 0;
    for (int c = 0; c < crashes; c++) {
      Map<Path, Long> synced = new TreeMap<>();
      for (Path f : segments(dir)) {
        synced.put(f, Files.size(f)); // recovered at open: truncated and synced
      }
      boolean[] dead = {false};
      SegmentStore s = SegmentStore.open(dir, Codec.LZ4, SEGMENT);
      s.injectChannelSyncForTest((path, ch) -> {
        if (dead[0]) {
          return; // the power is gone: nothing reaches the disk any more
        }
        long size = ch.size();
        ch.force(false);
        synced.merge(path, size, Math::max);
      });
      for (Map.Entry<BlockId, byte[]> e : durable.entrySet()) {
        assertArrayEquals(e.getValue(), s.get(e.getKey()), "block synced before crash " + c);
      }
      Map<BlockId, byte[]> put = new HashMap<>(durable);
      List<BlockId> deleted = new ArrayList<>();
      int steps = 10 + r.nextInt(120);
      for (int i = 0; i < steps; i++) {
        int op = r.nextInt(100);
        if (op < 55) {
          byte[] b = block(r, repeat);
          BlockId id = BlockId.hash(b, 0, b.length);
          s.put(id, b, b.length);
          put.put(id, b);
          everPut.put(id, b);
          deleted.remove(id);
        } else if (op < 70 && !put.isEmpty()) {
          BlockId id = new ArrayList<>(put.keySet()).get(r.nextInt(put.size()));
          s.delete(id);
          put.remove(id);
          deleted.add(id);
        } else if (op < 92) {
          s.sync();
          durable = new HashMap<>(put); // what is put and synced, and not deleted since
        } else {
          s.compact(0.9);
        }
      }
      dead[0] = true;
      s.close(); // releases the files; its final sync reaches nothing
      damaged += damageUnsynced(dir, synced, r);
      // a block deleted but not synced may come back; one synced must be there
      for (BlockId id : deleted) {
        durable.remove(id);
      }
    }
    try (SegmentStore s = SegmentStore.open(dir, Codec.LZ4, SEGMENT)) {
      for (Map.Entry<BlockId, byte[]> e : durable.entrySet()) {
        assertArrayEquals(e.getValue(), s.get(e.getKey()), "block synced before the last crash");
      }
      // every block put again reads back: a torn record left in the index would make its put store nothing
      for (Map.Entry<BlockId, byte[]> e : everPut.entrySet()) {
        s.put(e.getKey(), e.getValue(), e.getValue().length);
        assertArrayEquals(e.getValue(), s.get(e.getKey()), "block put again after the crashes");
      }
    }
    try (SegmentStore check = SegmentStore.openForCheck(dir, Codec.LZ4)) {
      assertEquals(List.of(), check.damage(), "a reopened store has no damage left");
    }
    return damaged;
  }

  private static byte[] block(Random r, byte[] repeat) {
    int n = 1 + r.nextInt(r.nextBoolean() ? 5000 : 300_000);
    byte[] b = new byte[n];
    switch (r.nextInt(3)) {
      case 0 -> r.nextBytes(b);
      case 1 -> java.util.Arrays.fill(b, (byte) ('a' + r.nextInt(26)));
      default -> {
        for (int i = 0; i < n; i++) {
          b[i] = repeat[i % repeat.length];
        }
        b[0] = (byte) r.nextInt(); // a new block, mostly made of known frames
      }
    }
    return b;
  }

  private static List<Path> segments(Path dir) throws IOException {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "seg-*.dfs")) {
      ds.forEach(out::add);
    }
    out.sort(null);
    return out;
  }

  /** Drops, cuts or zeroes pages of the bytes past each segment's last sync; returns how many bytes that touched. */
  private static long damageUnsynced(Path dir, Map<Path, Long> synced, Random r) throws IOException {
    long touched = 0;
    for (Path f : segments(dir)) {
      long durable = synced.getOrDefault(f, 0L); // a new segment's name was synced when it was made, empty
      long size = Files.size(f);
      if (size <= durable) {
        continue;
      }
      touched += size - durable;
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
        switch (r.nextInt(3)) {
          case 0 -> ch.truncate(durable);
          case 1 -> ch.truncate(durable + (long) (r.nextDouble() * (size - durable)));
          default -> {
            // the size reached the disk, the last pages did not: they read as zeros (what ext4 leaves)
            long from = Math.max(durable, durable + (long) (r.nextDouble() * (size - durable)) / 4096 * 4096);
            byte[] zeros = new byte[(int) Math.min(4096 * (1 + r.nextInt(4)), size - from)];
            ch.write(ByteBuffer.wrap(zeros), from);
            ch.truncate(from + zeros.length);
          }
        }
        ch.force(true);
      }
    }
    return touched;
  }
}
