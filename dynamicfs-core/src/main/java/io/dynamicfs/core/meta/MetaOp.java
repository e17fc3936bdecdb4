package io.dynamicfs.core.meta;

import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.codec.Codec;
import java.util.List;

/**
 * Every metadata mutation, as an immutable record. Clock values and new inode numbers are chosen by the
 * proposer and carried in the record, so {@link OpApplier#apply} is deterministic: the same log of
 * operations gives the same metadata on every replica. {@link OpCodec} serialises them.
 */
public sealed interface MetaOp {

  /** mknod, mkdir, symlink and create: a new inode and its name. {@code target} only for symlinks. */
  record CreateNode(long parent, String name, long ino, int mode, int uid, int gid, long rdev, String target,
      long timeNs) implements MetaOp {}

  /** A new name for an existing non-directory. */
  record Link(long ino, long newParent, String newName, long timeNs) implements MetaOp {}

  /**
   * unlink or rmdir. When the last name of a file goes and {@code keepOpen} is set (the proposer has it
   * open), the inode becomes an orphan, reclaimed by {@link ReclaimInode} at last close or next mount.
   */
  record Remove(long parent, String name, boolean directory, boolean keepOpen, long timeNs) implements MetaOp {}

  /** rename(2) with renameat2 flags; {@code keepOpen} as for {@link Remove}, for a replaced target. */
  record Rename(long parent, String name, long newParent, String newName, int flags, boolean keepOpen,
      long timeNs) implements MetaOp {}

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
   * guarantees it is in the store.
   */
  record CommitBlocks(long ino, long size, long truncatedTo, long mtimeNs, long ctimeNs,
      List<ChunkChange> changes) implements MetaOp {}

  /** Frees an inode whose last name and last handle are gone. */
  record ReclaimInode(long ino) implements MetaOp {}

  /**
   * A block now lives on tier {@code toTier}: the proposer has stored and synced it there. Applies only
   * while the block's record still says {@code fromTier} (a block deleted or moved meanwhile is left alone).
   */
  record MoveBlock(BlockId id, int fromTier, int toTier) implements MetaOp {}

  /** One block-list change of {@link CommitBlocks}: a stored block, inline bytes, or a hole (neither). */
  record ChunkChange(long index, BlockId id, int length, int storedLength, Codec codec, byte[] inline) {
    public static ChunkChange hole(long index) {
      return new ChunkChange(index, null, 0, 0, Codec.NONE, null);
    }

    public static ChunkChange inline(long index, byte[] data) {
      return new ChunkChange(index, null, data.length, data.length, Codec.NONE, data);
    }

    public static ChunkChange stored(long index, BlockId id, int length, int storedLength, Codec codec) {
      return new ChunkChange(index, id, length, storedLength, codec, null);
    }

    public boolean isHole() {
      return id == null && inline == null;
    }
  }
}
