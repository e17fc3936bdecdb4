package io.dynamicfs.core.check;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.intent.DirectoryLogStorage;
import io.dynamicfs.core.intent.IntentLog;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.PathIndex;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.storage.BlockCheck;
import io.dynamicfs.core.storage.Device;
import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.core.storage.TieredStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Checks a filesystem's metadata against itself and against the block store, reporting each problem by
 * path: directory entries naming missing inodes, link counts, unreachable inodes, block-list entries
 * naming unknown blocks or lying past the end of a file, reference counts, blocks missing from the
 * store, and (with {@code verifyData}) every stored record's checksum, length and content hash.
 * Leftovers of a crash that the next mount reclaims by itself (orphaned inodes, unreferenced records)
 * are warnings, not errors.
 */
public final class Fsck {
  public enum Severity { ERROR, WARNING }

  public record Problem(Severity severity, String path, String message) {
    @Override
    public String toString() {
      return severity + " " + path + ": " + message;
    }
  }

  public record Report(List<Problem> problems, long inodes, long directories, long blocks, long bytesVerified) {
    public boolean clean() {
      return problems.stream().noneMatch(p -> p.severity() == Severity.ERROR);
    }

    public long errors() {
      return problems.stream().filter(p -> p.severity() == Severity.ERROR).count();
    }
  }

  private final MetadataStore meta;
  private final BlockStore store;
  private final List<Problem> problems = new ArrayList<>();
  private final Map<Long, Inode> inodes = new HashMap<>();
  private final PathIndex paths = new PathIndex();

  private Fsck(MetadataStore meta, BlockStore store) {
    this.meta = meta;
    this.store = store;
  }

  public static Report check(MetadataStore meta, BlockStore store, boolean verifyData, Consumer<String> progress)
      throws IOException {
    String[] last = {null};
    return check(meta, store, verifyData, (phase, done, total) -> {
      if (!phase.equals(last[0])) {
        last[0] = phase;
        progress.accept(phase);
      }
    });
  }

  /**
   * Checks an unmounted DATA directory: opens its metadata and every device of every tier read-only (nothing
   * is written, truncated or repaired) and adds the structural damage the devices show — an error on a
   * single-copy tier, a warning where the tier's redundancy still covers it.
   */
  public static Report checkOffline(DataDirectory dir, boolean verifyData, Consumer<String> progress)
      throws IOException {
    String[] last = {null};
    return checkOffline(dir, verifyData, (phase, done, total) -> {
      if (!phase.equals(last[0])) {
        last[0] = phase;
        progress.accept(phase);
      }
    });
  }

  /** As {@link #checkOffline(DataDirectory, boolean, Consumer)}, with counts for a progress bar. */
  public static Report checkOffline(DataDirectory dir, boolean verifyData,
      io.dynamicfs.core.api.ProgressListener progress) throws IOException {
    try (MetadataStore meta = MetadataStore.open(dir.metaDir(), dir.format().blockSize());
        TieredStore store = TieredStore.open(dir.layout(), dir.uuid(), dir.format().codec(), 64L << 20, false, true)) {
      Report r = check(meta, store, verifyData, progress);
      List<Problem> all = new ArrayList<>();
      if (java.nio.file.Files.isDirectory(dir.intentDir())) {
        progress.progress("checking intent-log records", 0, 0);
        try (IntentLog log = new IntentLog(new DirectoryLogStorage(dir.intentDir()), 4L << 20)) {
          all.addAll(checkOverlays(meta, log));
        }
      }
      for (Tier t : store.tiers()) {
        boolean redundant = t.redundancy().tolerance() > 0;
        for (Device d : t.devices()) {
          if (d.health() == Device.Health.FAILED) {
            all.add(new Problem(redundant ? Severity.WARNING : Severity.ERROR, d.directory().toString(),
                "device unavailable: " + d.problem()));
          }
          for (String damage : d.damage()) {
            boolean torn = damage.contains("torn tail"); // left by a crash; the next mount truncates it
            all.add(new Problem(redundant || torn ? Severity.WARNING : Severity.ERROR, d.directory().toString(), damage));
          }
        }
      }
      all.addAll(r.problems());
      return new Report(List.copyOf(all), r.inodes(), r.directories(), r.blocks(), r.bytesVerified());
    }
  }

  /**
   * Reads every intent-log record an overlay points to, checking its header (inode, offset, length) and
   * the CRC32C of its bytes: one error per overlay whose record is missing or damaged.
   */
  public static List<Problem> checkOverlays(MetadataStore meta, IntentLog log) throws IOException {
    List<Problem> out = new ArrayList<>();
    int bs = meta.blockSize();
    meta.forEachOverlay((ino, o) -> {
      try {
        log.read(o.logFile(), o.logPos(), ino, o.index() * bs + o.offset(), o.length(), o.crc());
      } catch (FsException e) {
        out.add(new Problem(Severity.ERROR, "inode " + ino, "intent-log overlay of block " + o.index() + " at "
            + o.logFile() + ":" + o.logPos() + ": " + e.getMessage()));
      }
    });
    return out;
  }

