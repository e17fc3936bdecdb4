package io.dynamicfs.core.block;

/** Figures of a block store: live blocks, their plain and stored bytes, and the bytes of all segment files. */
public record StoreStats(long blocks, long rawBytes, long storedBytes, long fileBytes) {
  public static final StoreStats EMPTY = new StoreStats(0, 0, 0, 0);

  /** Both stores' figures added up (for a store made of several). */
  public StoreStats plus(StoreStats o) {
    return new StoreStats(blocks + o.blocks, rawBytes + o.rawBytes, storedBytes + o.storedBytes, fileBytes + o.fileBytes);
  }
}
