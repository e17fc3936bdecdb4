package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import io.dynamicfs.core.meta.OpCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What replication rests on: the operations a single-node engine applies, recorded in the form a Raft log
 * carries them and replayed into three fresh metadata stores, give byte-identical column families there
 * and in the original — inode numbers, refcounts, pending deletions, failed operations and all.
 */
class ReplayDeterminismTest {
  private static final int O_RDWR = 2;
  private static final int BS = 64 << 10;

  @TempDir Path tmp;

  private record Entry(long index, byte[] frame) {}

  @Test
  void replay_recordedRandomWorkload_givesByteIdenticalStoresOnThreeReplicas() throws Exception {
    long seed = new Random().nextLong();
    List<Entry> log = new ArrayList<>();
    EngineOptions options = new EngineOptions(UnaryOperator.identity(), TimeSource.SYSTEM, 2, Duration.ofSeconds(5),
        4L << 20).withApplyListener((op, r) -> log.add(new Entry(r.index(), OpCodec.encode(op))));
    Path data = java.nio.file.Files.createDirectories(tmp.resolve("data"));
    int failures;
    try (DataDirectory dir = DataDirectory.open(data, new FormatOptions(BS, FormatOptions.DEFAULT.codec(), 4096));
        DynamicFileSystem fs = DynamicFileSystem.open(dir, options)) {
      failures = workload(fs, new Random(seed), 1500);
    }
    assertTrue(failures > 20, "the workload must include failing operations, had " + failures);
    for (int i = 0; i < log.size(); i++) {
      assertEquals(i + 1, log.get(i).index(), "log indexes are consecutive from 1");
    }
    String original;
    try (DataDirectory dir = DataDirectory.open(data, null);
        MetadataStore meta = MetadataStore.open(dir.metaDir(), dir.format().blockSize())) {
      original = dump(meta);
    }
    for (int replica = 0; replica < 3; replica++) {
      try (MetadataStore meta = MetadataStore.open(tmp.resolve("replica" + replica), BS)) {
        OpApplier applier = new OpApplier(meta);
        for (Entry e : log) {
          applier.apply(e.index(), OpCodec.decode(e.frame()));
        }
        String replayed = dump(meta);
        assertEquals(original.length(), replayed.length(), "replica " + replica + ", seed " + seed);
        assertEquals(original, replayed, "replica " + replica + ", seed " + seed);
      }
    }
  }

  /** Random namespace, content and attribute operations, some bound to fail; returns how many failed. */
  private static int workload(DynamicFileSystem fs, Random rnd, int steps) throws IOException {
    List<Long> dirs = new ArrayList<>(List.of(FileSystem.ROOT_INO));
    int failed = 0;
    for (int step = 0; step < steps; step++) {
      long dir = dirs.get(rnd.nextInt(dirs.size()));
      String name = "n" + rnd.nextInt(40);
      try {
        switch (rnd.nextInt(12)) {
          case 0 -> dirs.add(fs.mkdir(Caller.ROOT, dir, name, 0755).ino());
          case 1, 2 -> {
            OpenResult r = fs.create(new Caller(1000, 1000, 1), dir, name, 0644, O_RDWR);
            byte[] b = new byte[rnd.nextBoolean() ? rnd.nextInt(200) : rnd.nextInt(3 * BS)];
            rnd.nextBytes(b);
            if (rnd.nextInt(4) == 0 && b.length > 0) {
              b = new byte[b.length]; // zeros: dedup across files
            }
            fs.write(r.handle(), 0, b, 0, b.length);
            fs.release(r.handle());
          }
          case 3 -> fs.unlink(dir, name);
          case 4 -> {
            fs.rmdir(dir, name);
            dirs.removeIf(d -> {
              try {
                fs.getattr(d);
                return false;
              } catch (IOException gone) {
                return true;
              }
            });
          }
          case 5 -> fs.rename(dir, name, dirs.get(rnd.nextInt(dirs.size())), "n" + rnd.nextInt(40),
              rnd.nextInt(5) == 0 ? FileSystem.RENAME_NOREPLACE : 0);
          case 6 -> fs.link(fs.lookup(dir, name), dir, "l" + rnd.nextInt(10));
          case 7 -> fs.setxattr(fs.lookup(dir, name), "user.k" + rnd.nextInt(3), new byte[] {(byte) step},
              rnd.nextInt(3));
          case 8 -> fs.setattr(Caller.ROOT, fs.lookup(dir, name),
              rnd.nextBoolean() ? SetAttr.chmod(rnd.nextInt(07777)) : SetAttr.truncate(rnd.nextInt(2 * BS)), 0);
          case 9 -> fs.symlink(Caller.ROOT, dir, name, "target/" + step);
          case 10 -> {
            long h = fs.open(Caller.ROOT, fs.lookup(dir, name), O_RDWR);
            try {
              fs.fallocate(new Caller(1000, 1000, 1), h, rnd.nextInt(2), rnd.nextInt(2 * BS), 1 + rnd.nextInt(3 * BS));
            } finally {
              fs.release(h);
            }
          }
          default -> {
            long h = fs.open(Caller.ROOT, fs.lookup(dir, name), O_RDWR);
            try {
              byte[] b = new byte[1 + rnd.nextInt(5000)];
              rnd.nextBytes(b);
              fs.write(h, rnd.nextInt(2 * BS), b, 0, b.length);
            } finally {
              fs.release(h);
            }
          }
        }
      } catch (IOException e) {
        failed++;
      }
      if (step % 300 == 299) {
        fs.reclaimNow();
      }
    }
    for (DirEntry e : fs.readdir(FileSystem.ROOT_INO)) {
      e.name(); // the tree is readable at the end
    }
    return failed;
  }

  private static String dump(MetadataStore meta) throws IOException {
    StringBuilder sb = new StringBuilder();
    HexFormat hex = HexFormat.of();
    meta.forEachRecord((cf, k, v) -> sb.append(cf).append(' ').append(hex.formatHex(k)).append(' ')
        .append(hex.formatHex(v)).append('\n'));
    return sb.toString();
  }
}
