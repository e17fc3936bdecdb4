package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of one replica's state machine, under Ratis' state-machine directory {@code sm/}:
 *
 * <pre>
 *   sm/db/                          the live RocksDB (MetadataStore)
 *   sm/snapshots/snapshot.T_I/      RocksDB checkpoints at term T, index I, each complete only with
 *                                   its CHECKPOINT marker (names and sizes of its files, CRC32C last)
 *   sm/db.installing, sm/db.old     only while a checkpoint is being swapped in as the live DB
 * </pre>
 *
 * <p>{@link #getSnapshotDir()} is {@code sm/snapshots}, not {@code sm/}: Ratis' chunked install writes the
 * leader's files into a temporary directory and then <em>replaces the snapshot directory wholesale</em>
 * (SnapshotManager#rename), which must never take the live database with it.
 *
 * <p>Not thread-safe: Ratis calls it from the state machine updater thread (take, install, clean up) and
 * from the appender threads only through {@link #getLatestSnapshot()}, which reads a volatile.
 */
final class CheckpointStorage implements StateMachineStorage {
  private static final Logger log = LoggerFactory.getLogger(CheckpointStorage.class);
  static final String MARKER = "CHECKPOINT";
  private static final Pattern NAME = Pattern.compile("snapshot\\.(\\d+)_(\\d+)");
  private static final int RETAINED = 2;

  private Path smDir;
  private Path snapshots;
  private volatile FileListSnapshotInfo latest;

  @Override
  public void init(RaftStorage raftStorage) throws IOException {
    init(raftStorage.getStorageDir().getStateMachineDir().toPath());
  }

  void init(Path stateMachineDir) throws IOException {
    this.smDir = stateMachineDir;
    this.snapshots = smDir.resolve("snapshots");
    Files.createDirectories(snapshots);
    recoverSwap();
    latest = findLatest();
  }

  Path dbDir() {
    return smDir.resolve("db");
  }

  @Override
  public SnapshotInfo getLatestSnapshot() {
    return latest;
  }

  FileListSnapshotInfo latest() {
    return latest;
  }

  @Override
  public File getSnapshotDir() {
    return snapshots.toFile();
  }

  @Override
  public void format() {
    // nothing to prepare: init creates the directories
  }

  /**
   * Checkpoints {@code store} at its applied position (the caller holds apply off) as
   * {@code snapshot.T_I}, writes the marker last, renames it into place and keeps the newest two.
   * Returns the new snapshot (or the existing one at that position).
   */
  FileListSnapshotInfo take(MetadataStore store, long term, long index) throws IOException {
    Path done = snapshots.resolve(name(term, index));
    if (latest != null && latest.getIndex() == index && Files.isDirectory(done)) {
      return latest;
    }
    Path tmp = snapshots.resolve("tmp." + name(term, index));
    deleteTree(tmp);
    store.checkpoint(tmp);
    writeMarker(tmp);
    deleteTree(done);
    Files.move(tmp, done, StandardCopyOption.ATOMIC_MOVE);
    fsyncDir(snapshots);
    latest = describe(done, TermIndex.valueOf(term, index));
    cleanup(RETAINED);
    return latest;
  }

  /** The newest complete checkpoint on disk (after Ratis installed one, or at start), or null. */
  FileListSnapshotInfo reload() throws IOException {
    latest = findLatest();
    return latest;
  }

  @Override
  public void cleanupOldSnapshots(SnapshotRetentionPolicy policy) throws IOException {
    int keep = policy == null ? RETAINED : policy.getNumSnapshotsRetained();
    cleanup(Math.max(keep, RETAINED));
  }

  private void cleanup(int keep) throws IOException {
    List<Path> complete = new ArrayList<>();
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(snapshots)) {
      for (Path d : dirs) {
        String n = d.getFileName().toString();
        if (n.startsWith("tmp.")) {
          deleteTree(d); // an interrupted take; only the updater thread writes here
        } else if (NAME.matcher(n).matches() && verify(d)) {
          complete.add(d);
        }
      }
    }
    complete.sort(Comparator.comparingLong(CheckpointStorage::indexOf).reversed());
    for (Path old : complete.subList(Math.min(keep, complete.size()), complete.size())) {
      deleteTree(old);
    }
  }

  /**
   * Makes {@code snapshot} the live database directory: hard-links its SST files (immutable, so sharing
   * them is safe) and copies the rest into {@code db.installing}, then renames the old DB away and the new
   * one into place. The caller has closed the store. A crash anywhere leaves either the old or the new DB
   * as {@code db} after {@link #recoverSwap()}.
   */
  void swapIn(FileListSnapshotInfo snapshot) throws IOException {
    Path source = checkpointDir(snapshot);
    Path staging = smDir.resolve("db.installing");
    Path old = smDir.resolve("db.old");
    deleteTree(staging);
    Files.createDirectories(staging);
    for (String file : readMarker(source)) {
      Path from = source.resolve(file);
      Path to = staging.resolve(file);
      if (file.endsWith(".sst")) {
        try {
          Files.createLink(to, from);
          continue;
        } catch (UnsupportedOperationException | FileSystemException e) {
          // another filesystem: copy instead
        }
      }
      Files.copy(from, to);
      try (FileChannel c = FileChannel.open(to, StandardOpenOption.WRITE)) {
        c.force(true);
      }
    }
    fsyncDir(staging);
    deleteTree(old);
    if (Files.exists(dbDir())) {
      Files.move(dbDir(), old, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(staging, dbDir(), StandardCopyOption.ATOMIC_MOVE);
    fsyncDir(smDir);
    deleteTree(old);
  }

  /** Finishes or undoes a swap a crash interrupted: {@code db} is always the database to open. */
  private void recoverSwap() throws IOException {
    Path old = smDir.resolve("db.old");
    if (!Files.exists(dbDir()) && Files.exists(old)) {
      Files.move(old, dbDir(), StandardCopyOption.ATOMIC_MOVE);
    }
    deleteTree(old);
    deleteTree(smDir.resolve("db.installing"));
  }

  private FileListSnapshotInfo findLatest() throws IOException {
    Path best = null;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(snapshots)) {
      for (Path d : dirs) {
        if (NAME.matcher(d.getFileName().toString()).matches() && (best == null || indexOf(d) > indexOf(best))
            && verify(d)) {
          best = d;
        }
      }
    }
    if (best == null) {
      return null;
    }
    Matcher m = NAME.matcher(best.getFileName().toString());
    if (!m.matches()) {
      throw new IllegalStateException(best.toString());
    }
    return describe(best, TermIndex.valueOf(Long.parseLong(m.group(1)), Long.parseLong(m.group(2))));
  }

  /** The files Ratis sends to a follower: the checkpoint's own files and its marker (not Ratis' .md5 files). */
  private static FileListSnapshotInfo describe(Path dir, TermIndex at) throws IOException {
    List<FileInfo> files = new ArrayList<>();
    for (String f : readMarker(dir)) {
      files.add(new FileInfo(dir.resolve(f), null));
    }
    files.add(new FileInfo(dir.resolve(MARKER), null));
    return new FileListSnapshotInfo(files, at);
  }

  Path checkpointDir(SnapshotInfo s) {
    return snapshots.resolve(name(s.getTerm(), s.getIndex()));
  }

  private static String name(long term, long index) {
    return "snapshot." + term + "_" + index;
  }

  private static long indexOf(Path dir) {
    Matcher m = NAME.matcher(dir.getFileName().toString());
    return m.matches() ? Long.parseLong(m.group(2)) : -1;
  }

  // ---- the marker: "name size" per file, then "crc32c <hex>" of the lines above ---------------------

  private static void writeMarker(Path dir) throws IOException {
    StringBuilder b = new StringBuilder();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.sorted().toList()) {
        b.append(f.getFileName()).append(' ').append(Files.size(f)).append('\n');
      }
    }
    String body = b.toString();
    CRC32C crc = new CRC32C();
    crc.update(body.getBytes(StandardCharsets.UTF_8));
    Path marker = dir.resolve(MARKER);
    Files.writeString(marker, body + "crc32c " + Long.toHexString(crc.getValue()) + "\n");
    try (FileChannel c = FileChannel.open(marker, StandardOpenOption.WRITE)) {
      c.force(true);
    }
    fsyncDir(dir);
  }

  /** The checkpoint's file names, once its marker proves it complete; EIO otherwise. */
  static List<String> readMarker(Path dir) throws IOException {
    List<String> lines;
    try {
      lines = Files.readAllLines(dir.resolve(MARKER), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw FsException.of(Errno.EIO, "checkpoint %s has no %s marker (incomplete)", dir, MARKER);
    }
    if (lines.isEmpty() || !lines.get(lines.size() - 1).startsWith("crc32c ")) {
      throw FsException.of(Errno.EIO, "checkpoint marker in %s is truncated", dir);
    }
    StringBuilder body = new StringBuilder();
    List<String> names = new ArrayList<>();
    for (String line : lines.subList(0, lines.size() - 1)) {
      body.append(line).append('\n');
      int sp = line.lastIndexOf(' ');
      if (sp <= 0) {
        throw FsException.of(Errno.EIO, "checkpoint marker in %s has a bad line '%s'", dir, line);
      }
      String name = line.substring(0, sp);
      if (name.contains("/") || name.equals(MARKER) || name.startsWith(".")) {
        throw FsException.of(Errno.EIO, "checkpoint marker in %s names '%s'", dir, name);
      }
      long size = Long.parseLong(line.substring(sp + 1));
      Path f = dir.resolve(name);
      if (!Files.isRegularFile(f) || Files.size(f) != size) {
        throw FsException.of(Errno.EIO, "checkpoint %s: file %s is missing or not %d bytes", dir, name, size);
      }
      names.add(name);
    }
    CRC32C crc = new CRC32C();
    crc.update(body.toString().getBytes(StandardCharsets.UTF_8));
    String want = "crc32c " + Long.toHexString(crc.getValue());
    if (!want.equals(lines.get(lines.size() - 1))) {
      throw FsException.of(Errno.EIO, "checkpoint marker in %s fails its checksum", dir);
    }
    return names;
  }

  private static boolean verify(Path dir) {
    try {
      readMarker(dir);
      return true;
    } catch (IOException | NumberFormatException e) {
      log.atWarn().addKeyValue("dir", dir.toString()).addKeyValue("error", e.getMessage())
          .log("ignoring an incomplete or damaged checkpoint");
      return false;
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> all = Files.walk(p)) {
      for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    }
  }

  private static void fsyncDir(Path dir) throws IOException {
    try (FileChannel c = FileChannel.open(dir, StandardOpenOption.READ)) {
      c.force(true);
    }
  }
}
