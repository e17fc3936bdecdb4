package io.dynamicfs.core.meta;

import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.codec.Codec;
import java.util.List;

/**
 * Every metadata mutation, as an immutable record. Clock values are stamped by the proposer (the leader,
 * in a cluster) and carried in the record; new inode numbers are allocated by {@link OpApplier#apply}
 * itself, from a counter kept in the same store. So apply is deterministic: the same log of operations
 * gives byte-identical metadata on every replica. {@link OpCodec} serialises them.
 */
public sealed interface MetaOp {

  /**
   * mknod, mkdir, symlink and create: a new inode, numbered by apply, and its name. {@code uid}/{@code gid}
   * are the caller's; apply gives the new inode the group of a set-group-ID parent (and a new directory
   * the set-group-ID bit), and drops set-group-ID from a file whose group the caller is not in unless
   * {@code privileged}. {@code target} only for symlinks. Parent 0 with an empty name creates the root.
   */
  record CreateNode(long parent, String name, int mode, int uid, int gid, boolean privileged, long rdev,
      String target, long timeNs) implements MetaOp {
    /** The root directory of a new filesystem, owned by {@code uid}/{@code gid}. */
    public static CreateNode root(int mode, int uid, int gid, long timeNs) {
      return new CreateNode(0, "", mode, uid, gid, true, 0, null, timeNs);
    }
  }

  /**
   * {@code op} on behalf of client session {@code session}, the {@code seq}-th op that session numbered
   * (a cluster mount wraps each of its ops; the sequence lets it recognise its own entries in the log).
   * Apply refuses it with ESTALE when the session has ended. Inside it, the session may create with its
   * granted inode numbers ({@link CreateGranted}) and use inodes it holds a lease on; every op — wrapped or
   * not — that would read or change an inode under another session's lease fails with EBUSY and names the
   * leased directory in the result's {@code ino}, so its proposer can recall the lease
   * ({@link RecallDirLease}) and try again.
   */
  record AsSession(long session, long seq, MetaOp op) implements MetaOp {}

  /**
   * Inode numbers for the op's session to create with on its own ({@link CreateGranted}): apply hands out
   * the next {@code count} (1 to 65536) numbers from its counter and records the range under the session;
   * the result's {@code ino} is the first. Only inside {@link AsSession}; the range dies with the session.
   */
  record GrantInodes(long count) implements MetaOp {}

  /**
   * {@link CreateNode} with an inode number the op's session was granted ({@link GrantInodes}) and has not
   * used: the session knows the number before the op is logged. EINVAL for any other number.
   */
  record CreateGranted(long ino, CreateNode create) implements MetaOp {}

  /**
   * The op's session takes directory {@code dir}'s lease: from now on no other session's op may read or
   * change the directory, nor the inodes the session creates in it while it holds the lease (they are
   * covered by it), so the holder knows the outcome of its ops there before they are logged. EBUSY (the
   * holder's directory in {@code ino}) when another session holds it or a lease covering it; taking a lease
   * the session already holds succeeds. Only inside {@link AsSession}.
   */
  record AcquireDirLease(long dir) implements MetaOp {}

  /**
   * Asks the holder of {@code dir}'s lease to give it up: marks the lease recalled (the holder's replica
   * sees it and answers with {@link ReleaseDirLease} once its pending ops there are logged). Succeeds and
   * changes nothing when the directory has no lease. Anyone may log it.
   */
  record RecallDirLease(long dir) implements MetaOp {}

  /**
   * The op's session gives up {@code dir}'s lease and with it every inode the lease covers; nothing when
   * the session does not hold it. Only inside {@link AsSession}. A session's leases also end with it.
   */
  record ReleaseDirLease(long dir) implements MetaOp {}

  /**
   * Several ops in one log entry, applied one after the other, each all or nothing on its own (a cluster
   * mount sends the ops it applied ahead this way, so one Raft round carries many). The entry's answer is
   * its first failure, or success. A crash between two of them resumes after the last one applied (the
   * store records how far the entry went). No batch inside a batch.
   */
  record Batch(List<MetaOp> ops) implements MetaOp {}

  /** A new name for an existing non-directory. */
  record Link(long ino, long newParent, String newName, long timeNs) implements MetaOp {}

  /**
   * unlink or rmdir. When the last name of a file goes and {@code session} is not 0 (that client session
   * has it open), the inode becomes an orphan of the session, reclaimed by {@link ReclaimInode} at its last
   * close, or with the session when it closes or expires ({@link CloseSession}, {@link ExpireSessions}).
   */
  record Remove(long parent, String name, boolean directory, long session, long timeNs) implements MetaOp {}

