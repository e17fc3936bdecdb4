package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A seeded stream of metadata operations, valid and invalid: creates, mkdirs, links, renames (with flags,
 * some bad), unlinks and rmdirs of names that may or may not exist, xattrs with CREATE/REPLACE, commits
 * of inline chunks (also to directories and removed inodes), and malformed names. It picks targets from
 * the inodes earlier answers created, so {@link #observe} must see each answer.
 */
final class RandomOps {
  private static final String[] NAMES = {"a", "b", "c", "d", "e", "f", "g", "h"};
  private final Random random;
  private final List<Long> dirs = new ArrayList<>(List.of(FileSystem.ROOT_INO));
  private final List<Long> files = new ArrayList<>();
  private long time = 1_700_000_000_000_000_000L;

  RandomOps(long seed) {
    this.random = new Random(seed);
  }

  static MetaOp root() {
    return MetaOp.CreateNode.root(0755, 0, 0, 1_700_000_000_000_000_000L);
  }

  MetaOp next() {
    time += 1000;
    int k = random.nextInt(100);
    long dir = pick(dirs);
    String name = name();
    if (k < 15) {
      return new MetaOp.CreateNode(dir, name, FileType.DIRECTORY.bits() | 0755, 1000, 1000, false, 0, null, time);
    } else if (k < 32) {
      return new MetaOp.CreateNode(dir, name, FileType.REGULAR.bits() | 0644, 1000, 1000, false, 0, null, time);
    } else if (k < 35) {
      return new MetaOp.CreateNode(dir, name, 0120777, 1000, 1000, false, 0, "target/" + name, time);
    } else if (k < 47) {
      int flags = random.nextInt(10) == 0 ? random.nextInt(4) : 0;
      return new MetaOp.Rename(dir, name, pick(dirs), name(), flags, 0, time);
    } else if (k < 57) {
      return new MetaOp.Remove(dir, name, random.nextBoolean(), 0, time);
    } else if (k < 62) {
      return new MetaOp.Link(anyIno(), pick(dirs), name(), time);
    } else if (k < 72) {
      byte[] v = new byte[random.nextInt(40)];
      random.nextBytes(v);
      return new MetaOp.SetXattr(anyIno(), "user." + name(), v, random.nextInt(3), time);
    } else if (k < 77) {
      return new MetaOp.RemoveXattr(anyIno(), "user." + name(), time);
    } else if (k < 93) {
      long ino = random.nextInt(8) == 0 ? pick(dirs) : anyIno();
      int chunks = 1 + random.nextInt(3);
      List<MetaOp.ChunkChange> changes = new ArrayList<>();
      for (int i = 0; i < chunks; i++) {
        byte[] data = new byte[1 + random.nextInt(100)];
        random.nextBytes(data);
        changes.add(random.nextInt(6) == 0 ? MetaOp.ChunkChange.hole(i) : MetaOp.ChunkChange.inline(i, data));
      }
      long size = (long) (chunks - 1) * TestCluster.BLOCK_SIZE + 1 + random.nextInt(100);
      long truncatedTo = random.nextInt(5) == 0 ? random.nextInt(200) : -1;
      return new MetaOp.CommitBlocks(ino, size, truncatedTo, time, time, changes);
    } else if (k < 97) {
      return new MetaOp.SetAttrs(anyIno(), random.nextBoolean() ? 0600 : null, null, null, null, time, time);
    } else {
      // invalid names: a slash, an empty name, too long
      String bad = switch (random.nextInt(3)) {
        case 0 -> "x/y";
        case 1 -> "";
        default -> "n".repeat(300);
      };
      return new MetaOp.CreateNode(dir, bad, FileType.REGULAR.bits() | 0644, 0, 0, false, 0, null, time);
    }
  }

  /** Learns the inode a create made. */
  void observe(MetaOp op, OpApplier.Result r) {
    if (r.ok() && op instanceof MetaOp.CreateNode c && r.ino() > 0) {
      ((c.mode() & FileType.S_IFMT) == FileType.DIRECTORY.bits() ? dirs : files).add(r.ino());
    }
  }

  private long anyIno() {
    if (files.isEmpty() || random.nextInt(10) == 0) {
      return random.nextInt(10) == 0 ? 999_999 : pick(dirs);
    }
    return pick(files);
  }

  private String name() {
    return NAMES[random.nextInt(NAMES.length)];
  }

  private long pick(List<Long> from) {
    return from.get(random.nextInt(from.size()));
  }
}
