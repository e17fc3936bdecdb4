package io.dynamicfs.cache;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import java.io.IOException;

/**
 * An L3 source backed by another {@link BlockStore} in this process: a peer's store opened locally, a
 * second device, or (in tests) a separate segment store. A block the store does not hold is a miss; a
 * store error is reported to the tier, which counts it and falls through. The store is not closed here:
 * its owner closes it.
 */
public final class BlockStoreSource implements RemoteBlockSource {
  private final BlockStore store;
  private final String name;

  public BlockStoreSource(BlockStore store, String name) {
    this.store = store;
    this.name = name;
  }

  @Override
  public byte[] fetch(BlockId id) throws IOException {
    if (!store.contains(id)) {
      return null;
    }
    try {
      return store.get(id);
    } catch (FsException e) {
      if (e.errno() == Errno.ENOENT) {
        return null; // deleted since contains()
      }
      throw e;
    }
  }

  @Override
  public String name() {
    return name;
  }
}