  /** rename(2) with renameat2 flags; {@code session} as for {@link Remove}, for a replaced target. */
  record Rename(long parent, String name, long newParent, String newName, int flags, long session,
      long timeNs) implements MetaOp {}

  /**
   * A client (a mount) starts a session: it owns the files it holds open after their last name is gone.
   * {@code id} is chosen at random by the client (a duplicate fails EEXIST); {@code expiresNs} is when the
   * session ends unless renewed (Long.MAX_VALUE: only an explicit close ends it).
   */
  record OpenSession(long id, String client, long expiresNs) implements MetaOp {}

  /**
   * Changes nothing but the applied index. A cluster client logs one to make the leader exchange entries
   * with its followers at once (see RaftMetaClient's linearizable reads).
   */
  record Noop() implements MetaOp {}

  /** Moves a live session's expiry (a client's heartbeat); ENOENT when it has already ended. */
  record RenewSession(long id, long expiresNs) implements MetaOp {}

  /** Ends a session and reclaims its orphans (a clean unmount, or recovery of a crashed single node). */
  record CloseSession(long id) implements MetaOp {}

  /** Ends every session whose expiry is at or before {@code nowNs} (stamped by the proposer), with its orphans. */
  record ExpireSessions(long nowNs) implements MetaOp {}

  /** chmod (permission bits), chown and utimens; null fields are unchanged. ctime becomes {@code timeNs}. */
  record SetAttrs(long ino, Integer mode, Integer uid, Integer gid, Long atimeNs, Long mtimeNs, long timeNs)
      implements MetaOp {}

  record SetXattr(long ino, String name, byte[] value, int flags, long timeNs) implements MetaOp {}

  record RemoveXattr(long ino, String name, long timeNs) implements MetaOp {}

  /**
   * A file's new content: its size and times, and the block-list entries that changed (a null id is a
   * hole). Entries past the smallest size the file had since the last commit ({@code truncatedTo}, or -1
   * when it did not shrink) and past the new size are dropped before the changes apply. A block that
   * metadata does not know yet is registered with the lengths and codec given here; the proposer
   * guarantees it is in the store. {@code attrs} (or null), for the same inode, applies in the same batch:
   * a truncating setattr that also changes mode, owner or times is one operation.
   */
  record CommitBlocks(long ino, long size, long truncatedTo, long mtimeNs, long ctimeNs,
      List<ChunkChange> changes, SetAttrs attrs) implements MetaOp {
    public CommitBlocks(long ino, long size, long truncatedTo, long mtimeNs, long ctimeNs,
        List<ChunkChange> changes) {
      this(ino, size, truncatedTo, mtimeNs, ctimeNs, changes, null);
    }
  }

  /**
   * An fsync of partial-block changes (the write intent log): {@code commit} as {@link CommitBlocks} (whole
   * blocks the same fsync stored, the size and times), then each overlay recorded over the file's block
   * list. The overlays' bytes are already durable in the intent log at the places they name; a read of block
   * {@code index} applies them in log order over the block (or over zeros for a hole). A later commit that
   * changes a block, a truncate past it, or removing the inode drops its overlays (that is how a fold ends).
   */
  record LogIntents(CommitBlocks commit, List<Overlay> overlays) implements MetaOp {}

  /**
   * Bytes {@code [offset, offset + length)} of block {@code index} live in the intent log, in file
   * {@code logFile} at record position {@code logPos}, with CRC32C {@code crc} of those bytes.
   */
  record Overlay(long index, int offset, int length, int logFile, long logPos, int crc) {}

  /**
   * fallocate(2) with mode 0 or FALLOC_FL_KEEP_SIZE ({@code keepSize}): reserves the block indexes that
   * {@code [offset, offset + length)} touches, so that writing them later cannot fail for lack of space.
   * A reserved index counts a whole block in the file's accounted bytes (st_blocks) whether or not it is
   * written, and the part of it not yet written counts in the filesystem's reserved total (taken off the
   * free space statfs reports). {@code availableBytes} is the free space the proposer saw before any
   * reservation: apply answers ENOSPC when the reserved total would exceed it, so reservations never
   * promise more than there was. Without {@code keepSize} the size grows to {@code offset + length} (mtime
   * moves with it); ctime becomes {@code timeNs}. {@code attrs} (or null), for the same inode, applies in
   * the same batch (set-user-ID and set-group-ID cleared for an unprivileged caller). A truncate releases
   * reservations at and past the new end of file; removing the inode releases all of them.
   */
  record Reserve(long ino, long offset, long length, boolean keepSize, long availableBytes, SetAttrs attrs,
      long timeNs) implements MetaOp {}