  /** As {@link #check(MetadataStore, BlockStore, boolean, Consumer)}, with counts: the block-record phase reports records done of all. */
  public static Report check(MetadataStore meta, BlockStore store, boolean verifyData,
      io.dynamicfs.core.api.ProgressListener progress) throws IOException {
    return new Fsck(meta, store).run(verifyData, phase -> progress.progress(phase, 0, 0), progress);
  }

  private Report run(boolean verifyData, Consumer<String> progress, io.dynamicfs.core.api.ProgressListener counts)
      throws IOException {
    progress.accept("reading inodes");
    meta.forEachInode(i -> inodes.put(i.ino(), i));
    Set<Long> orphans = new HashSet<>(meta.orphans());

    progress.accept("checking directory entries");
    Map<Long, Integer> links = new HashMap<>();
    Map<Long, Integer> subdirs = new HashMap<>();
    meta.forEachDirent((parent, name, child) -> {
      Inode c = inodes.get(child);
      Inode p = inodes.get(parent);
      if (p == null || !p.isDirectory()) {
        error("inode " + parent, "holds entry '" + name + "' but is not a directory");
      }
      paths.add(parent, name, child);
      if (c == null) {
        problems.add(new Problem(Severity.ERROR, pathOf(parent) + "/" + name, "names missing inode " + child));
        return;
      }
      links.merge(child, 1, Integer::sum);
      if (c.isDirectory()) {
        subdirs.merge(parent, 1, Integer::sum);
      }
    });

    progress.accept("checking link counts");
    long dirs = 0;
    for (Inode i : inodes.values()) {
      int refs = links.getOrDefault(i.ino(), 0);
      if (i.isDirectory() && orphans.contains(i.ino()) && refs == 0 && i.nlink() == 0) {
        problems.add(new Problem(Severity.WARNING, "directory inode " + i.ino(),
            "removed while open; reclaimed at next mount"));
      } else if (i.isDirectory()) {
        dirs++;
        int expected = 2 + subdirs.getOrDefault(i.ino(), 0);
        if (i.nlink() != expected) {
          error(pathOf(i.ino()), "directory link count " + i.nlink() + ", expected " + expected);
        }
        if (i.ino() != FileSystem.ROOT_INO) {
          if (refs != 1) {
            error(pathOf(i.ino()), "directory has " + refs + " names");
          } else if (paths.parentOf(i.ino()) != i.parent()) {
            error(pathOf(i.ino()), "parent recorded as " + i.parent() + " but entry is in "
                + paths.parentOf(i.ino()));
          }
        }
      } else if (orphans.contains(i.ino()) && refs == 0 && i.nlink() == 0) {
        problems.add(new Problem(Severity.WARNING, "inode " + i.ino(),
            "unlinked while open; reclaimed at next mount"));
      } else if (refs == 0) {
        error("inode " + i.ino(), "is not reachable from any directory (nlink " + i.nlink() + ")");
      } else if (i.nlink() != refs) {
        error(pathOf(i.ino()), "link count " + i.nlink() + ", but " + refs + " names");
      }
    }
    if (!inodes.containsKey(FileSystem.ROOT_INO)) {
      error("/", "root directory is missing");
    }

    progress.accept("checking intent-log overlays");
    meta.forEachOverlay((ino, o) -> {
      Inode i = inodes.get(ino);
      if (i == null || !i.isRegular()) {
        error("inode " + ino, "intent-log overlay of block " + o.index() + " for an inode that is not a regular file");
      } else if (o.index() * meta.blockSize() + o.offset() + o.length() > i.size()) {
        error(pathOf(ino), "intent-log overlay " + o.offset() + "+" + o.length() + " of block " + o.index()
            + " lies past the end of the file (" + i.size() + " bytes)");
      }
    });

    progress.accept("checking block lists");
    int bs = meta.blockSize();
    Map<BlockId, Long> counted = new HashMap<>();
    Map<BlockId, String> firstUser = new HashMap<>();
    Map<Long, Long> storedPerInode = new HashMap<>();
    // Reserved block indexes count a whole block each; their unwritten parts add up to the reserved total.
    Set<String> reservedKeys = new HashSet<>();
    long[] unwritten = {0};
    meta.forEachReservation((ino, idx) -> {
      Inode i = inodes.get(ino);
      if (i == null || !i.isRegular()) {
        error("inode " + ino, "reservation at block " + idx + " for an inode that is not a regular file");
        return;
      }
      reservedKeys.add(ino + "/" + idx);
      storedPerInode.merge(ino, (long) bs, Long::sum);
      unwritten[0] += bs;
    });
    meta.forEachChunk((ino, chunk) -> {
      Inode i = inodes.get(ino);
      String where = pathOf(ino) + " @" + chunk.index() * (long) bs;
      if (i == null || !i.isRegular()) {
        error(where, "block list entry for an inode that is not a regular file");
        return;
      }
      if (chunk.index() * (long) bs >= i.size()) {
        error(where, "block list entry past the end of the file (size " + i.size() + ")");
      }
      if (reservedKeys.contains(ino + "/" + chunk.index())) {
        unwritten[0] -= chunk.length();
      } else {
        storedPerInode.merge(ino, (long) chunk.length(), Long::sum);
      }
      if (chunk.isInline()) {
        return;
      }
      counted.merge(chunk.id(), 1L, Long::sum);
      firstUser.putIfAbsent(chunk.id(), where);
    });
    for (Inode i : inodes.values()) {
      if (i.isRegular() && i.storedBytes() != storedPerInode.getOrDefault(i.ino(), 0L)) {
        problems.add(new Problem(Severity.WARNING, pathOf(i.ino()), "recorded stored bytes " + i.storedBytes()
            + " differ from its blocks' " + storedPerInode.getOrDefault(i.ino(), 0L)));
      }
    }

    if (meta.reservedBytes() != unwritten[0]) {
      problems.add(new Problem(Severity.WARNING, "/", "recorded reserved bytes " + meta.reservedBytes()
          + " differ from the reservations' unwritten " + unwritten[0]));
    }

    progress.accept("checking block records" + (verifyData ? " and verifying data" : ""));
    long[] blocks = {0};
    long[] verified = {0};
    Set<BlockId> known = new HashSet<>();
    List<Map.Entry<BlockId, BlockRecord>> records = new ArrayList<>();
    meta.forEachBlock((id, r) -> records.add(Map.entry(id, r)));
    String phase = "checking block records" + (verifyData ? " and verifying data" : "");
    for (Map.Entry<BlockId, BlockRecord> e : records) {
      counts.progress(phase, blocks[0], records.size());
      BlockId id = e.getKey();
      BlockRecord r = e.getValue();
      known.add(id);
      blocks[0]++;
      long c = counted.getOrDefault(id, 0L);
      String where = firstUser.getOrDefault(id, "block " + id);
      if (c != r.refs()) {
        error(where, "block " + id + " has reference count " + r.refs() + " but " + c + " references");
      }
      if (!store.contains(id)) {
        error(where, "block " + id + " is missing from the block store");
        continue;
      }
      if (verifyData && store instanceof TieredStore tiered && r.tier() < tiered.tiers().size()
          && tiered.tiers().get(r.tier()).redundancy().tolerance() > 0) {
        BlockCheck bc = tiered.tiers().get(r.tier()).check(id, false);
        verified[0] += bc.bytes();
        switch (bc.verdict()) {
          case UNREPAIRABLE -> error(where, "block " + id + " is unreadable: " + bc.bad() + " bad and " + bc.missing()
              + " missing copies or shards, not enough left");
          case HEALTHY -> { }
          default -> problems.add(new Problem(Severity.WARNING, where, "block " + id + " has " + bc.bad() + " bad and "
              + bc.missing() + " missing copies or shards; still readable ('dynamicfs scrub' repairs it)"));
        }
      } else if (verifyData) {
        try {
          byte[] b = store.get(id);
          verified[0] += b.length;
          if (b.length != r.rawLength()) {
            error(where, "block " + id + " reads back " + b.length + " bytes, expected " + r.rawLength());
          } else if (!BlockId.hash(b, 0, b.length).equals(id)) {
            error(where, "block " + id + " content does not match its hash");
          }
        } catch (FsException ex) {
          error(where, ex.getMessage());
        }
      }
    }
    counts.progress(phase, blocks[0], records.size());
    for (Map.Entry<BlockId, Long> e : counted.entrySet()) {
      if (!known.contains(e.getKey())) {
        error(firstUser.get(e.getKey()), "references block " + e.getKey() + " which has no record");
      }
    }
    Set<BlockId> pending = meta.pendingDeletes(Integer.MAX_VALUE).keySet();
    for (BlockId id : pending) {
      if (known.contains(id)) {
        error("block " + id, "is both referenced and pending deletion");
      }
    }
    long[] unreferenced = {0};
    store.forEachId(id -> {
      if (!known.contains(id) && !pending.contains(id)) {
        unreferenced[0]++;
      }
    });
    if (unreferenced[0] > 0) {
      problems.add(new Problem(Severity.WARNING, "block store",
          unreferenced[0] + " unreferenced records (stored bytes no metadata names, left by a crash or a commit that"
              + " never came: a single node reclaims them at its next mount; a cluster's nodes keep them for now,"
              + " see 'fsck unplaced copies')"));
    }
    meta.forEachOwnedRecord(owner -> {
      if (!inodes.containsKey(owner[0])) {
        error("inode " + owner[0], (owner[1] == 0 ? "xattr" : "symlink target") + " of a missing inode");
      }
    });
    return new Report(List.copyOf(problems), inodes.size(), dirs, blocks[0], verified[0]);
  }

  private void error(String path, String message) {
    problems.add(new Problem(Severity.ERROR, path, message));
  }

  private String pathOf(long ino) {
    return paths.pathOf(ino);
  }
}
