package io.dynamicfs.cluster.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.ratis.statemachine.impl.FileListSnapshotInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointStorageTest {
  @TempDir
  Path sm;

  @Test
  void take_thenSwapIn_liveDbHoldsTheCheckpointsRecords() throws Exception {
    CheckpointStorage storage = new CheckpointStorage();
    storage.init(sm);
    List<String> atCheckpoint;
    FileListSnapshotInfo snap;
    try (MetadataStore store = MetadataStore.open(storage.dbDir(), 4096)) {
      OpApplier applier = new OpApplier(store);
      applier.apply(1, 1, RandomOps.root());
      applier.apply(1, 2, mkdir("a"));
      snap = storage.take(store, 1, 2);
      atCheckpoint = TestCluster.records(store);
      applier.apply(1, 3, mkdir("b")); // after the checkpoint: the swap must drop it
    }
    assertEquals(2, snap.getIndex());
    assertEquals(snap.getTermIndex(), storage.reload().getTermIndex());
    storage.swapIn(snap);
    try (MetadataStore store = MetadataStore.open(storage.dbDir(), 4096)) {
      assertEquals(atCheckpoint, TestCluster.records(store));
      assertEquals(2, store.appliedIndex());
    }
    assertTrue(Files.notExists(sm.resolve("db.old")) && Files.notExists(sm.resolve("db.installing")));
  }

  @Test
  void take_many_keepsNewestTwo() throws Exception {
    CheckpointStorage storage = new CheckpointStorage();
    storage.init(sm);
    try (MetadataStore store = MetadataStore.open(storage.dbDir(), 4096)) {
      OpApplier applier = new OpApplier(store);
      applier.apply(1, 1, RandomOps.root());
      for (int i = 2; i <= 5; i++) {
        applier.apply(1, i, mkdir("d" + i));
        storage.take(store, 1, i);
      }
    }
    try (Stream<Path> dirs = Files.list(sm.resolve("snapshots"))) {
      assertEquals(List.of("snapshot.1_4", "snapshot.1_5"),
          dirs.map(d -> d.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void reload_checkpointWithDamagedMarkerOrMissingFile_isNotCounted() throws Exception {
    CheckpointStorage storage = new CheckpointStorage();
    storage.init(sm);
    try (MetadataStore store = MetadataStore.open(storage.dbDir(), 4096)) {
      OpApplier applier = new OpApplier(store);
      applier.apply(1, 1, RandomOps.root());
      storage.take(store, 1, 1);
      applier.apply(2, 2, mkdir("x"));
      storage.take(store, 2, 2);
    }
    Path newest = sm.resolve("snapshots/snapshot.2_2");
    Path marker = newest.resolve(CheckpointStorage.MARKER);
    String text = Files.readString(marker);
    Files.writeString(marker, text.substring(0, text.length() / 2)); // torn write
    assertEquals(1, storage.reload().getIndex(), "a torn marker does not count");

    Files.writeString(marker, text);
    assertEquals(2, storage.reload().getIndex());
    try (Stream<Path> files = Files.list(newest)) {
      Path sst = files.filter(f -> f.toString().endsWith(".sst")).findFirst().orElseThrow();
      Files.delete(sst);
    }
    assertEquals(1, storage.reload().getIndex(), "a checkpoint missing a file does not count");

    CheckpointStorage.deleteTree(sm.resolve("snapshots/snapshot.1_1"));
    assertNull(storage.reload());
  }

  private static MetaOp mkdir(String name) {
    return new MetaOp.CreateNode(FileSystem.ROOT_INO, name, FileType.DIRECTORY.bits() | 0755, 0, 0, true, 0, null, 5);
  }
}
