package io.dynamicfs.cluster.transport;

import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.ForwardingBlockStore;
import io.dynamicfs.core.block.StoredBlock;
import java.io.IOException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real store that records which puts a completed {@link #sync} covers (a put is covered by a sync that
 * started after the put returned), so a test can check that an acknowledged block was durable.
 */
final class SyncTrackingStore extends ForwardingBlockStore {
  private final Set<BlockId> unsynced = ConcurrentHashMap.newKeySet();
  private final Set<BlockId> synced = ConcurrentHashMap.newKeySet();
  final AtomicInteger puts = new AtomicInteger();
  final AtomicInteger syncs = new AtomicInteger();

  SyncTrackingStore(BlockStore delegate) {
    super(delegate);
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    StoredBlock sb = super.put(id, data, length);
    puts.incrementAndGet();
    unsynced.add(id);
    return sb;
  }

  @Override
  public void sync() throws IOException {
    Set<BlockId> covered = new HashSet<>(unsynced);
    super.sync();
    syncs.incrementAndGet();
    synced.addAll(covered);
    unsynced.removeAll(covered);
  }

  boolean isSynced(BlockId id) {
    return synced.contains(id);
  }

  /** The underlying store is the test's to close. */
  @Override
  public void close() {}
}
