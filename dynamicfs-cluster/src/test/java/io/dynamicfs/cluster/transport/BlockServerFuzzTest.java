package io.dynamicfs.cluster.transport;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.transport.BlockFrame.Type;
import io.dynamicfs.cluster.blocks.ShardRecord;
import io.dynamicfs.cluster.blocks.ShardRecords;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.codec.Codec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad bytes on raw sockets: each gets an ERROR or a closed connection (never a hang: reads give up after
 * 5 s), and a well-behaved client on its own connection (blocks and shard records) keeps working throughout.
 */
class BlockServerFuzzTest {
  private static final ClusterCredentials CREDS = BlockServerTest.CREDS;
  private static final int MAX_FRAME = 4 << 20;

  @TempDir Path dir;
  private SegmentStore store;
  private BlockServer server;
  private BlockClientGroup clients;
  private RemoteBlockStore good;
  private Thread goodThread;
  private final AtomicBoolean stop = new AtomicBoolean();
  private final AtomicInteger goodRounds = new AtomicInteger();
  private final List<Throwable> goodFailures = new CopyOnWriteArrayList<>();

  @BeforeEach
  void start() throws IOException {
    store = SegmentStore.open(dir.resolve("node"), Codec.LZ4, 64 << 20);
    server = BlockServer.builder(store, CREDS).maxFrameBytes(MAX_FRAME).start();
    clients = new BlockClientGroup(1);
    good = RemoteBlockStore.builder(clients, server.address(), CREDS).timeout(Duration.ofSeconds(10)).build();
    goodThread = new Thread(this::behaveWell, "well-behaved-client");
    goodThread.start();
  }

  /** Puts and reads back blocks until told to stop, recording any failure. */
  private void behaveWell() {
    Random rnd = new Random(99);
    while (!stop.get()) {
      try {
        byte[] b = BlockServerTest.block(rnd, rnd.nextInt(200_000));
        BlockId id = BlockServerTest.idOf(b);
        good.put(id, b, b.length);
        assertArrayEquals(b, good.get(id));
        byte[] record = ShardRecords.wholeBlockShard(b);
        good.putShard(ShardRecords.wholeBlockKey(b), record);
        assertArrayEquals(record, good.getShard(ShardRecords.wholeBlockKey(b)));
        goodRounds.incrementAndGet();
      } catch (Throwable t) {
        goodFailures.add(t);
        return;
      }
    }
  }

  @AfterEach
  void stop() throws Exception {
    stop.set(true);
    goodThread.join(30_000);
    good.close();
    clients.close();
    server.close();
    store.close();
  }

  /** The well-behaved client never failed and made progress since {@code before}. */
  private void assertGoodClientKeptWorking(int before) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (goodRounds.get() < before + 3 && goodFailures.isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertTrue(goodFailures.isEmpty(), () -> "well-behaved client failed: " + goodFailures);
    assertTrue(goodRounds.get() >= before + 3, "well-behaved client stalled at " + goodRounds.get());
  }

  private static BlockFrame assertError(Object answer, Errno errno, long requestId) throws FsException {
    BlockFrame f = assertInstanceOf(BlockFrame.class, answer);
    assertEquals(Type.ERROR, f.type());
    assertEquals(requestId, f.requestId());
    assertEquals(errno.code(), new Payload.Reader(f.payload(), "ERROR").u16());
    return f;
  }

  private static String reason(BlockFrame error) throws FsException {
    Payload.Reader r = new Payload.Reader(error.payload(), "ERROR");
    r.u16();
    return r.string();
  }

  private byte[] hasPayload() {
    return new Payload.Writer().id(BlockServerTest.idOf(new byte[] {1})).toBytes();
  }

  @Test
  void connection_randomBytes_answeredErrorOrClosedWhileOthersServed() throws Exception {
    int before = goodRounds.get();
    Random rnd = new Random(20240611);
    for (int round = 0; round < 30; round++) {
      byte[] junk = new byte[1 + rnd.nextInt(round % 3 == 0 ? 100_000 : 64)];
      rnd.nextBytes(junk);
      boolean afterHello = round % 2 == 1;
      try (RawClient raw = new RawClient(server.address())) {
        if (afterHello) {
          raw.hello(CREDS);
        }
        raw.send(junk);
        Object answer = raw.read();
        if (answer != RawClient.CLOSED) {
          assertEquals(Type.ERROR, assertInstanceOf(BlockFrame.class, answer).type(), "round " + round);
          assertSame(RawClient.CLOSED, raw.read(), "round " + round + ": connection not closed after lost framing");
        }
      } catch (java.net.SocketException e) {
        // the server closed while our junk was still being sent: a closed connection, as allowed
      }
    }
    assertGoodClientKeptWorking(before);
  }