  /**
   * fallocate's punch hole: releases the reservations of blocks {@code [fromIndex, toIndex)} of file
   * {@code ino} (whole blocks the punch turned into holes), so st_blocks and the free space no longer count
   * them. Indexes not reserved are left alone.
   */
  record Unreserve(long ino, long fromIndex, long toIndex) implements MetaOp {}

  /**
   * copy_file_range's shared part: blocks {@code [srcIndex, srcIndex + count)} of file {@code srcIno} become
   * blocks {@code [dstIndex, dstIndex + count)} of file {@code dstIno} as they are when this applies: the same
   * block ids with one more reference each (no bytes copied or stored), inline bytes copied, holes as holes;
   * the destination's old blocks there lose their reference. The destination's size becomes at least
   * {@code minSize}; its mtime and ctime become {@code timeNs}. The source's last block may be shorter than a
   * block (its end of file): it is taken only when nothing of the destination lies past it, i.e. the
   * destination's size at apply is at most {@code minSize}, else EAGAIN and nothing changes (the proposer then
   * copies those bytes). Both files regular, ranges of one file not overlapping (EINVAL).
   */
  record CloneBlocks(long srcIno, long srcIndex, long dstIno, long dstIndex, long count, long minSize,
      long timeNs) implements MetaOp {}

  /** Frees an inode whose last name and last handle are gone. */
  record ReclaimInode(long ino) implements MetaOp {}

  /**
   * A block now lives at {@code to} (a tier and the devices or nodes holding it): the proposer has stored
   * and synced it there. Applies only while the block's record still says tier {@code fromTier} (a block
   * deleted or moved meanwhile is left alone).
   */
  record MoveBlock(BlockId id, int fromTier, Placement to) implements MetaOp {}

  /**
   * A block's copies now sit at {@code to} (a repair or drain copied it, durably, before proposing this):
   * compare-and-set on the whole placement. Applies only while the block is referenced and its record
   * still says exactly {@code expected}; otherwise (freed, moved or repaired meanwhile) it fails with
   * EAGAIN and changes nothing, and the copy the proposer made is left for garbage collection.
   */
  record ReplaceBlockPlacement(BlockId id, Placement expected, Placement to) implements MetaOp {}

  /**
   * The cluster's settings, written once by cluster-init with the root: what every mount formats its
   * blocks with and how blocks are spread over nodes ({@code redundancy}, e.g. "replicate-2", "rs-4-2").
   */
  record SetClusterConfig(String clusterId, int blockSize, int codecId, int inlineMax, String redundancy)
      implements MetaOp {}

  /**
   * A node joins: it gets the next node number (the result's {@code ino} field carries it), the addresses
   * its Raft server and block server listen on, and state ACTIVE. EEXIST if {@code nodeId} is known.
   */
  record AddNode(String nodeId, String raftAddress, String blockAddress, long timeNs) implements MetaOp {}

  /** A node's state changes (ACTIVE, DRAINING while its blocks move away, REMOVED); its number is kept. */
  record SetNodeState(String nodeId, String state, long timeNs) implements MetaOp {}

  /**
   * Removes blocks from pending deletion for good: each one still unreferenced is purged (the result lists
   * it in {@code purged}, and its bytes may then be deleted); one referenced again meanwhile is left alone.
   */
  record PurgeBlocks(List<BlockId> ids) implements MetaOp {}

  /**
   * One block-list change of {@link CommitBlocks}: a stored block (with where the proposer stored it, used
   * when metadata does not know the block yet), inline bytes, or a hole (neither).
   */
  record ChunkChange(long index, BlockId id, int length, int storedLength, Codec codec, Placement placement,
      byte[] inline) {
    public static ChunkChange hole(long index) {
      return new ChunkChange(index, null, 0, 0, Codec.NONE, Placement.UNKNOWN, null);
    }

    public static ChunkChange inline(long index, byte[] data) {
      return new ChunkChange(index, null, data.length, data.length, Codec.NONE, Placement.UNKNOWN, data);
    }

    public static ChunkChange stored(long index, BlockId id, int length, int storedLength, Codec codec,
        Placement placement) {
      return new ChunkChange(index, id, length, storedLength, codec, placement, null);
    }

    public static ChunkChange stored(long index, BlockId id, int length, int storedLength, Codec codec) {
      return stored(index, id, length, storedLength, codec, Placement.UNKNOWN);
    }

    public boolean isHole() {
      return id == null && inline == null;
    }
  }
}
