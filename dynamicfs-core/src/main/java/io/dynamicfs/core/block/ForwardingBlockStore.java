package io.dynamicfs.core.block;

import java.io.IOException;
import java.util.function.Consumer;

/**
 * A {@link BlockStore} that passes every call to another: the base of the decorators stacked on a store
 * (the cache levels), which override only what they change.
 *
 * <p>{@link #readRange} is deliberately not forwarded: a decorator that changes {@link #get} (a cache, a
 * remote source) would be skipped by a range read passed straight to its delegate, so each decorator
 * says itself whether it serves ranges.
 */
public abstract class ForwardingBlockStore implements BlockStore {
  protected final BlockStore delegate;

  protected ForwardingBlockStore(BlockStore delegate) {
    this.delegate = delegate;
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    return delegate.put(id, data, length);
  }

  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    return delegate.get(id, sequential);
  }

  @Override
  public void prefetch(BlockId id) {
    delegate.prefetch(id);
  }

  @Override
  public StoredBlock stat(BlockId id) {
    return delegate.stat(id);
  }

  @Override
  public boolean contains(BlockId id) {
    return delegate.contains(id);
  }

  @Override
  public void delete(BlockId id) throws IOException {
    delegate.delete(id);
  }

  @Override
  public void forEach(Consumer<StoredBlock> action) {
    delegate.forEach(action);
  }

  @Override
  public void forEachId(Consumer<BlockId> action) {
    delegate.forEachId(action);
  }

  @Override
  public void sync() throws IOException {
    delegate.sync();
  }

  @Override
  public StoreStats stats() {
    return delegate.stats();
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
