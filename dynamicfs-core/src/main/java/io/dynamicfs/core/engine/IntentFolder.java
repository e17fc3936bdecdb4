package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.intent.IntentLog;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Merges intent-log overlays into whole blocks and reclaims the log files nothing references any more.
 *
 * <p>A fold starts a new log file, folds every file with overlays through its {@link OpenFile} (under that
 * file's commit mutex, so no fsync of it logs meanwhile; an ordinary commit of the merged blocks drops the
 * overlays in the same metadata operation), syncs the metadata, and only then deletes the log files no
 * overlay names: a crash before that sync leaves the overlays and their records in place. One fold at a
 * time (this object's monitor); an fsync that finds the log full folds first, before it takes any file's
 * lock ({@link #makeRoom}), so the log stays near its bound.
 */
final class IntentFolder {
  private static final Logger log = LoggerFactory.getLogger(IntentFolder.class);

  private final IntentLog intents;
  private final MetadataStore meta;
  private final OpenFiles openFiles;
  private volatile long lastFoldNs = System.nanoTime();
  private volatile long folds;

  IntentFolder(IntentLog intents, MetadataStore meta, OpenFiles openFiles) {
    this.intents = intents;
    this.meta = meta;
    this.openFiles = openFiles;
  }

  /** Back-pressure: folds now when the log has reached its bound. */
  void makeRoom() throws IOException {
    if (intents.full()) {
      synchronized (this) {
        if (intents.full()) {
          foldAll();
        }
      }
    }
  }

  /** The periodic task: folds when the log is a quarter full, or holds anything and 30 s passed since the last fold. */
  void background() {
    long bytes = intents.bytes();
    boolean due = bytes >= intents.maxBytes() / 4
        || bytes > 0 && System.nanoTime() - lastFoldNs > 30_000_000_000L;
    if (!due) {
      return;
    }
    try {
      foldAll();
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("op", "fold").addKeyValue("error", e.getMessage()).log("intent log fold failed");
    }
  }

  /** Folds every file's overlays, syncs metadata, reclaims unreferenced log files; returns blocks folded. */
  synchronized int foldAll() throws IOException {
    intents.roll();
    Set<Long> inos = new TreeSet<>();
    meta.forEachOverlay((ino, o) -> inos.add(ino));
    int blocks = 0;
    for (long ino : inos) {
      Inode i = meta.inode(ino);
      if (i == null || !i.isRegular()) {
        continue; // removing the inode dropped its overlays; an orphan's go with it at reclaim
      }
      OpenFile of;
      try {
        of = openFiles.acquire(i);
      } catch (FsException e) {
        if (e.errno() == Errno.ENOENT) {
          continue; // removed since the scan: its overlays went with it
        }
        throw e;
      }
      try {
        blocks += of.fold();
      } finally {
        openFiles.release(of);
      }
    }
    meta.sync(); // the overlays' removal is durable before their records go
    reclaim();
    folds++;
    lastFoldNs = System.nanoTime();
    log.atDebug().addKeyValue("files", inos.size()).addKeyValue("blocks", blocks)
        .addKeyValue("logBytes", intents.bytes()).log("intent log folded");
    return blocks;
  }

  /** Deletes the log files no overlay references (at mount, after recovery; after each fold). */
  synchronized long reclaim() throws IOException {
    try {
      return reclaimChecked();
    } catch (java.io.UncheckedIOException e) {
      throw e.getCause();
    }
  }

  private long reclaimChecked() throws IOException {
    return intents.reclaim(() -> {
      Set<Integer> referenced = new HashSet<>();
      try {
        meta.forEachOverlay((ino, o) -> referenced.add(o.logFile()));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return referenced;
    });
  }

  long folds() {
    return folds;
  }
}
