package io.dynamicfs.cluster.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicies;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Three real Ratis servers over gRPC, each a MetadataStateMachine on its own RocksDB. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class RaftReplicationTest {
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path tmp;

  @Test
  void randomOps_throughRaft_replicasIdenticalAndAnswersEqualLocalApplier() throws Exception {
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3, b -> b);
        RaftMetaClient client = new RaftMetaClient(cluster.group());
        MetadataStore ref = MetadataStore.open(tmp.resolve("ref"), TestCluster.BLOCK_SIZE)) {
      OpApplier local = new OpApplier(ref);
      RandomOps ops = new RandomOps(42);
      int failed = 0;
      MetaOp op = RandomOps.root();
      for (int i = 0; i < 2000; i++) {
        OpApplier.Result replicated = client.submit(op);
        OpApplier.Result expected = local.apply(i + 1, op);
        String what = opName(op) + " at log index " + replicated.index();
        assertEquals(expected.errno(), replicated.errno(), () -> what + ": " + replicated.message());
        assertEquals(expected.ino(), replicated.ino(), () -> "inode made by " + what);
        assertEquals(expected.freed(), replicated.freed(), () -> "blocks freed by " + what);
        failed += replicated.ok() ? 0 : 1;
        ops.observe(op, replicated);
        if (i == 1000) {
          assertMalformedFrameRefused(cluster);
        }
        op = ops.next();
      }
      assertTrue(failed > 200 && failed < 1800, "a mix of valid and invalid operations: " + failed + " failed");

      cluster.awaitConverged(WAIT);
      cluster.assertReplicasIdentical();
      assertEquals(withoutPosition(TestCluster.records(ref)), withoutPosition(cluster.records(0)),
          "replicas hold what one local applier holds");
    }
  }

  /** Bytes that are no operation are refused by the leader before they reach the log. */
  private static void assertMalformedFrameRefused(TestCluster cluster) throws Exception {
    try (RaftClient raw = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(cluster.group())
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(50,
            org.apache.ratis.util.TimeDuration.valueOf(100, TimeUnit.MILLISECONDS))).build()) {
      StateMachineException e = assertThrows(StateMachineException.class,
          () -> raw.io().send(Message.valueOf("not an operation")));
      assertTrue(String.valueOf(e).contains("EIO"), String.valueOf(e));
    }
  }

  @Test
  void leaderStoppedMidSequence_submitsGoOnOnceEach_restartedServerReplaysOnlyWhatItLacks() throws Exception {
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3, b -> b);
        RaftMetaClient client = new RaftMetaClient(cluster.group())) {
      client.submit(RandomOps.root()).orThrow();
      int n = 240;
      CompletableFuture<long[]> stopped = null;
      for (int i = 0; i < n; i++) {
        if (i == n / 4) {
          int leader = cluster.awaitLeader(WAIT);
          // stopped from another thread, so a request is likely in flight when the leader goes
          stopped = CompletableFuture.supplyAsync(() -> {
            try {
              Thread.sleep(30);
              return new long[] {leader, cluster.stop(leader)};
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          });
        }
        if (i == n / 2) {
          long[] s = stopped.get(WAIT.toSeconds(), TimeUnit.SECONDS);
          cluster.start((int) s[0]);
        }
        OpApplier.Result r = client.submit(mkdir("d" + i, i));
        assertTrue(r.ok(), () -> "mkdir #" + r.index() + " answered " + r.errno() + " " + r.message());
      }
      long[] s = stopped.get();
      int restarted = (int) s[0];
      cluster.awaitConverged(WAIT);
      cluster.assertReplicasIdentical();
      for (int i = 0; i < cluster.size(); i++) {
        int count = cluster.server(i).stateMachine().read(st -> st.list(FileSystem.ROOT_INO)).size();
        assertEquals(n, count, "directories on n" + i + " (one per successful mkdir, none twice)");
      }
      long firstReplayed = cluster.listener(restarted).minIndex.get();
      assertTrue(firstReplayed > s[1], "restarted server applied index " + firstReplayed
          + " again, though its store held up to " + s[1]);
      assertTrue(cluster.listener(restarted).applied.get() > 0, "restarted server caught up by applying");
    }
  }

  @Test
  void fewLargeEntries_checkpointAndPurgeTheLog_bySize() throws Exception {
    // an entry threshold no run reaches: only the log's size can trigger the checkpoints
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3,
        b -> b.snapshotThreshold(1_000_000).snapshotBytes(1 << 20).purgeGap(4).segmentBytes(256 << 10));
        RaftMetaClient client = new RaftMetaClient(cluster.group())) {
      client.submit(RandomOps.root()).orThrow();
      long ino = client.submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "small", FileType.REGULAR.bits() | 0644,
          0, 0, true, 0, null, 1)).orThrow().ino();
      java.util.Random rnd = new java.util.Random(3);
      for (int i = 0; i < 80; i++) { // 80 entries of 60 KiB: 4.7 MiB of log
        byte[] data = new byte[60 << 10];
        rnd.nextBytes(data);
        client.submit(new MetaOp.CommitBlocks(ino, data.length, -1, 2 + i, 2 + i,
            List.of(MetaOp.ChunkChange.inline(0, data)))).orThrow();
      }
      cluster.awaitConverged(WAIT);
      for (int i = 0; i < cluster.size(); i++) {
        RaftMetaServer s = cluster.server(i);
        long start = s.raftServer().getDivision(cluster.group().getGroupId()).getRaftLog().getStartIndex();
        assertTrue(start > 20, "replica " + i + " purged its log by size (it starts at " + start + ")");
        try (Stream<Path> dirs = Files.list(cluster.storage(i).resolve(
            cluster.group().getGroupId().getUuid().toString()).resolve("sm").resolve("snapshots"))) {
          assertTrue(dirs.anyMatch(d -> d.getFileName().toString().startsWith("snapshot.")),
              "replica " + i + " took a checkpoint");
        }
      }
      cluster.assertReplicasIdentical();
    }
  }

  @Test
  void wipedFollower_afterLogPurged_catchesUpBySnapshotInstall() throws Exception {
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3,
        b -> b.snapshotThreshold(40).purgeGap(8).segmentBytes(16 << 10));
        RaftMetaClient client = new RaftMetaClient(cluster.group())) {
      RandomOps ops = new RandomOps(7);
      MetaOp op = RandomOps.root();
      for (int i = 0; i < 60; i++) {
        ops.observe(op, client.submit(op));
        op = ops.next();
      }
      int leader = cluster.awaitLeader(WAIT);
      int follower = (leader + 1) % 3;
      cluster.stop(follower);
      cluster.wipe(follower);
      for (int i = 0; i < 400; i++) {
        ops.observe(op, client.submit(op));
        op = ops.next();
      }
      long leaderStart = cluster.server(leader).raftServer().getDivision(cluster.group().getGroupId())
          .getRaftLog().getStartIndex();
      assertTrue(leaderStart > 60, "the leader purged its log (starts at " + leaderStart + ")");

      cluster.start(follower);
      // what a mount's engine does: take the replica's store once and keep reading it
      MetadataStore held = cluster.server(follower).stateMachine().read(s -> s);
      cluster.awaitConverged(WAIT);
      cluster.assertReplicasIdentical();
      assertSame(held, cluster.server(follower).stateMachine().read(s -> s), "the install swapped the store in place");
      assertEquals(cluster.server(follower).stateMachine().appliedIndex(), held.appliedIndex(),
          "the store held from before the install reads the installed contents");
      assertTrue(cluster.listener(follower).minIndex.get() >= leaderStart,
          "wiped follower applied entry " + cluster.listener(follower).minIndex.get()
              + " that the leader's log no longer holds: it did not install a snapshot");
      try (Stream<Path> dirs = Files.list(cluster.storage(follower).resolve(
          cluster.group().getGroupId().getUuid().toString()).resolve("sm").resolve("snapshots"))) {
        assertTrue(dirs.anyMatch(d -> d.getFileName().toString().startsWith("snapshot.")), "installed checkpoint");
      }
      // and it goes on replicating after the install
      client.submit(mkdir("after-install", 1)).orThrow();
      cluster.awaitConverged(WAIT);
      cluster.assertReplicasIdentical();
    }
  }

  @Test
  void readAfterWrite_fromAnotherClient_seesWrite() throws Exception {
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3, b -> b);
        RaftMetaClient writer = new RaftMetaClient(cluster.group());
        RaftMetaClient reader = new RaftMetaClient(cluster.group())) {
      writer.submit(RandomOps.root()).orThrow();
      for (int i = 0; i < 30; i++) {
        long ino = writer.submit(mkdir("r" + i, i)).orThrow().ino();
        Inode seen = reader.query(new MetaQuery.Lookup(FileSystem.ROOT_INO, "r" + i));
        assertEquals(ino, seen.ino());
        assertTrue(seen.isDirectory());
      }
      List<DirEntry> all = reader.query(new MetaQuery.ReadDir(FileSystem.ROOT_INO));
      assertEquals(30, all.size());
      FsException missing = assertThrows(FsException.class,
          () -> reader.query(new MetaQuery.Lookup(FileSystem.ROOT_INO, "nothing")));
      assertEquals(Errno.ENOENT, missing.errno());

      // read-your-writes from a follower's own store
      int leader = cluster.awaitLeader(WAIT);
      long ino = writer.submit(mkdir("stale", 99)).orThrow().ino();
      writer.submit(new MetaOp.SetXattr(ino, "user.k", "v".getBytes(StandardCharsets.UTF_8), 0, 5)).orThrow();
      var follower = cluster.server((leader + 1) % 3).id();
      assertEquals("v", new String(writer.queryStale(new MetaQuery.GetXattr(ino, "user.k"), follower),
          StandardCharsets.UTF_8));
      MetaQuery.Position p = writer.queryStale(new MetaQuery.Applied(), follower);
      assertTrue(p.index() >= writer.lastSeenIndex(), p + " before " + writer.lastSeenIndex());
    }
  }

  @Test
  void withoutQuorumLongerThanTimeout_submitFailsErofs_queryEio_namingTheCause() throws Exception {
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3, b -> b);
        RaftMetaClient client = new RaftMetaClient(cluster.group(), Duration.ofSeconds(3))) {
      cluster.awaitLeader(WAIT); // the client gives up after seconds: a slow first election must not fail it
      client.submit(RandomOps.root()).orThrow();
      int leader = cluster.awaitLeader(WAIT);
      cluster.stop(leader);
      cluster.stop((leader + 1) % 3);
      long start = System.nanoTime();
      FsException e = assertThrows(FsException.class, () -> client.submit(mkdir("lost", 1)));
      long tookMs = (System.nanoTime() - start) / 1_000_000;
      assertEquals(Errno.EROFS, e.errno(), "a write without a majority is refused as on a read-only filesystem");
      assertTrue(e.getMessage().contains("no leader"), e.getMessage());
      assertTrue(tookMs >= 3000 && tookMs < 15_000, "gave up after " + tookMs + " ms");
      FsException q = assertThrows(FsException.class, () -> client.query(new MetaQuery.Applied()));
      assertEquals(Errno.EIO, q.errno());
      assertTrue(q.getMessage().contains("no leader"), q.getMessage());
    }
  }

  /**
   * Without a majority, many barrier reads at once (files opened during an outage) each give up at their own
   * deadline with EIO, more of them than Ratis lets a client have unanswered by default (100): none waits
   * past its deadline for a leader, although each leaves its request behind in the ordered stream.
   */
  @Test
  void withoutQuorum_manyBarrierReadsAtOnce_eachGivesUpAtItsDeadline() throws Exception {
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3, b -> b);
        RaftMetaClient client = new RaftMetaClient(cluster.group(), Duration.ofSeconds(2))) {
      cluster.awaitLeader(WAIT); // the client gives up after seconds: a slow first election must not fail it
      client.submit(RandomOps.root()).orThrow();
      int leader = cluster.awaitLeader(WAIT);
      cluster.stop(leader);
      cluster.stop((leader + 1) % 3);
      int readers = 150;
      ExecutorService pool = Executors.newFixedThreadPool(readers);
      try {
        List<Future<Errno>> answers = new ArrayList<>();
        for (int i = 0; i < readers; i++) {
          answers.add(pool.submit(() -> {
            try {
              client.queryNudging(new MetaQuery.Applied());
              return null;
            } catch (FsException e) {
              return e.errno();
            }
          }));
        }
        for (Future<Errno> a : answers) {
          assertEquals(Errno.EIO, a.get(30, TimeUnit.SECONDS), "a barrier read without a leader");
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void linearizableRead_whileTheLeaderStallsPastTheReadTimeout_waitsAndAnswersInsteadOfFailing() throws Exception {
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3, b -> b.readTimeout(Duration.ofMillis(300)));
        RaftMetaClient client = new RaftMetaClient(cluster.group())) {
      client.submit(RandomOps.root()).orThrow();
      int leader = cluster.awaitLeader(WAIT);
      CountDownLatch gate = new CountDownLatch(1);
      cluster.listener(leader).gate = gate;
      try {
        // committed by the followers, but the leader's own apply is stuck after it: the read index it
        // confirms is ahead of what it applied, so the server fails the read after 300 ms
        RaftMetaServer follower = cluster.server((leader + 1) % 3);
        CompletableFuture<OpApplier.Result> created = client.submitOrdered(mkdir("slow", 1));
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (follower.stateMachine().read(s -> s.lookup(FileSystem.ROOT_INO, "slow")) < 0
            && System.nanoTime() < deadline) {
          Thread.sleep(10); // committed once a follower applied it
        }
        assertTrue(follower.stateMachine().read(s -> s.lookup(FileSystem.ROOT_INO, "slow")) > 0,
            "the create was not committed");
        CompletableFuture<Inode> seen = CompletableFuture.supplyAsync(() -> {
          try {
            return client.queryNudging(new MetaQuery.Lookup(FileSystem.ROOT_INO, "slow"));
          } catch (FsException e) {
            throw new CompletionException(e);
          }
        });
        Thread.sleep(2000);
        assertFalse(seen.isDone(), () -> "the read ended while the leader was stalled: " + seen);
        gate.countDown();
        Inode slow = seen.get(30, TimeUnit.SECONDS);
        assertEquals(created.get(30, TimeUnit.SECONDS).orThrow().ino(), slow.ino());
      } finally {
        cluster.listener(leader).gate = null;
        gate.countDown();
      }
    }
  }

  private static MetaOp mkdir(String name, long t) {
    return new MetaOp.CreateNode(FileSystem.ROOT_INO, name, FileType.DIRECTORY.bits() | 0755, 0, 0, true, 0, null,
        1_000_000L + t);
  }

  private static String opName(MetaOp op) {
    return op.getClass().getSimpleName();
  }

  /** Records without the applied index and term (a local log and the Raft log number entries differently). */
  private static List<String> withoutPosition(List<String> records) {
    HexFormat hex = HexFormat.of();
    String index = "default " + hex.formatHex("applied-index".getBytes(StandardCharsets.US_ASCII)) + " ";
    String term = "default " + hex.formatHex("applied-term".getBytes(StandardCharsets.US_ASCII)) + " ";
    return records.stream().filter(r -> !r.startsWith(index) && !r.startsWith(term)).collect(Collectors.toList());
  }
}
