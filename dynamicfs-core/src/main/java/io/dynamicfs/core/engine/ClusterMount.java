package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.StatFs;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.time.Duration;

/**
 * What the engine runs on in a cluster mount, built by the cluster module: the filesystem's format (from
 * the cluster), a local replica of the metadata that the Raft group keeps up to date (read-only to the
 * engine), the journal that proposes operations to the group, the block store over the nodes (caches go
 * on top through {@link EngineOptions#storeDecorator}), where free space comes from, and the client
 * session's lifetime (renewed every third of it; the leader ends it when not renewed). Before every open
 * the engine passes the {@code openBarrier}.
 * {@code resources} is closed after the engine (the replica, the Raft client, the node connections).
 */
public record ClusterMount(FormatOptions format, MetadataStore replica, OpJournal journal, BlockStore blocks,
    SpaceSource space, OpenBarrier openBarrier, Duration sessionTtl, String client, AutoCloseable resources) {

  /**
   * Called before inode {@code ino} is opened, and with the directory before a name missing from the replica
   * is answered ENOENT: returns once the replica has applied everything the cluster had committed, and any
   * change another client has made to the inode but not yet logged (close-to-open consistency: a file
   * closed elsewhere is read whole after open).
   */
  @FunctionalInterface
  public interface OpenBarrier {
    void await(long ino) throws IOException;
  }

  /** The cluster's space, as statfs reports it. */
  @FunctionalInterface
  public interface SpaceSource {
    StatFs statfs() throws IOException;
  }

  public ClusterMount {
    if (sessionTtl.compareTo(Duration.ofSeconds(3)) < 0) {
      throw new IllegalArgumentException("session lifetime must be at least 3 s, got " + sessionTtl);
    }
    if (journal.exclusive()) {
      throw new IllegalArgumentException("a cluster mount's journal is shared with other clients");
    }
  }
}
