package io.dynamicfs.cache;

import io.dynamicfs.core.block.BlockId;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The blocks read ahead for sequential readers, oldest out first, bounded in bytes. Plain FIFO on purpose:
 * a streamed block is wanted once, soon after it was loaded, so the newest block must never be the one
 * turned away (a frequency-based admission, like the cache proper's, would do exactly that).
 */
final class ReadAheadRing {
  private final long capacity;
  private final LinkedHashMap<BlockId, byte[]> blocks = new LinkedHashMap<>();
  private long bytes;

  ReadAheadRing(long capacity) {
    this.capacity = capacity;
  }

  synchronized byte[] get(BlockId id) {
    return blocks.get(id);
  }

  /** Adds a block, dropping the oldest until the others fit beside it (the newest always stays). */
  synchronized void put(BlockId id, byte[] block) {
    byte[] old = blocks.remove(id);
    if (old != null) {
      bytes -= old.length;
    }
    Iterator<Map.Entry<BlockId, byte[]>> oldest = blocks.entrySet().iterator();
    while (bytes + block.length > capacity && oldest.hasNext()) {
      bytes -= oldest.next().getValue().length;
      oldest.remove();
    }
    blocks.put(id, block);
    bytes += block.length;
  }

  synchronized void remove(BlockId id) {
    byte[] old = blocks.remove(id);
    if (old != null) {
      bytes -= old.length;
    }
  }

  synchronized void clear() {
    blocks.clear();
    bytes = 0;
  }

  synchronized long bytes() {
    return bytes;
  }
}
