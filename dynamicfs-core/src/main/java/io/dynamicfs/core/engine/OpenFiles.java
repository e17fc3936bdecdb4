package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.intent.IntentLog;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The table of open files: one {@link OpenFile} per inode with open handles, read lock-free and changed
 * only under the {@link MetaLog} monitor, so "is it open?" and "remove its last name" are decided
 * together (an unlinked file stays readable until its last handle goes, then it is reclaimed).
 */
final class OpenFiles implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OpenFiles.class);

  private final FormatOptions format;
  private final MetadataStore meta;
  private final BlockStore store;
  private final MetaLog metaLog;
  private final BlockPipeline pipeline;
  private final TimeSource clock;
  private final Map<Long, OpenFile> files = new ConcurrentHashMap<>();
  /**
   * Blocks held dirty in memory across open files: a file may keep up to 64 (see OpenFile), but past this
   * total every file beyond its first 8 hands its oldest to the pipeline.
   */
  static final int MAX_TOTAL_DIRTY_BYTES = 128 << 20;
  private final AtomicInteger dirtyBlocks = new AtomicInteger();
  private final OpenFile.DirtyBudget budget;
  private final ExecutorService commitPool;
  /** The write intent log fsync uses, or null. */
  private final IntentLog intents;
  /** Other clients change the metadata too (a cluster mount's replica): see OpenFile#othersWrite. */
  private final boolean othersWrite;

  OpenFiles(FormatOptions format, MetadataStore meta, BlockStore store, MetaLog metaLog, BlockPipeline pipeline,
      TimeSource clock, IntentLog intents, boolean othersWrite) {
    this.intents = intents;
    this.othersWrite = othersWrite;
    this.format = format;
    this.meta = meta;
    this.store = store;
    this.metaLog = metaLog;
    this.pipeline = pipeline;
    this.clock = clock;
    int maxDirty = Math.max(16, MAX_TOTAL_DIRTY_BYTES / format.blockSize());
    this.budget = new OpenFile.DirtyBudget() {
      @Override
      public void add(int blocks) {
        dirtyBlocks.addAndGet(blocks);
      }

      @Override
      public boolean exceeded() {
        return dirtyBlocks.get() > maxDirty;
      }
    };
    AtomicInteger n = new AtomicInteger();
    this.commitPool = Executors.newFixedThreadPool(2, r -> {
      Thread t = new Thread(r, "dfs-commit-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
  }

  /** Blocks the open files hold dirty, as they last reported. */
  int dirtyBlocks() {
    return dirtyBlocks.get();
  }

  /** The inode's open file, or null. */
  OpenFile get(long ino) {
    return files.get(ino);
  }

  boolean isOpen(long ino) {
    return files.containsKey(ino);
  }

  Collection<OpenFile> files() {
    return files.values();
  }

  /** Registers one more user of the inode's OpenFile, creating it if needed. */
  OpenFile acquire(Inode i) throws FsException {
    OpenFile of;
    boolean shared;
    synchronized (metaLog) {
      Inode now = meta.requireInode(i.ino());
      of = files.get(now.ino());
      shared = of != null;
      if (of == null) {
        of = new OpenFile(now, format.blockSize(), format.inlineMax(), meta, store, metaLog, pipeline, clock,
            commitPool, intents, budget, othersWrite);
        files.put(now.ino(), of);
      }
      of.opens++;
    }
    if (shared) {
      of.adoptStored(); // an older handle's view may predate another mount's change
    }
    return of;
  }

  /** Drops one user; the last one commits (or discards, if the inode is gone) and reclaims an orphan. */
  void release(OpenFile of) throws IOException {
    IOException failure = null;
    synchronized (metaLog) {
      if (of.opens > 1) {
        of.opens--;
        return;
      }
    }
    Inode i = meta.inode(of.ino);
    try {
      if (i != null && i.nlink() > 0) {
        of.commit();
      }
    } catch (IOException e) {
      failure = e;
    }
    boolean reclaimed = false;
    synchronized (metaLog) {
      of.opens--;
      if (of.opens > 0) {
        if (failure != null) {
          throw failure;
        }
        return;
      }
      files.remove(of.ino);
      of.leaveBudget();
      Inode now = meta.inode(of.ino);
      if (now != null && now.nlink() == 0) {
        metaLog.submit(new MetaOp.ReclaimInode(of.ino));
        reclaimed = true;
      }
    }
    if (reclaimed) {
      // Outside the monitor: discard waits for blocks still in the pipeline, which need it to pin.
      of.discard();
    }
    if (failure != null) {
      throw failure;
    }
  }

  /** Commits every file with unpublished changes (the periodic flusher); failures are logged. */
  void commitChanged() {
    for (OpenFile of : files.values()) {
      try {
        if (of.hasChanges()) {
          of.tryCommit();
        }
      } catch (IOException | RuntimeException e) {
        log.atWarn().addKeyValue("op", "commit").addKeyValue("ino", of.ino).addKeyValue("error", e.getMessage())
            .log("background commit failed");
      }
    }
  }

  @Override
  public void close() {
    commitPool.shutdown();
  }
}
