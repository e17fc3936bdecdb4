package io.dynamicfs.core.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metadata store's block cache: one for every column family, and filled by memtable flushes, so metadata
 * written recently is served from the daemon's memory even after the kernel dropped the SST files' pages.
 */
class MetadataStoreCacheTest {
  private static final int DIR = FileType.DIRECTORY.bits() | 0755;

  @TempDir Path tmp;

  @Test
  void flushedMetadata_isInTheSharedBlockCache_beforeAnyRead() throws Exception {
    try (MetadataStore store = MetadataStore.open(tmp.resolve("m"), 64 << 10)) {
      OpApplier ap = new OpApplier(store);
      ap.apply(1, MetaOp.CreateNode.root(DIR, 0, 0, 1)).orThrow();
      long before = store.property("rocksdb.block-cache-usage");
      for (int i = 0; i < 20_000; i++) {
        ap.apply(ap.appliedIndex() + 1,
            new MetaOp.CreateNode(FileSystem.ROOT_INO, "directory-" + i, DIR, 0, 0, true, 0, null, 2 + i)).orThrow();
      }
      store.checkpoint(tmp.resolve("checkpoint")); // flushes every memtable
      long after = store.property("rocksdb.block-cache-usage");
      assertTrue(after - before > 1 << 20, "flushed blocks cached: " + before + " -> " + after);
      Map<String, Long> capacity = store.propertyByColumnFamily("rocksdb.block-cache-capacity");
      assertEquals(13, capacity.size(), capacity.toString());
      assertTrue(capacity.values().stream().allMatch(c -> c == 64L << 20), capacity.toString());
      Map<String, Long> usage = store.propertyByColumnFamily("rocksdb.block-cache-usage");
      assertEquals(1, usage.values().stream().distinct().count(), "one cache for all families: " + usage);
    }
  }
}
