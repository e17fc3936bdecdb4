package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;

/**
 * Where the engine's metadata operations go. A single node applies them itself, one log index after the
 * other; a cluster mount proposes them to the Raft group and returns once its own replica of the metadata
 * (the store the engine reads) has applied the entry, so a read after a write sees it.
 */
public interface OpJournal {
  /**
   * Logs {@code op} and returns its result (failed or not) once the metadata this engine reads has applied
   * it. Throws when the op could not be logged (no leader in time, the store failed).
   */
  OpApplier.Result append(MetaOp op) throws FsException;

  /**
   * True when this engine is the only writer of its metadata (a single node): its own pins then decide
   * whether a block's bytes may go. A cluster mount shares blocks with other clients, so it never deletes
   * bytes itself and trusts the metadata, not a store probe, for dedup.
   */
  boolean exclusive();

  /**
   * Returns once every op appended before the call is durable in the log (fsync and unmount call it). A
   * journal whose {@link #append} returns only then (a single node, a synchronous cluster mount) has
   * nothing to do.
   */
  default void sync() throws FsException {}

  /**
   * The engine holds block {@code id} for no commit any more: its last pin went (the block was committed,
   * superseded by a newer write, or dropped with its file). Called on a shared journal only
   * ({@link #exclusive} false), under the engine's pin monitor, so a later pin and store of the same id come
   * after it. A cluster mount stops keeping the block's uncommitted copies alive on the nodes: if no record
   * places them, the nodes' orphan scan removes them. Must be quick and must not throw.
   */
  default void unpinned(io.dynamicfs.core.block.BlockId id) {}
}
