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
 * A real segment store in a temp directory, the bytes each block should read as, and a view of the
 * store that counts reads (so a test can prove a level answered without touching the store).
 */
final class TestStores implements AutoCloseable {
  final SegmentStore segments;
  private final Map<BlockId, byte[]> expected = new HashMap<>();
  private final AtomicInteger reads = new AtomicInteger();
  private final Counting counting = new Counting();

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

  int reads() {
    return reads.get();
  }

  void resetReads() {
    reads.set(0);
  }

  /** The store as a cache level sees it; closing it leaves the segment store open. */
  BlockStore counting() {
    return counting;
  }

  @Override
  public void close() throws IOException {
    segments.close();
  }

  private final class Counting implements BlockStore {
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
