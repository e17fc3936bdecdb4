package io.dynamicfs.cluster.mount;

import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a cluster mount keeps its metadata replica: a directory in the temp dir that the mount holds a lock on
 * while it lives, and removes when it ends.
 *
 * <p>A mount that ends without unmounting (kill -9, an out-of-memory exit) cannot remove it, and a replica holds
 * all of the cluster's metadata, small files' bytes included (a new mount's first checkpoint was 370 MB in
 * session 21): a machine whose mounts crash now and then would fill its disk with them. The lock goes with the
 * process, so every mount that starts removes the directories whose lock it can take. The lock file is put in
 * place already locked (made under another name, then renamed), so a directory is never taken for a dead one
 * while its mount is still starting; one without a lock file (made by a version before this one, whose mount
 * may still run) is left alone.
 */
final class ReplicaDirectory implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ReplicaDirectory.class);
  static final String PREFIX = "dynamicfs-mount-replica-";
  private static final String LOCK = "lock";

  private final Path dir;
  private final FileChannel lockChannel;

  private ReplicaDirectory(Path dir, FileChannel lockChannel) {
    this.dir = dir;
    this.lockChannel = lockChannel;
  }

  /** A new directory in {@code base}, locked, after removing those in {@code base} that dead mounts left. */
  static ReplicaDirectory create(Path base) throws IOException {
    sweep(base);
    Path dir = Files.createTempDirectory(base, PREFIX);
    Path making = dir.resolve(LOCK + ".new");
    FileChannel ch = FileChannel.open(making, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      ch.lock();
      Files.move(making, dir.resolve(LOCK), StandardCopyOption.ATOMIC_MOVE);
      return new ReplicaDirectory(dir, ch);
    } catch (IOException | RuntimeException e) {
      ch.close();
      deleteTree(dir);
      throw e;
    }
  }

  /** Where the replica's Raft server keeps its log and store. */
  Path raftStorage() {
    return dir.resolve("raft");
  }

  Path path() {
    return dir;
  }

  /**
   * Removes every replica directory in {@code base} whose lock no live process holds; returns how many.
   * Directories held by this process (another mount in the same JVM) or by another one stay.
   */
  static int sweep(Path base) {
    int removed = 0;
    try (DirectoryStream<Path> dirs = Files.newDirectoryStream(base, PREFIX + "*")) {
      for (Path d : dirs) {
        if (removeIfDead(d)) {
          removed++;
        }
      }
    } catch (IOException e) {
      log.atWarn().addKeyValue("dir", base.toString()).addKeyValue("error", String.valueOf(e))
          .log("could not look for replica directories that ended mounts left");
    }
    return removed;
  }

  private static boolean removeIfDead(Path d) {
    Path lock = d.resolve(LOCK);
    if (!Files.isRegularFile(lock)) {
      return false;
    }
    try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.WRITE)) {
      FileLock l;
      try {
        l = ch.tryLock();
      } catch (OverlappingFileLockException mine) {
        return false;
      }
      if (l == null) {
        return false;
      }
      log.atInfo().addKeyValue("dir", d.toString())
          .log("removing the metadata replica a mount left when it ended without unmounting");
      deleteTree(d);
      return true;
    } catch (IOException e) {
      return false; // gone meanwhile, or not ours to open
    }
  }

  /** Releases the lock and removes the directory. */
  @Override
  public void close() {
    try {
      lockChannel.close();
    } catch (IOException e) {
      log.atDebug().addKeyValue("error", String.valueOf(e)).log("closing the replica directory's lock failed");
    }
    deleteTree(dir);
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      log.atWarn().addKeyValue("dir", dir.toString()).log("could not delete the mount's replica directory");
    }
  }
}
