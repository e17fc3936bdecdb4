package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.meta.Inode;
import java.util.List;

/**
 * A read of replicated metadata, answered by a replica's state machine from its own store
 * ({@link MetadataStateMachine#query}); {@code R} is the answer's type. Failures come back as the errno a
 * local store read raises (ENOENT for a missing name or inode, ENODATA for a missing xattr, EINVAL for
 * readlink of a non-symlink). {@link QueryCodec} is the wire form.
 */
public sealed interface MetaQuery<R> {

  /** The inode a name in a directory refers to; ENOENT when the name is absent. */
  record Lookup(long parent, String name) implements MetaQuery<Inode> {}

  /** getattr; ENOENT when absent. */
  record GetInode(long ino) implements MetaQuery<Inode> {}

  /** Every entry of a directory, in name order. */
  record ReadDir(long dir) implements MetaQuery<List<DirEntry>> {}

  record ReadLink(long ino) implements MetaQuery<String> {}

  /** An xattr's value; ENODATA when absent. */
  record GetXattr(long ino, String name) implements MetaQuery<byte[]> {}

  record ListXattrs(long ino) implements MetaQuery<List<String>> {}

  /** Block-list entries of a file with {@code from <= index < to}. */
  record Chunks(long ino, long from, long to) implements MetaQuery<List<Chunk>> {}

  /** A block's record; ENOENT when no file references it (nor is it pending deletion). */
  record Block(BlockId id) implements MetaQuery<BlockRecord> {}

  /** The replica's applied position (for read-your-writes stale reads and for tests). */
  record Applied() implements MetaQuery<Position> {}

  /**
   * Where the replica's last operation was applied: what a mount's replica must have applied to hold
   * everything the asked replica holds. Unlike {@link Applied} it leaves out the Raft metadata entry that
   * follows each commit, which a listener learns is committed only at the next append (up to a heartbeat
   * later), so a barrier waiting for it would wait that long after every write.
   */
  record LastChange() implements MetaQuery<Position> {}

  /** The cluster's members, every state, by node id. */
  record Nodes() implements MetaQuery<List<io.dynamicfs.core.meta.MetadataStore.Node>> {}

  /** The cluster's settings (written by cluster-init); ENOENT before. */
  record Config() implements MetaQuery<io.dynamicfs.core.meta.MetaOp.SetClusterConfig> {}

  /**
   * How many referenced blocks name node {@code node} in their placement (what a draining node still holds
   * for the cluster); a scan of the block records.
   */
  record BlocksOn(int node) implements MetaQuery<Long> {}

  /**
   * For each of {@code ids}, whether node {@code node} may hold a copy of it for the cluster: its block record
   * places a copy there, or the block waits in pending deletion (the reclaimer deletes its copies on every
   * node). The node's orphan scan asks this, linearizably, about copies untouched for its grace period; at
   * most {@link #MAX_IDS} ids a query.
   */
  record PlacedOn(int node, List<BlockId> ids) implements MetaQuery<boolean[]> {
    public static final int MAX_IDS = 1024;

    public PlacedOn {
      ids = List.copyOf(ids);
      if (ids.size() > MAX_IDS) {
        throw new IllegalArgumentException(ids.size() + " ids in one PlacedOn query, at most " + MAX_IDS);
      }
    }
  }

  /** A Raft log position. */
  record Position(long term, long index) {}
}
