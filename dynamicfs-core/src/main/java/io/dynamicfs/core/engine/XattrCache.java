package io.dynamicfs.core.engine;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Extended attribute answers per inode, including "no such attribute" (ENODATA): the kernel asks for
 * {@code security.capability} before every write, and that should cost a map lookup, not a RocksDB read.
 *
 * <p>Coherence: entries are filled only under the {@link MetaLog} monitor and dropped by
 * {@link MetaLog#submit} (under the same monitor) when an operation changes the inode's xattrs or removes
 * a name that may have been its last link; an inode that goes away is dropped whole. Every metadata change
 * on a node passes through {@code MetaLog}, so the cache can never answer with something older than the
 * last applied operation. Bounded by inode count (Caffeine); values are copied out.
 */
final class XattrCache {
  private static final int MAX_INODES = 100_000;

  private final Cache<Long, ConcurrentMap<String, Optional<byte[]>>> byInode =
      Caffeine.newBuilder().maximumSize(MAX_INODES).executor(Runnable::run).build();
  private final AtomicLong hits = new AtomicLong();
  private final AtomicLong misses = new AtomicLong();

  /** The cached answer (empty = no such attribute), or null when unknown. */
  Optional<byte[]> get(long ino, String name) {
    ConcurrentMap<String, Optional<byte[]>> m = byInode.getIfPresent(ino);
    Optional<byte[]> v = m == null ? null : m.get(name);
    (v == null ? misses : hits).incrementAndGet();
    return v;
  }

  /** Caller holds the MetaLog monitor and read {@code value} (null = absent) under it. */
  void put(long ino, String name, byte[] value) {
    byInode.get(ino, k -> new ConcurrentHashMap<>()).put(name, Optional.ofNullable(value));
  }

  /** Caller holds the MetaLog monitor. */
  void invalidate(long ino) {
    byInode.invalidate(ino);
  }

  long hits() {
    return hits.get();
  }

  long misses() {
    return misses.get();
  }
}
