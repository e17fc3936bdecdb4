package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.core.storage.TieredStore;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a single node does when it opens DATA, before serving: formats a new filesystem (the root), ends
 * the client sessions of earlier runs (DATA is locked, so they are over) with the files they kept open,
 * opens this run's session, removes block records that no metadata references (a crash between a store
 * write and its commit, or an interrupted tier move), and reclaims blocks pending deletion. A cluster node
 * does none of this: its metadata comes from the Raft log, and the leader expires sessions.
 */
final class Recovery {
  private static final Logger log = LoggerFactory.getLogger(Recovery.class);

  private final DataDirectory data;
  private final MetadataStore meta;
  private final MetaLog metaLog;
  private final TieredStore tiers;
  private final BlockReclaimer reclaimer;
  private final TimeSource clock;

  Recovery(DataDirectory data, MetadataStore meta, MetaLog metaLog, TieredStore tiers, BlockReclaimer reclaimer,
      TimeSource clock) {
    this.data = data;
    this.meta = meta;
    this.metaLog = metaLog;
    this.tiers = tiers;
    this.reclaimer = reclaimer;
    this.clock = clock;
  }

  /** Recovers, and opens {@code session} for this run. */
  void run(long session) throws IOException {
    if (meta.inode(FileSystem.ROOT_INO) == null) {
      long now = clock.nowNanos();
      metaLog.submit(MetaOp.CreateNode.root(FileType.DIRECTORY.bits() | 0755, (int) currentUid(),
          (int) currentGid(), now));
      log.atInfo().addKeyValue("data", data.root().toString()).addKeyValue("block_size", data.format().blockSize())
          .addKeyValue("compression", data.format().codec().toString()).log("filesystem formatted");
    }
    // DATA is locked: every session recorded is an earlier run of this daemon that did not close, so it
    // is over, and so are the files it kept open. Orphans of no live session (0) go too.
    int orphans = meta.orphans().size();
    for (MetadataStore.Session s : meta.sessions()) {
      metaLog.submit(new MetaOp.CloseSession(s.id()));
    }
    for (var e : meta.orphanSessions().entrySet()) {
      metaLog.submit(new MetaOp.ReclaimInode(e.getKey()));
    }
    metaLog.submit(new MetaOp.OpenSession(session, "local pid " + ProcessHandle.current().pid(), Long.MAX_VALUE));
    // A record is garbage on a tier when no metadata references the block, or when the metadata places it
    // on another tier that holds it (a tier move interrupted by a crash, before or after its commit).
    List<FsException> failures = new ArrayList<>();
    List<BlockId> unreferenced = new ArrayList<>();
    for (Tier t : tiers.tiers()) {
      List<BlockId> garbage = new ArrayList<>();
      t.forEachId(id -> {
        try {
          BlockRecord r = meta.block(id);
          if (r == null ? !meta.isPendingDelete(id) : (r.tier() != t.number() && r.tier() < tiers.tiers().size()
              && tiers.tiers().get(r.tier()).contains(id))) {
            garbage.add(id); // (pending deletions are the reclaimer's, below)
          }
        } catch (FsException e) {
          failures.add(e);
        }
      });
      if (!failures.isEmpty()) {
        throw failures.get(0);
      }
      for (BlockId id : garbage) {
        t.delete(id);
      }
      unreferenced.addAll(garbage);
    }
    int purged = reclaimer.reclaim();
    if (orphans > 0 || !unreferenced.isEmpty()) {
      log.atInfo().addKeyValue("orphan_inodes", orphans).addKeyValue("unreferenced_blocks", unreferenced.size())
          .addKeyValue("purged_blocks", purged).log("recovered after unclean shutdown");
    }
  }

  private static long currentUid() {
    return unixAttr("uid");
  }

  private static long currentGid() {
    return unixAttr("gid");
  }

  private static long unixAttr(String name) {
    try {
      Object v = Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:" + name);
      return ((Number) v).longValue();
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
