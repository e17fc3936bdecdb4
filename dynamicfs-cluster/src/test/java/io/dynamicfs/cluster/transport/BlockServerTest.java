package io.dynamicfs.cluster.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.blocks.ShardRecord;
import io.dynamicfs.cluster.blocks.ShardRecords;
import io.dynamicfs.cluster.raft.RaftTls;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real BlockServer over a real SegmentStore, reached through RemoteBlockStore on 127.0.0.1. */
class BlockServerTest {
  static final ClusterCredentials CREDS =
      new ClusterCredentials(UUID.fromString("6f1d7a52-0c1e-4a4e-9a3f-2b7c1d0e5f11"), "test-token-1");
  private static final int BLOCK = 1 << 20;

  @TempDir Path dir;
  private SegmentStore store;
  private BlockServer server;
  private BlockClientGroup clients;
  private final List<AutoCloseable> toClose = new ArrayList<>();

  @BeforeEach
  void start() throws IOException {
    store = SegmentStore.open(dir.resolve("node"), Codec.LZ4, 64 << 20);
    server = BlockServer.builder(store, CREDS).blockSize(BLOCK).start();
    clients = new BlockClientGroup(2);
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : toClose) {
      c.close();
    }
    clients.close();
    server.close();
    store.close();
  }

  private RemoteBlockStore remote(InetSocketAddress at, ClusterCredentials creds) {
    RemoteBlockStore r = RemoteBlockStore.builder(clients, at, creds).timeout(Duration.ofSeconds(10)).build();
    toClose.add(r);
    return r;
  }

  private RemoteBlockStore remote() {
    return remote(server.address(), CREDS);
  }

  /** Random bytes, half of them runs of one value, so both raw and compressed records are stored. */
  static byte[] block(Random rnd, int size) {
    byte[] b = new byte[size];
    rnd.nextBytes(b);
    for (int i = 0; i < size / 2; i++) {
      b[i] = (byte) (i >> 10);
    }
    return b;
  }

  static BlockId idOf(byte[] b) {
    return BlockId.hash(b, 0, b.length);
  }

  @Test
  void verify_intactAbsentAndDamagedCopies_answeredWithoutSendingTheBytes() throws Exception {
    RemoteBlockStore remote = remote();
    Random rnd = new Random(77);
    byte[] good = new byte[50_000];
    rnd.nextBytes(good);
    byte[] bad = new byte[70_000];
    rnd.nextBytes(bad);
    remote.put(idOf(good), good, good.length);
    remote.put(idOf(bad), bad, bad.length);
    BlockId key = ShardRecords.wholeBlockKey(good);
    remote.putShard(key, ShardRecords.wholeBlockShard(good));
    assertEquals(RemoteBlockStore.CopyState.INTACT, remote.verify(idOf(good)));
    assertEquals(RemoteBlockStore.CopyState.INTACT, remote.verify(idOf(bad)));
    assertEquals(RemoteBlockStore.CopyState.INTACT, remote.verify(key), "a shard record verifies under its key");
    assertEquals(RemoteBlockStore.CopyState.ABSENT, remote.verify(idOf(new byte[] {1, 2, 3})));

    StoredCopies.damage(dir.resolve("node"), bad);

    assertEquals(RemoteBlockStore.CopyState.CORRUPT, remote.verify(idOf(bad)));
    assertEquals(RemoteBlockStore.CopyState.INTACT, remote.verify(idOf(good)));
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> remote.get(idOf(bad))).errno());
  }

  @Test
  void getRange_randomRanges_equalTheBlocksBytes_badRangesRefused_damagedFrameEio() throws Exception {
    RemoteBlockStore remote = remote();
    Random rnd = new Random(78);
    byte[] block = new byte[300_001];
    rnd.nextBytes(block);
    byte[] text = "range ".repeat(40_000).getBytes(java.nio.charset.StandardCharsets.US_ASCII); // compresses
    for (byte[] b : List.of(block, text)) {
      remote.put(idOf(b), b, b.length);
      for (int i = 0; i < 300; i++) {
        int off = rnd.nextInt(b.length + 10);
        int len = 1 + rnd.nextInt(i % 10 == 0 ? BLOCK : 70_000);
        byte[] dst = new byte[len + 3];
        int got = remote.readRange(idOf(b), off, dst, 3, len);
        int want = Math.max(0, Math.min(len, b.length - off));
        assertEquals(want, got, "range of " + len + " at " + off);
        assertArrayEquals(Arrays.copyOfRange(b, Math.min(off, b.length), Math.min(off, b.length) + want),
            Arrays.copyOfRange(dst, 3, 3 + got));
      }
    }
    byte[] dst = new byte[16];
    assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> remote.readRange(idOf(block), -1, dst, 0, 16))
        .errno());
    assertEquals(Errno.EINVAL, assertThrows(FsException.class,
        () -> remote.readRange(idOf(block), 0, new byte[BLOCK + 1], 0, BLOCK + 1)).errno());
    assertEquals(Errno.ENOENT, assertThrows(FsException.class,
        () -> remote.readRange(idOf(new byte[] {9}), 0, dst, 0, 16)).errno());

    // One byte flipped at 150,005: in the node's copy's third 64 KiB frame (131,072 to 196,607).
    StoredCopies.damage(dir.resolve("node"), block);
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> remote.readRange(idOf(block), 150_000, dst, 0, 16))
        .errno(), "the node checks the frames a range touches before it sends the range");
    assertEquals(Errno.EIO, assertThrows(FsException.class,
        () -> remote.readRange(idOf(block), 131_072 - 8, dst, 0, 16)).errno(), "a range crossing into that frame");
    assertEquals(16, remote.readRange(idOf(block), 0, dst, 0, 16), "a range in an intact frame is served");
    assertArrayEquals(Arrays.copyOf(block, 16), dst);
    assertEquals(Errno.EIO, assertThrows(FsException.class, () -> remote.get(idOf(block))).errno(),
        "a whole read checks every frame");
    assertEquals(RemoteBlockStore.CopyState.CORRUPT, remote.verify(idOf(block)));
  }

  @Test
  void reclaim_runsTheServersReclaimer_refusedWithoutOne_andCountsRequests() throws Exception {
    RemoteBlockStore plain = remote();
    FsException none = assertThrows(FsException.class, () -> plain.reclaim(false, 10_000));
    assertEquals(Errno.EOPNOTSUPP, none.errno());
    List<Boolean> asked = new ArrayList<>();
    try (SegmentStore other = SegmentStore.open(dir.resolve("leader"), Codec.LZ4, 64 << 20);
        BlockServer leader = BlockServer.builder(other, CREDS).blockSize(BLOCK).reclaimer(apply -> {
          asked.add(apply);
          return new Reclaimer.Report(7, apply ? 3 : 0, apply ? 3 : 0, apply ? 6 : 0);
        }).start()) {
      RemoteBlockStore r = remote(leader.address(), CREDS);
      assertEquals(new Reclaimer.Report(7, 0, 0, 0), r.reclaim(false, 10_000));
      assertEquals(new Reclaimer.Report(7, 3, 3, 6), r.reclaim(true, 10_000));
      assertEquals(List.of(false, true), asked);
      BlockServerStats st = leader.stats();
      assertTrue(st.requests() >= 2 && st.errors() == 0 && st.bytesIn() >= 2 && st.bytesOut() >= 64,
          st.requests() + " " + st.errors() + " " + st.bytesIn() + " " + st.bytesOut());
    }
    assertEquals(1, server.stats().errors(), "the refused RECLAIM counts as an error");
  }

  @Test
  void put_randomBlocksFromSeveralThreads_readBackIdenticalAndSurviveRestart() throws Exception {
    RemoteBlockStore remote = remote();
    Map<BlockId, byte[]> acked = new ConcurrentHashMap<>();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long seed = 1000 + t;
        done.add(pool.submit(() -> {
          Random rnd = new Random(seed);
          int[] sizes = {0, 1, BLOCK, BLOCK - 1, 4096, 4097};
          for (int i = 0; i < 16; i++) {
            byte[] b = block(rnd, i < sizes.length ? sizes[(i + (int) seed) % sizes.length] : rnd.nextInt(BLOCK + 1));
            StoredBlock sb = remote.put(idOf(b), b, b.length);
            assertEquals(b.length, sb.rawLength());
            acked.put(idOf(b), b);
          }
          return null;
        }));
      }
      for (Future<?> f : done) {
        f.get(60, TimeUnit.SECONDS);
      }
      assertTrue(acked.size() >= 20, "distinct blocks " + acked.size());
      List<Future<?>> reads = new ArrayList<>();
      for (Map.Entry<BlockId, byte[]> e : acked.entrySet()) {
        reads.add(pool.submit(() -> {
          assertArrayEquals(e.getValue(), remote.get(e.getKey()));
          return null;
        }));
      }
      for (Future<?> f : reads) {
        f.get(60, TimeUnit.SECONDS);
      }

      int port = server.port();
      server.close();
      store.close();
      store = SegmentStore.open(dir.resolve("node"), Codec.LZ4, 64 << 20);
      server = BlockServer.builder(store, CREDS).bind(new InetSocketAddress("127.0.0.1", port)).start();

      // the same client: its connections dropped with the old server; the next calls open new ones
      for (Map.Entry<BlockId, byte[]> e : acked.entrySet()) {
        assertArrayEquals(e.getValue(), remote.get(e.getKey()), "block " + e.getKey());
      }
      assertEquals(acked.size(), remote.stats().blocks());
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void put_concurrentFromManyThreads_acknowledgedOnlyAfterSyncCoveringIt() throws Exception {
    SyncTrackingStore tracking = new SyncTrackingStore(store);
    try (BlockServer s = BlockServer.builder(tracking, CREDS).start()) {
      RemoteBlockStore r = remote(s.address(), CREDS);
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
          long seed = 50 + t;
          done.add(pool.submit(() -> {
            Random rnd = new Random(seed);
            for (int i = 0; i < 16; i++) {
              byte[] b = block(rnd, 1 + rnd.nextInt(64 * 1024));
              r.put(idOf(b), b, b.length);
              assertTrue(tracking.isSynced(idOf(b)), "acknowledged before a sync covered it");
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(128, tracking.puts.get());
      assertTrue(tracking.syncs.get() <= tracking.puts.get(), "syncs " + tracking.syncs + " puts " + tracking.puts);
    }
  }

  @Test
  void put_bytesThatDoNotHashToId_refusedAndNothingStored() throws IOException {
    RemoteBlockStore remote = remote();
    byte[] b = block(new Random(1), 10_000);
    BlockId wrong = idOf(new byte[] {1, 2, 3});
    FsException e = assertThrows(FsException.class, () -> remote.put(wrong, b, b.length));
    assertEquals(Errno.EINVAL, e.errno());
    assertFalse(store.contains(wrong));
    assertFalse(store.contains(idOf(b)));
    assertEquals(0, store.stats().blocks());
    assertFalse(remote.contains(wrong));
  }

  @Test
  void put_blockOverBlockSize_failsEfbigWithoutSending() throws IOException {
    RemoteBlockStore remote = remote();
    byte[] b = new byte[BLOCK + 1];
    FsException e = assertThrows(FsException.class, () -> remote.put(idOf(b), b, b.length));
    assertEquals(Errno.EFBIG, e.errno());
    assertEquals(0, store.stats().blocks());
  }

  @Test
  void putAndPutShard_framesOfTheBound_storedAndReadBack() throws IOException {
    int maxFrame = 64 * 1024;
    // the server's rule: a PUT_SHARD of a whole block's shard (rs-1-M) fits a frame, key and record header included
    int blockSize = maxFrame - BlockFrame.HEADER - BlockFrame.TRAILER - BlockId.LENGTH - ShardRecord.HEADER;
    try (SegmentStore small = SegmentStore.open(dir.resolve("small"), Codec.LZ4, 1 << 20);
        BlockServer s = BlockServer.builder(small, CREDS).blockSize(blockSize).maxFrameBytes(maxFrame).start()) {
      RemoteBlockStore r = RemoteBlockStore.builder(clients, s.address(), CREDS).maxFrameBytes(maxFrame).build();
      toClose.add(r);
      byte[] b = block(new Random(3), blockSize);
      r.put(idOf(b), b, b.length);
      assertArrayEquals(b, r.get(idOf(b)));
      byte[] over = new byte[blockSize + 1];
      assertEquals(Errno.EFBIG, assertThrows(FsException.class, () -> r.put(idOf(over), over, over.length)).errno());

      byte[] record = ShardRecords.wholeBlockShard(b); // PUT_SHARD frame = 20 + 32 + 80 + blockSize + 4 = maxFrame
      assertEquals(maxFrame, BlockFrame.HEADER + BlockId.LENGTH + record.length + BlockFrame.TRAILER);
      r.putShard(ShardRecords.wholeBlockKey(b), record);
      assertArrayEquals(record, r.getShard(ShardRecords.wholeBlockKey(b)));
      byte[] overRecord = ShardRecords.wholeBlockShard(over); // valid under its key, one byte over what the node takes
      FsException e = assertThrows(FsException.class,
          () -> r.putShard(ShardRecords.wholeBlockKey(over), overRecord));
      assertEquals(Errno.EFBIG, e.errno());
      assertFalse(small.contains(ShardRecords.wholeBlockKey(over)));
    }
  }

  @Test
  void shard_putGetStatListDelete_underItsKey() throws IOException {
    RemoteBlockStore remote = remote();
    Random rnd = new Random(11);
    List<BlockId> keys = new ArrayList<>();
    List<byte[]> records = new ArrayList<>();
    for (int size : new int[] {0, 1, 1000, BLOCK}) {
      byte[] b = block(rnd, size);
      keys.add(ShardRecords.wholeBlockKey(b));
      records.add(ShardRecords.wholeBlockShard(b));
    }
    byte[] b = block(rnd, 300_001); // an rs-3-2 stripe: 3 data shards of the block, 2 (here random) parity shards
    int shard = (b.length + 2) / 3;
    for (int i = 0; i < 5; i++) {
      byte[] bytes = i < 3 ? Arrays.copyOfRange(b, i * shard, (i + 1) * shard) : block(rnd, shard);
      keys.add(ShardRecord.key(idOf(b), i, 3, 2));
      records.add(ShardRecords.encode(idOf(b), i, 3, 2, b.length, bytes));
    }
    for (int i = 0; i < keys.size(); i++) {
      remote.putShard(keys.get(i), records.get(i));
      assertTrue(store.contains(keys.get(i)));
    }
    for (int i = 0; i < keys.size(); i++) {
      BlockId key = keys.get(i);
      assertArrayEquals(records.get(i), remote.getShard(key));
      assertEquals(records.get(i).length, remote.stat(key).rawLength()); // HAS works on keys unchanged
      // GET is content-addressed: a record does not hash to its key, and the node says so
      assertEquals(Errno.EIO, assertThrows(FsException.class, () -> remote.get(key)).errno());
    }
    List<BlockId> listed = new ArrayList<>();
    remote.forEachId(listed::add); // LIST works on keys unchanged
    List<BlockId> sorted = new ArrayList<>(keys);
    sorted.sort(null);
    assertEquals(sorted, listed);
    for (BlockId key : keys) {
      remote.deleteShard(key);
      assertFalse(store.contains(key));
      assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> remote.getShard(key)).errno());
    }
    remote.deleteShard(keys.get(0)); // absent: OK
    assertEquals(0, store.stats().blocks());
  }

  @Test
  void putShard_recordThatDoesNotVerifyUnderItsKey_refusedEinvalAndNothingStored() throws IOException {
    RemoteBlockStore remote = remote();
    byte[] b = block(new Random(12), 40_000);
    byte[] good = ShardRecords.encode(idOf(b), 1, 2, 1, b.length, Arrays.copyOfRange(b, 20_000, 40_000));
    BlockId key = ShardRecord.key(idOf(b), 1, 2, 1);
    List<byte[]> bad = new ArrayList<>();
    bad.add(new byte[0]);
    bad.add(new byte[ShardRecord.HEADER]);
    bad.add(Arrays.copyOf(good, good.length - 1)); // truncated
    bad.add(Arrays.copyOf(good, good.length + 1)); // trailing byte
    for (int at : new int[] {0, 5, 6, 8, 16, 50, ShardRecord.HEADER, good.length - 1}) { // magic, index, K, lengths,
      byte[] flipped = good.clone(); // block id, digest, first and last shard byte
      flipped[at] ^= 1;
      bad.add(flipped);
    }
    for (byte[] record : bad) {
      FsException e = assertThrows(FsException.class, () -> remote.putShard(key, record));
      assertEquals(Errno.EINVAL, e.errno(), e.getMessage());
    }
    // a valid record under another shard's key (the server must check the key, not only the record)
    BlockId otherKey = ShardRecord.key(idOf(b), 0, 2, 1);
    assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> remote.putShard(otherKey, good)).errno());
    // and PUT stays content-addressed: the record under its key is refused there
    assertEquals(Errno.EINVAL, assertThrows(FsException.class, () -> remote.put(key, good, good.length)).errno());
    assertEquals(0, store.stats().blocks());
    assertFalse(remote.contains(key));
    remote.putShard(key, good); // the connection is still fine
    assertArrayEquals(good, remote.getShard(key));
  }

  @Test
  void putShard_concurrent_acknowledgedOnlyAfterSyncCoveringIt() throws Exception {
    SyncTrackingStore tracking = new SyncTrackingStore(store);
    try (BlockServer s = BlockServer.builder(tracking, CREDS).start()) {
      RemoteBlockStore r = remote(s.address(), CREDS);
      ExecutorService pool = Executors.newFixedThreadPool(6);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 6; t++) {
          long seed = 70 + t;
          done.add(pool.submit(() -> {
            Random rnd = new Random(seed);
            for (int i = 0; i < 12; i++) {
              byte[] b = block(rnd, 1 + rnd.nextInt(64 * 1024));
              BlockId key = ShardRecords.wholeBlockKey(b);
              r.putShard(key, ShardRecords.wholeBlockShard(b));
              assertTrue(tracking.isSynced(key), "acknowledged before a sync covered it");
            }
            return null;
          }));
        }
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertEquals(72, tracking.puts.get());
      assertTrue(tracking.syncs.get() <= tracking.puts.get(), "syncs " + tracking.syncs + " puts " + tracking.puts);
    }
  }

  @Test
  void get_blockNotHeld_failsEnoent() {
    RemoteBlockStore remote = remote();
    FsException e = assertThrows(FsException.class, () -> remote.get(idOf(new byte[] {9})));
    assertEquals(Errno.ENOENT, e.errno());
  }

  @Test
  void statAndDelete_putBlock_describedThenGone() throws IOException {
    RemoteBlockStore remote = remote();
    byte[] b = block(new Random(5), 50_000);
    BlockId id = idOf(b);
    assertNull(remote.stat(id));
    StoredBlock put = remote.put(id, b, b.length);
    assertEquals(store.stat(id), remote.stat(id));
    assertEquals(put, remote.stat(id));
    assertTrue(remote.contains(id));
    remote.delete(id);
    assertFalse(store.contains(id));
    assertFalse(remote.contains(id));
    assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> remote.get(id)).errno());
  }

  @Test
  void stats_afterPuts_reportStoreFiguresAndFreeSpace() throws IOException {
    RemoteBlockStore remote = remote();
    Random rnd = new Random(6);
    for (int i = 0; i < 5; i++) {
      byte[] b = block(rnd, 1000 * (i + 1));
      remote.put(idOf(b), b, b.length);
    }
    NodeStats s = remote.nodeStats();
    assertEquals(store.stats(), s.store());
    assertEquals(5, s.store().blocks());
    assertEquals(15_000, s.store().rawBytes());
    assertTrue(s.freeBytes() > 0, "free bytes " + s.freeBytes());
  }

  @Test
  void forEach_blocksSpanningSeveralPages_listsEachOnceInIdOrder() throws IOException {
    // a 64 KiB frame bound makes the server's pages at most 1597 blocks
    try (SegmentStore small = SegmentStore.open(dir.resolve("list"), Codec.LZ4, 8 << 20);
        BlockServer s = BlockServer.builder(small, CREDS).blockSize(16 * 1024).maxFrameBytes(64 * 1024).start()) {
      List<BlockId> ids = new ArrayList<>();
      for (int i = 0; i < 4000; i++) {
        byte[] b = ("block " + i).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        ids.add(idOf(b));
        small.put(idOf(b), b, b.length);
      }
      small.sync();
      RemoteBlockStore r = RemoteBlockStore.builder(clients, s.address(), CREDS).maxFrameBytes(64 * 1024).build();
      toClose.add(r);
      List<BlockId> listed = new ArrayList<>();
      r.forEachId(listed::add);
      ids.sort(null);
      assertEquals(ids, listed);
      List<StoredBlock> described = new ArrayList<>();
      r.forEach(described::add);
      assertEquals(4000, described.size());
      assertEquals(small.stat(ids.get(17)), described.get(17));
    }
  }

  @Test
  void connect_wrongClusterId_refusedAsClientOfAnotherCluster() {
    RemoteBlockStore other = remote(server.address(), new ClusterCredentials(UUID.randomUUID(), "test-token-1"));
    FsException e = assertThrows(FsException.class, () -> other.get(idOf(new byte[1])));
    assertEquals(Errno.EACCES, e.errno());
    assertTrue(e.getMessage().contains("client of another cluster"), e.getMessage());
  }

  @Test
  void connect_wrongToken_refusedAsBadTokenWithoutEchoingIt() {
    RemoteBlockStore other = remote(server.address(), new ClusterCredentials(CREDS.clusterId(), "guess-42"));
    FsException e = assertThrows(FsException.class, () -> other.nodeStats());
    assertEquals(Errno.EACCES, e.errno());
    assertTrue(e.getMessage().contains("bad token"), e.getMessage());
    assertFalse(e.getMessage().contains("guess-42"), e.getMessage());
    assertFalse(CREDS.toString().contains("test-token-1"));
  }

  @Test
  void touch_heldCopiesGetANewTouchTime_absentOnesAreListed_badFramesRefused() throws Exception {
    RemoteBlockStore remote = remote();
    Random rnd = new Random(15);
    byte[] a = block(rnd, 40_000);
    byte[] b = block(rnd, 40_000);
    remote.put(idOf(a), a, a.length);
    remote.put(idOf(b), b, b.length);
    long putAt = server.copyClock().lastTouch(idOf(a));
    BlockId missing = idOf(new byte[] {4, 5, 6});
    Thread.sleep(5);
    assertEquals(List.of(missing), remote.touch(List.of(idOf(a), missing, idOf(b))));
    assertTrue(server.copyClock().lastTouch(idOf(a)) > putAt, "TOUCH moved the copy's touch time");
    assertEquals(0, remote.orphanGraceMillis(), "a server without a grace tells its clients none");
    // many ids: sent in pages of at most the most one TOUCH carries
    List<BlockId> many = new ArrayList<>();
    for (int i = 0; i < 2500; i++) {
      many.add(idOf(new byte[] {(byte) i, (byte) (i >> 8), 9}));
    }
    assertEquals(many, remote.touch(many));
    remote.delete(idOf(b));
    assertEquals(List.of(idOf(b)), remote.touch(List.of(idOf(b))), "a deleted copy is absent");
    // malformed TOUCH frames: EINVAL, the connection kept
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      byte[][] bad = {
          new Payload.Writer().u16(0).toBytes(), // no ids
          new Payload.Writer().u16(2).id(idOf(a)).toBytes(), // fewer ids than counted
          new Payload.Writer().u16(1).id(idOf(a)).u8(0).toBytes(), // trailing byte
          new Payload.Writer().u16(1025).toBytes(), // over the bound
      };
      for (int i = 0; i < bad.length; i++) {
        raw.send(RawClient.frame(BlockFrame.Type.TOUCH, 10 + i, bad[i]));
        BlockFrame f = assertInstanceOf(BlockFrame.class, raw.read());
        assertEquals(BlockFrame.Type.ERROR, f.type(), "bad TOUCH " + i);
        assertEquals(Errno.EINVAL.code(), new Payload.Reader(f.payload(), "ERROR").u16(), "bad TOUCH " + i);
      }
      raw.send(RawClient.frame(BlockFrame.Type.TOUCH, 20, new Payload.Writer().u16(1).id(idOf(a)).toBytes()));
      BlockFrame ok = assertInstanceOf(BlockFrame.class, raw.read());
      assertEquals(BlockFrame.Type.OK, ok.type(), "the connection still serves");
    }
    // before authentication: refused and closed, nothing touched
    long before = server.copyClock().lastTouch(idOf(a));
    try (RawClient raw = new RawClient(server.address())) {
      raw.send(RawClient.frame(BlockFrame.Type.TOUCH, 1, new Payload.Writer().u16(1).id(idOf(a)).toBytes()));
      assertRefused(raw.read(), "HELLO must be the first frame");
      assertSame(RawClient.CLOSED, raw.read());
    }
    assertEquals(before, server.copyClock().lastTouch(idOf(a)));
  }

  @Test
  void auth_tellsTheClientTheServersOrphanGrace() throws IOException {
    try (SegmentStore other = SegmentStore.open(dir.resolve("graced"), Codec.LZ4, 64 << 20);
        BlockServer graced = BlockServer.builder(other, CREDS).orphanGrace(Duration.ofSeconds(90)).start()) {
      assertEquals(90_000, remote(graced.address(), CREDS).orphanGraceMillis());
    }
  }

  @Test
  void hello_isAChallengeResponse_aRecordedExchangeReplayedOnANewConnectionIsRefused() throws IOException {
    byte[] clientNonce = ClusterCredentials.nonce();
    byte[] firstServerNonce;
    byte[] recordedProof;
    try (RawClient raw = new RawClient(server.address())) {
      byte[][] challenge = raw.challenge(CREDS.clusterId(), clientNonce);
      assertTrue(CREDS.proofMatches(ClusterCredentials.Role.SERVER, clientNonce, challenge[0], challenge[1]),
          "the server proves it knows the secret");
      firstServerNonce = challenge[0];
      recordedProof = CREDS.proof(ClusterCredentials.Role.CLIENT, clientNonce, challenge[0]);
      assertEquals(BlockFrame.Type.OK, assertInstanceOf(BlockFrame.class, raw.auth(recordedProof)).type());
    }
    // the same HELLO and AUTH sent again on a new connection: the server's nonce is new, the proof is stale
    try (RawClient raw = new RawClient(server.address())) {
      byte[][] challenge = raw.challenge(CREDS.clusterId(), clientNonce);
      assertFalse(Arrays.equals(firstServerNonce, challenge[0]), "a fresh server nonce per connection");
      assertRefused(raw.auth(recordedProof), "bad token proof");
      assertSame(RawClient.CLOSED, raw.read());
    }
    // a client without the secret (right cluster id, another secret)
    ClusterCredentials guess = new ClusterCredentials(CREDS.clusterId(), "guess-42");
    try (RawClient raw = new RawClient(server.address())) {
      byte[][] challenge = raw.challenge(CREDS.clusterId(), clientNonce);
      assertFalse(guess.proofMatches(ClusterCredentials.Role.SERVER, clientNonce, challenge[0], challenge[1]));
      assertRefused(raw.auth(guess.proof(ClusterCredentials.Role.CLIENT, clientNonce, challenge[0])),
          "bad token proof");
    }
    // a request in place of AUTH is not served
    byte[] b = {7, 7, 7};
    try (RawClient raw = new RawClient(server.address())) {
      raw.challenge(CREDS.clusterId(), clientNonce);
      byte[] put = Arrays.copyOf(idOf(b).toBytes(), BlockId.LENGTH + b.length);
      System.arraycopy(b, 0, put, BlockId.LENGTH, b.length);
      raw.send(RawClient.frame(BlockFrame.Type.PUT, 3, put));
      assertRefused(raw.read(), "AUTH must follow HELLO");
      assertSame(RawClient.CLOSED, raw.read());
    }
    assertFalse(store.contains(idOf(b)), "a PUT in place of AUTH was stored");
    // the server's own proof sent back as the client's
    try (RawClient raw = new RawClient(server.address())) {
      byte[][] challenge = raw.challenge(CREDS.clusterId(), clientNonce);
      assertRefused(raw.auth(challenge[1]), "bad token proof");
    }
    // AUTH without a challenge, and a HELLO whose nonce is not 32 bytes (the secret in clear, as before)
    try (RawClient raw = new RawClient(server.address())) {
      assertRefused(raw.auth(recordedProof), "HELLO must be the first frame");
      assertSame(RawClient.CLOSED, raw.read());
    }
    try (RawClient raw = new RawClient(server.address())) {
      raw.send(RawClient.frame(BlockFrame.Type.HELLO, 1, new Payload.Writer().string(CREDS.clusterId().toString(), 64)
          .bytes16("test-token-1".getBytes(java.nio.charset.StandardCharsets.UTF_8)).toBytes()));
      BlockFrame f = assertInstanceOf(BlockFrame.class, raw.read());
      assertEquals(BlockFrame.Type.ERROR, f.type());
      assertEquals(Errno.EINVAL.code(), new Payload.Reader(f.payload(), "ERROR").u16());
    }
    // a real client still gets in
    assertNotNull(remote(server.address(), CREDS).nodeStats());
  }

  /** {@code answer} is an EACCES refusal whose reason contains {@code reason}. */
  private static void assertRefused(Object answer, String reason) throws FsException {
    BlockFrame f = assertInstanceOf(BlockFrame.class, answer);
    assertEquals(BlockFrame.Type.ERROR, f.type());
    Payload.Reader r = new Payload.Reader(f.payload(), "ERROR");
    assertEquals(Errno.EACCES.code(), r.u16());
    String why = r.string();
    assertTrue(why.contains(reason), why);
  }

  @Test
  void tls_blockBytesAreEncryptedOnTheWire_plainOnesAreNot() throws Exception {
    RaftTls key = RaftTls.forSecret("test-token-1");
    byte[] block = new byte[200_000];
    new Random(11).nextBytes(block);
    byte[] marker = Arrays.copyOfRange(block, 100_000, 100_064); // what a reader of the network looks for
    try (SegmentStore s2 = SegmentStore.open(dir.resolve("tls-node"), Codec.LZ4, 64 << 20);
        BlockServer tlsServer = BlockServer.builder(s2, CREDS).blockSize(BLOCK)
            .tls(BlockTls.of(key.keyManager(), key.trustManager(), false)).start()) {
      // encrypted: the block goes up and comes back, and its bytes never cross the proxy in clear
      try (RecordingProxy proxy = new RecordingProxy(tlsServer.address());
          RemoteBlockStore r = RemoteBlockStore.builder(clients, proxy.address(), CREDS)
              .tls(BlockTls.of(key.keyManager(), key.trustManager(), false)).build()) {
        BlockId id = r.put(idOf(block), block, block.length).id();
        assertArrayEquals(block, r.get(id));
        byte[] seen = proxy.seen();
        assertTrue(seen.length > block.length, "the block crossed the proxy (" + seen.length + " bytes)");
        assertEquals(0x16, seen[0], "the connection starts with a TLS handshake record");
        assertEquals(-1, indexOf(seen, marker), "block bytes crossed the network in clear");
      }
      // the same server still takes a plain client (not required), and then the bytes are readable
      try (RecordingProxy proxy = new RecordingProxy(tlsServer.address());
          RemoteBlockStore r = RemoteBlockStore.builder(clients, proxy.address(), CREDS).build()) {
        assertArrayEquals(block, r.get(idOf(block)));
        assertTrue(indexOf(proxy.seen(), marker) >= 0, "a plain connection carries the bytes as they are");
      }
    }
  }

  @Test
  void tlsRequired_plainClientRefused_clientWithAnotherKeyFailsTheHandshake() throws Exception {
    RaftTls key = RaftTls.forSecret("test-token-1");
    try (SegmentStore s2 = SegmentStore.open(dir.resolve("tls-node"), Codec.LZ4, 64 << 20);
        BlockServer tlsServer = BlockServer.builder(s2, CREDS).blockSize(BLOCK)
            .tls(BlockTls.of(key.keyManager(), key.trustManager(), true)).start()) {
      FsException plain = assertThrows(FsException.class, () -> remote(tlsServer.address(), CREDS).nodeStats());
      assertEquals(Errno.EACCES, plain.errno());
      assertTrue(plain.getMessage().contains("only TLS") && plain.getMessage().contains("--block-tls"),
          plain.getMessage());
      RaftTls other = RaftTls.forSecret("another-cluster-secret");
      RemoteBlockStore stranger = RemoteBlockStore.builder(clients, tlsServer.address(), CREDS)
          .tls(BlockTls.of(other.keyManager(), other.trustManager(), false)).timeout(Duration.ofSeconds(5)).build();
      toClose.add(stranger);
      FsException refused = assertThrows(FsException.class, stranger::nodeStats);
      assertEquals(Errno.EACCES, refused.errno());
      assertTrue(refused.getMessage().contains("TLS handshake"), refused.getMessage());
      RemoteBlockStore member = RemoteBlockStore.builder(clients, tlsServer.address(), CREDS)
          .tls(BlockTls.of(key.keyManager(), key.trustManager(), false)).build();
      toClose.add(member);
      assertNotNull(member.nodeStats());
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Test
  void connect_silentClient_refusedAfterHelloTimeoutAndClosed() throws IOException {
    try (BlockServer s = BlockServer.builder(store, CREDS).helloTimeout(Duration.ofMillis(200)).start();
        RawClient raw = new RawClient(s.address())) {
      Object answer = raw.read(); // sends nothing; the read gives up after 5 s
      BlockFrame f = assertInstanceOf(BlockFrame.class, answer);
      assertEquals(BlockFrame.Type.ERROR, f.type());
      assertEquals(Errno.EACCES.code(), new Payload.Reader(f.payload(), "ERROR").u16());
      assertSame(RawClient.CLOSED, raw.read());
    }
  }

  @Test
  void builder_frameBoundTooSmallForBlockSize_failsNamingBoth() throws IOException {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BlockServer.builder(store, CREDS).blockSize(BLOCK).maxFrameBytes(BLOCK).start());
    assertTrue(e.getMessage().contains("maxFrameBytes") && e.getMessage().contains("blockSize"), e.getMessage());
    int shardFrame = BlockFrame.HEADER + BlockId.LENGTH + ShardRecord.HEADER + BLOCK + BlockFrame.TRAILER;
    e = assertThrows(IllegalArgumentException.class,
        () -> BlockServer.builder(store, CREDS).blockSize(BLOCK).maxFrameBytes(shardFrame - 1).start());
    assertTrue(e.getMessage().contains("PUT_SHARD"), e.getMessage());
    try (BlockServer exact = BlockServer.builder(store, CREDS).blockSize(BLOCK).maxFrameBytes(shardFrame).start()) {
      assertTrue(exact.port() > 0);
    }
    assertThrows(IllegalArgumentException.class, () -> BlockServer.builder(store, CREDS).ioThreads(3));
  }

  @Test
  void close_afterUse_joinsEveryThreadItStarted() throws IOException {
    RemoteBlockStore remote = remote();
    byte[] b = block(new Random(8), 1000);
    remote.put(idOf(b), b, b.length);
    server.close();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      String n = t.getName();
      assertFalse(n.startsWith("dfs-block-accept") || n.startsWith("dfs-block-io")
          || n.startsWith("dfs-block-store") || n.startsWith("dfs-block-commit"), "still running: " + n);
    }
    assertNotNull(store.stat(idOf(b)));
  }
}