  @Test
  void frame_lengthOverBound_answeredE2bigAndClosed() throws Exception {
    int before = goodRounds.get();
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      byte[] header = Arrays.copyOf(RawClient.rawFrame(BlockFrame.MAGIC, 1, Type.PUT.code, 5,
          BlockFrame.maxPayload(MAX_FRAME) + 1, new byte[0], true), BlockFrame.HEADER);
      raw.send(header); // the payload is never sent: the refusal cannot wait for it
      assertError(raw.read(), Errno.E2BIG, 5);
      assertSame(RawClient.CLOSED, raw.read());
    }
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      raw.send(Arrays.copyOf(RawClient.rawFrame(BlockFrame.MAGIC, 1, Type.PUT.code, 6, Integer.MIN_VALUE,
          new byte[0], true), BlockFrame.HEADER));
      assertError(raw.read(), Errno.E2BIG, 6);
      assertSame(RawClient.CLOSED, raw.read());
    }
    assertGoodClientKeptWorking(before);
  }

  @Test
  void frame_truncatedThenClientCloses_serverUnaffected() throws Exception {
    int before = goodRounds.get();
    for (int cut : new int[] {3, BlockFrame.HEADER - 1, BlockFrame.HEADER + 500_000}) {
      try (RawClient raw = new RawClient(server.address())) {
        raw.hello(CREDS);
        byte[] frame = RawClient.frame(Type.PUT, 7, new byte[1_000_000]);
        raw.send(Arrays.copyOf(frame, cut));
      }
    }
    assertGoodClientKeptWorking(before);
    assertTrue(!store.contains(BlockId.of(new byte[BlockId.LENGTH], 0)), "a truncated PUT stored something");
  }

  @Test
  void frame_badCrc_answeredEioWithRequestIdAndConnectionStaysUsable() throws Exception {
    int before = goodRounds.get();
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      byte[] p = hasPayload();
      raw.send(RawClient.rawFrame(BlockFrame.MAGIC, 1, Type.HAS.code, 8, p.length, p, false));
      assertTrue(reason(assertError(raw.read(), Errno.EIO, 8)).contains("checksum"));
      raw.send(RawClient.frame(Type.HAS, 9, p));
      BlockFrame ok = assertInstanceOf(BlockFrame.class, raw.read());
      assertEquals(Type.OK, ok.type());
      assertEquals(9, ok.requestId());
    }
    assertGoodClientKeptWorking(before);
  }

  @Test
  void frame_unknownTypeOrReplyTypeOrTrailingBytes_answeredEinvalAndConnectionStaysUsable() throws Exception {
    int before = goodRounds.get();
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      raw.send(RawClient.rawFrame(BlockFrame.MAGIC, 1, 200, 10, 0, new byte[0], true));
      assertError(raw.read(), Errno.EINVAL, 10);
      raw.send(RawClient.frame(Type.OK, 11, new byte[0]));
      assertError(raw.read(), Errno.EINVAL, 11);
      byte[] trailing = Arrays.copyOf(hasPayload(), BlockId.LENGTH + 1);
      raw.send(RawClient.frame(Type.HAS, 12, trailing));
      assertTrue(reason(assertError(raw.read(), Errno.EINVAL, 12)).contains("trailing"));
      raw.send(RawClient.frame(Type.GET, 13, new byte[5]));
      assertError(raw.read(), Errno.EINVAL, 13);
      raw.send(RawClient.frame(Type.HELLO, 14, new byte[0]));
      assertError(raw.read(), Errno.EINVAL, 14);
      raw.send(RawClient.frame(Type.HAS, 15, hasPayload()));
      assertEquals(Type.OK, assertInstanceOf(BlockFrame.class, raw.read()).type());
    }
    assertGoodClientKeptWorking(before);
  }

  @Test
  void frame_beforeHello_answeredEaccesAndClosed() throws Exception {
    int before = goodRounds.get();
    try (RawClient raw = new RawClient(server.address())) {
      raw.send(RawClient.frame(Type.GET, 16, new Payload.Writer().id(BlockServerTest.idOf(new byte[0])).u8(0)
          .toBytes()));
      assertTrue(reason(assertError(raw.read(), Errno.EACCES, 16)).contains("HELLO"));
      assertSame(RawClient.CLOSED, raw.read());
    }
    assertGoodClientKeptWorking(before);
  }

  @Test
  void frame_beforeHelloWithValidHelloBehindIt_nothingAfterTheRefusalIsServed() throws Exception {
    int before = goodRounds.get();
    byte[] b = {4, 5, 6};
    BlockId id = BlockServerTest.idOf(b);
    byte[] hello = new Payload.Writer().string(CREDS.clusterId().toString(), 64).bytes16(ClusterCredentials.nonce())
        .toBytes();
    byte[] put = new Payload.Writer().id(id).toBytes();
    put = Arrays.copyOf(put, put.length + b.length);
    System.arraycopy(b, 0, put, BlockId.LENGTH, b.length);
    ByteArrayOutputStream oneWrite = new ByteArrayOutputStream();
    oneWrite.write(RawClient.frame(Type.STATS, 20, new byte[0]));
    oneWrite.write(RawClient.frame(Type.HELLO, 21, hello));
    oneWrite.write(RawClient.frame(Type.PUT, 22, put));
    try (RawClient raw = new RawClient(server.address())) {
      raw.send(oneWrite.toByteArray());
      assertError(raw.read(), Errno.EACCES, 20);
      assertSame(RawClient.CLOSED, raw.read());
    }
    assertGoodClientKeptWorking(before);
    assertTrue(!store.contains(id), "a PUT behind a refused first frame was served");
  }

  @Test
  void sync_afterHello_answeredOk() throws Exception {
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      raw.send(RawClient.frame(Type.SYNC, 23, new byte[0]));
      BlockFrame ok = assertInstanceOf(BlockFrame.class, raw.read());
      assertEquals(Type.OK, ok.type());
      assertEquals(23, ok.requestId());
    }
  }

  @Test
  void frame_unsupportedVersion_answeredAndClosed() throws Exception {
    int before = goodRounds.get();
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      raw.send(RawClient.rawFrame(BlockFrame.MAGIC, 9, Type.GET.code, 17, 0, new byte[0], true));
      assertError(raw.read(), Errno.EINVAL, BlockFrame.NO_REQUEST);
      assertSame(RawClient.CLOSED, raw.read());
    }
    assertGoodClientKeptWorking(before);
  }

  @Test
  void hello_malformedOrWrong_answeredEaccesOrEinvalAndClosed() throws Exception {
    int before = goodRounds.get();
    byte[][] hellos = {
        new byte[0],
        new Payload.Writer().string("not-a-uuid", 64).bytes16(new byte[] {1}).toBytes(),
        new Payload.Writer().string(CREDS.clusterId().toString(), 64).bytes16(new byte[] {1}).toBytes(),
        new Payload.Writer().string(CREDS.clusterId().toString(), 64).bytes16(ClusterCredentials.nonce()).u8(0)
            .toBytes(),
    };
    for (byte[] hello : hellos) {
      try (RawClient raw = new RawClient(server.address())) {
        raw.send(RawClient.frame(Type.HELLO, 18, hello));
        BlockFrame f = assertInstanceOf(BlockFrame.class, raw.read());
        assertEquals(Type.ERROR, f.type());
        assertNotEquals(0, f.payload().length);
        assertSame(RawClient.CLOSED, raw.read());
      }
    }
    assertGoodClientKeptWorking(before);
  }

  /** A PUT_SHARD payload: key, then the record. */
  private static byte[] putShardPayload(BlockId key, byte[] record) {
    byte[] p = Arrays.copyOf(key.toBytes(), BlockId.LENGTH + record.length);
    System.arraycopy(record, 0, p, BlockId.LENGTH, record.length);
    return p;
  }

  @Test
  void putShard_truncatedThenClientCloses_nothingStoredAndServerUnaffected() throws Exception {
    int before = goodRounds.get();
    byte[] b = BlockServerTest.block(new Random(30), 500_000);
    BlockId key = ShardRecords.wholeBlockKey(b);
    byte[] frame = RawClient.frame(Type.PUT_SHARD, 31, putShardPayload(key, ShardRecords.wholeBlockShard(b)));
    for (int cut : new int[] {3, BlockFrame.HEADER - 1, BlockFrame.HEADER + 31, BlockFrame.HEADER + 32 + 40,
        frame.length / 2, frame.length - 1}) {
      try (RawClient raw = new RawClient(server.address())) {
        raw.hello(CREDS);
        raw.send(Arrays.copyOf(frame, cut));
      }
    }
    assertGoodClientKeptWorking(before);
    assertTrue(!store.contains(key), "a truncated PUT_SHARD stored something");
  }

  @Test
  void putShard_lengthOverFrameBound_e2bigAndClosed_recordOverBlockSize_efbigAndKept() throws Exception {
    int before = goodRounds.get();
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      raw.send(Arrays.copyOf(RawClient.rawFrame(BlockFrame.MAGIC, 1, Type.PUT_SHARD.code, 32,
          BlockFrame.maxPayload(MAX_FRAME) + 1, new byte[0], true), BlockFrame.HEADER));
      assertError(raw.read(), Errno.E2BIG, 32);
      assertSame(RawClient.CLOSED, raw.read());
    }
    BlockId key = BlockServerTest.idOf(new byte[] {32});
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      // within the frame bound, over what a node of block size 1 MiB takes (1 MiB + 80): refused before parsing
      raw.send(RawClient.frame(Type.PUT_SHARD, 33, putShardPayload(key, new byte[(1 << 20) + ShardRecord.HEADER + 1])));
      assertError(raw.read(), Errno.EFBIG, 33);
      raw.send(RawClient.frame(Type.GET_SHARD, 34, key.toBytes()));
      assertError(raw.read(), Errno.ENOENT, 34);
    }
    assertGoodClientKeptWorking(before);
    assertTrue(!store.contains(key));
  }

  @Test
  void putShardAndGetShard_badCrc_answeredEioAndConnectionStaysUsable() throws Exception {
    int before = goodRounds.get();
    byte[] b = BlockServerTest.block(new Random(35), 5000);
    BlockId key = ShardRecords.wholeBlockKey(b);
    byte[] record = ShardRecords.wholeBlockShard(b);
    byte[] put = putShardPayload(key, record);
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      raw.send(RawClient.rawFrame(BlockFrame.MAGIC, 1, Type.PUT_SHARD.code, 35, put.length, put, false));
      assertTrue(reason(assertError(raw.read(), Errno.EIO, 35)).contains("checksum"));
      assertTrue(!store.contains(key), "a PUT_SHARD with a bad checksum stored something");
      raw.send(RawClient.rawFrame(BlockFrame.MAGIC, 1, Type.GET_SHARD.code, 36, BlockId.LENGTH, key.toBytes(), false));
      assertError(raw.read(), Errno.EIO, 36);
      raw.send(RawClient.frame(Type.PUT_SHARD, 37, put));
      assertEquals(Type.OK, assertInstanceOf(BlockFrame.class, raw.read()).type());
      raw.send(RawClient.frame(Type.GET_SHARD, 38, key.toBytes()));
      BlockFrame data = assertInstanceOf(BlockFrame.class, raw.read());
      assertEquals(Type.DATA, data.type());
      assertEquals(38, data.requestId());
      assertArrayEquals(record, data.payload());
    }
    assertGoodClientKeptWorking(before);
  }

  @Test
  void putShardAndGetShard_malformedPayloads_answeredEinvalAndConnectionStaysUsable() throws Exception {
    int before = goodRounds.get();
    byte[] b = BlockServerTest.block(new Random(40), 3000);
    BlockId key = ShardRecords.wholeBlockKey(b);
    byte[] record = ShardRecords.wholeBlockShard(b);
    try (RawClient raw = new RawClient(server.address())) {
      raw.hello(CREDS);
      raw.send(RawClient.frame(Type.PUT_SHARD, 40, new byte[BlockId.LENGTH - 1])); // no whole key
      assertError(raw.read(), Errno.EINVAL, 40);
      raw.send(RawClient.frame(Type.PUT_SHARD, 41, key.toBytes())); // key, no record
      assertError(raw.read(), Errno.EINVAL, 41);
      Random rnd = new Random(41);
      for (int i = 0; i < 20; i++) { // key, then junk of any length up to a little over a record
        byte[] junk = new byte[rnd.nextInt(record.length + 100)];
        rnd.nextBytes(junk);
        raw.send(RawClient.frame(Type.PUT_SHARD, 42 + i, putShardPayload(key, junk)));
        assertError(raw.read(), Errno.EINVAL, 42 + i);
      }
      byte[] swapped = record.clone(); // the record of another block's shard under this key
      swapped[20] ^= 1;
      raw.send(RawClient.frame(Type.PUT_SHARD, 62, putShardPayload(key, swapped)));
      assertTrue(reason(assertError(raw.read(), Errno.EINVAL, 62)).contains("another key"));
      raw.send(RawClient.frame(Type.GET_SHARD, 63, new byte[BlockId.LENGTH - 1]));
      assertError(raw.read(), Errno.EINVAL, 63);
      raw.send(RawClient.frame(Type.GET_SHARD, 64, Arrays.copyOf(key.toBytes(), BlockId.LENGTH + 1)));
      assertTrue(reason(assertError(raw.read(), Errno.EINVAL, 64)).contains("trailing"));
      raw.send(RawClient.frame(Type.GET_SHARD, 65, key.toBytes()));
      assertError(raw.read(), Errno.ENOENT, 65);
      assertTrue(!store.contains(key), "a malformed PUT_SHARD stored something");
      raw.send(RawClient.frame(Type.PUT_SHARD, 66, putShardPayload(key, record)));
      assertEquals(Type.OK, assertInstanceOf(BlockFrame.class, raw.read()).type());
      raw.send(RawClient.frame(Type.GET_SHARD, 67, key.toBytes()));
      assertArrayEquals(record, assertInstanceOf(BlockFrame.class, raw.read()).payload());
    }
    assertGoodClientKeptWorking(before);
  }
}
