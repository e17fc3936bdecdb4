package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link BlockReclaimer} over a real RocksDB and segment store: grace period, pins, revived blocks. */
class BlockReclaimerTest {
  private static final int BS = 64 << 10;
  @TempDir Path tmp;
  private MetadataStore meta;
  private SegmentStore store;
  private MetaLog metaLog;
  private final AtomicLong ticker = new AtomicLong(1_000);
  private final Random random = new Random(7);
  private long time = 1;

  @BeforeEach
  void open() throws Exception {
    meta = MetadataStore.open(tmp.resolve("meta"), BS);
    store = SegmentStore.open(tmp.resolve("blocks"), Codec.LZ4, 4L << 20);
    metaLog = new MetaLog(meta, store);
    metaLog.submit(MetaOp.CreateNode.root(FileType.DIRECTORY.bits() | 0755, 0, 0, time++));
  }

  @AfterEach
  void close() throws Exception {
    store.close();
    meta.close();
  }

  /** A file "name" holding one stored block; returns the block. */
  private BlockId fileWithBlock(String name) throws Exception {
    byte[] data = new byte[4000];
    random.nextBytes(data);
    BlockId id = BlockId.hash(data, 0, data.length);
    StoredBlock sb = store.put(id, data, data.length);
    long ino = metaLog.submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, name, FileType.REGULAR.bits() | 0644,
        0, 0, true, 0, null, time++)).ino();
    metaLog.submit(new MetaOp.CommitBlocks(ino, data.length, -1, time, time++,
        List.of(MetaOp.ChunkChange.stored(0, id, data.length, sb.storedLength(), sb.codec()))));
    return id;
  }

  private void unlink(String name) throws Exception {
    metaLog.submit(new MetaOp.Remove(FileSystem.ROOT_INO, name, false, 0, time++));
  }

  @Test
  void reclaim_beforeGracePeriod_keepsBytes_afterItDeletesThem() throws Exception {
    BlockReclaimer r = new BlockReclaimer(meta, metaLog, Duration.ofSeconds(30), ticker::get);
    BlockId id = fileWithBlock("a");
    unlink("a");
    assertEquals(0, r.reclaim(), "first sight starts the wait");
    ticker.addAndGet(Duration.ofSeconds(29).toNanos());
    assertEquals(0, r.reclaim());
    assertTrue(store.contains(id));
    assertTrue(meta.isPendingDelete(id));
    ticker.addAndGet(Duration.ofSeconds(1).toNanos());
    assertEquals(1, r.reclaim());
    assertFalse(store.contains(id));
    assertFalse(meta.isPendingDelete(id));
  }

  @Test
  void reclaim_pinnedBlock_waitsForUnpin() throws Exception {
    BlockReclaimer r = new BlockReclaimer(meta, metaLog, Duration.ZERO, ticker::get);
    BlockId id = fileWithBlock("a");
    unlink("a");
    assertTrue(metaLog.pin(id), "a writer's dedup hit on the pending block");
    assertEquals(0, r.reclaim());
    assertTrue(store.contains(id));
    metaLog.unpin(id);
    assertTrue(store.contains(id), "unpin leaves a pending block to the reclaimer");
    assertEquals(1, r.reclaim());
    assertFalse(store.contains(id));
  }

  @Test
  void reclaim_blockReferencedAgain_isNeitherPurgedNorDeleted() throws Exception {
    BlockReclaimer r = new BlockReclaimer(meta, metaLog, Duration.ZERO, ticker::get);
    BlockId id = fileWithBlock("a");
    unlink("a");
    long b = metaLog.submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "b", FileType.REGULAR.bits() | 0644, 0, 0,
        true, 0, null, time++)).ino();
    StoredBlock sb = store.stat(id);
    metaLog.submit(new MetaOp.CommitBlocks(b, 4000, -1, time, time++,
        List.of(MetaOp.ChunkChange.stored(0, id, 4000, sb.storedLength(), sb.codec()))));
    assertEquals(0, r.reclaim());
    assertTrue(store.contains(id));
    assertEquals(1, meta.block(id).refs());
  }

  @Test
  void reclaim_moreThanOneBatch_deletesAll() throws Exception {
    BlockReclaimer r = new BlockReclaimer(meta, metaLog, Duration.ZERO, ticker::get);
    int n = 50;
    for (int i = 0; i < n; i++) {
      fileWithBlock("f" + i);
      unlink("f" + i);
    }
    assertEquals(n, meta.pendingDeletes(Integer.MAX_VALUE).size());
    assertEquals(n, r.reclaim());
    assertEquals(Map.of(), meta.pendingDeletes(10));
    assertEquals(0, store.stats().blocks());
  }
}
