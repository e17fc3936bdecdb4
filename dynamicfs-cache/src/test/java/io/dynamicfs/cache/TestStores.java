package io.dynamicfs.cache;

import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * A real segment store in a temp directory, the bytes each block should read as, and views of the
 * store that count reads (so a test can prove a level answered without touching the store): {@link #counting}
 * serves whole blocks only (a store without range reads), {@link #ranged} also serves ranges from the
 * segment store's frames.
 */
final class TestStores implements AutoCloseable {
  final SegmentStore segments;
  private final Map<BlockId, byte[]> expected = new HashMap<>();
  private final AtomicInteger reads = new AtomicInteger();
  private final AtomicInteger rangeReads = new AtomicInteger();
  private final Counting counting = new Counting(false);
  private final Counting ranged = new Counting(true);

  TestStores(Path dir) throws IOException {
    segments = SegmentStore.open(dir, Codec.NONE, 64L << 20);
  }

  BlockId putRandom(int size, Random random) throws IOException {
    byte[] b = new byte[size];
    random.nextBytes(b);
    BlockId id = BlockId.hash(b, 0, b.length);
    segments.put(id, b, b.length);
    expected.put(id, b);
    return id;
  }

  byte[] expected(BlockId id) {
    return expected.get(id);
  }

  /** Whole-block reads of the store. */
  int reads() {
    return reads.get();
  }

  /** Range reads the store served (through {@link #ranged}). */
  int rangeReads() {
    return rangeReads.get();
  }

  void resetReads() {
    reads.set(0);
    rangeReads.set(0);
  }

  /** The store as a cache level sees it, serving whole blocks only; closing it leaves the segment store open. */
  BlockStore counting() {
    return counting;
  }

  /** As {@link #counting}, also serving ranges (from the frames of the segment store's records). */
  BlockStore ranged() {
    return ranged;
  }

  @Override
  public void close() throws IOException {
    segments.close();
  }

  private final class Counting implements BlockStore {
    private final boolean servesRanges;

    Counting(boolean servesRanges) {
      this.servesRanges = servesRanges;
    }

    @Override
    public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
      if (!servesRanges) {
        return -1;
      }
      int n = segments.readRange(id, offset, dst, dstOffset, length);
      if (n >= 0) {
        rangeReads.incrementAndGet();
      }
      return n;
    }

    @Override
    public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
      return segments.put(id, data, length);
    }

    @Override
    public byte[] get(BlockId id, boolean sequential) throws IOException {
      reads.incrementAndGet();
      return segments.get(id, sequential);
    }

    @Override
    public StoredBlock stat(BlockId id) {
      return segments.stat(id);
    }

    @Override
    public void delete(BlockId id) throws IOException {
      segments.delete(id);
    }

    @Override
    public void forEach(Consumer<StoredBlock> action) {
      segments.forEach(action);
    }

    @Override
    public void sync() throws IOException {
      segments.sync();
    }

    @Override
    public StoreStats stats() {
      return segments.stats();
    }

    @Override
    public void close() {}
  }
}
