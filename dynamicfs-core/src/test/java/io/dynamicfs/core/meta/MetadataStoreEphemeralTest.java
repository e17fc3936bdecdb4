package io.dynamicfs.core.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store thrown away with its process (a cluster mount's replica) writes no RocksDB WAL, and a checkpoint
 * of it still holds every applied op.
 */
class MetadataStoreEphemeralTest {
  private static final int DIR = FileType.DIRECTORY.bits() | 0755;
  private static final int N = 2_000;

  @TempDir Path tmp;

  @Test
  void ephemeralStore_writesNoWal_butItsCheckpointIsWhole() throws Exception {
    long durableWal;
    try (MetadataStore store = MetadataStore.open(tmp.resolve("durable"), 64 << 10)) {
      fill(store);
      durableWal = walBytes(tmp.resolve("durable"));
    }
    try (MetadataStore store = MetadataStore.openEphemeral(tmp.resolve("ephemeral"), 64 << 10)) {
      fill(store);
      long ephemeralWal = walBytes(tmp.resolve("ephemeral"));
      assertTrue(durableWal > 100 * 1024, "the durable store logged its " + N + " ops: " + durableWal + " bytes");
      assertTrue(ephemeralWal < 4096, "the ephemeral store logged " + ephemeralWal + " bytes");
      store.checkpoint(tmp.resolve("checkpoint"));
    }
    try (MetadataStore copy = MetadataStore.open(tmp.resolve("checkpoint"), 64 << 10)) {
      assertEquals(N + 1, copy.appliedIndex());
      for (int i = 0; i < N; i += 97) {
        assertTrue(copy.lookup(FileSystem.ROOT_INO, "directory-" + i) > 0, "directory-" + i);
      }
    }
  }

  private static void fill(MetadataStore store) throws Exception {
    OpApplier ap = new OpApplier(store);
    ap.apply(1, MetaOp.CreateNode.root(DIR, 0, 0, 1)).orThrow();
    for (int i = 0; i < N; i++) {
      ap.apply(ap.appliedIndex() + 1,
          new MetaOp.CreateNode(FileSystem.ROOT_INO, "directory-" + i, DIR, 0, 0, true, 0, null, 2 + i)).orThrow();
    }
  }

  private static long walBytes(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(".log")).mapToLong(f -> f.toFile().length()).sum();
    }
  }
}
