package io.dynamicfs.cluster.node;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static io.dynamicfs.cluster.node.ClusterTests.waitFor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.blocks.ErasureCodedNodeStore;
import io.dynamicfs.cluster.blocks.NodeStores;
import io.dynamicfs.cluster.blocks.ShardRecord;
import io.dynamicfs.cluster.raft.MetaQuery;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.Redundancy;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replication manager and {@code cluster leave} over four real nodes in one JVM (Ratis and block servers
 * on 127.0.0.1, replicate-2; n1-n3 metadata voters, n4 blocks only). Files are committed as a mount does
 * (blocks put on the nodes, then a CommitBlocks op naming where they landed); after a leave or a node's
 * death every block must again have two copies, on live nodes, that read back as written.
 */
class ReplicationManagerTest {
  private static final ClusterNode.Options FAST = new ClusterNode.Options(Duration.ofSeconds(1),
      Duration.ofMillis(300), 1 << 20).withDeadNodeAfter(Duration.ofSeconds(2));
  private static final Duration LONG = Duration.ofSeconds(90);

  @TempDir Path tmp;
  private final Map<String, ClusterNode> nodes = new LinkedHashMap<>();
  private final Map<BlockId, byte[]> written = new HashMap<>();
  private final Random random = new Random(11);
  private ClusterAdmin admin;

  @AfterEach
  void closeAll() throws IOException {
    if (admin != null) {
      admin.close();
    }
    for (ClusterNode n : nodes.values()) {
      n.close();
    }
  }

  private void startFour() throws Exception {
    startFour("replicate-2");
  }

  private void startFour(String redundancy) throws Exception {
    Endpoint e1 = freeEndpoint();
    nodes.put("n1", ClusterNode.init(tmp.resolve("n1"), "n1", e1, redundancy, FormatOptions.DEFAULT, FAST));
    ClusterToken token = nodes.get("n1").token();
    for (String id : List.of("n2", "n3", "n4")) {
      nodes.put(id, ClusterNode.join(tmp.resolve(id), id, freeEndpoint(), e1, token, FAST));
    }
    admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30));
  }

  /** Writes {@code files} one-block files as a mount would: blocks on two nodes, then the commit. */
  private void writeFiles(int files) throws Exception {
    writeFiles(files, new Redundancy.Replicate(2));
  }

  /** As a mount of a cluster with {@code redundancy} writes: the block (copies or shards), then the commit. */
  private void writeFiles(int files, Redundancy redundancy) throws Exception {
    try (NodeDirectory dir = new NodeDirectory(admin::nodes, admin.token().credentials(), null, Duration.ofSeconds(5));
        BlockStore store = NodeStores.open(redundancy, dir.nodes())) {
      dir.refresh();
      for (int i = 0; i < files; i++) {
        byte[] data = new byte[1 + random.nextInt(100_000)];
        random.nextBytes(data);
        BlockId id = BlockId.hash(data, 0, data.length);
        StoredBlock sb = store.put(id, data, data.length);
        long ino = admin.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "f" + written.size(),
            FileType.REGULAR.bits() | 0644, 0, 0, true, 0, null, 1)).orThrow().ino();
        admin.meta().submit(new MetaOp.CommitBlocks(ino, data.length, -1, 2, 2, List.of(MetaOp.ChunkChange.stored(0,
            id, data.length, sb.storedLength(), sb.codec(), sb.placement())))).orThrow();
        written.put(id, data);
      }
    }
  }

  private Map<Integer, ClusterNode> byNumber() throws FsException {
    Map<Integer, ClusterNode> m = new HashMap<>();
    for (MetadataStore.Node n : admin.nodes()) {
      ClusterNode c = nodes.get(n.nodeId());
      if (c != null) {
        m.put(n.number(), c);
      }
    }
    return m;
  }

  private int number(String nodeId) throws FsException {
    return admin.nodes().stream().filter(n -> n.nodeId().equals(nodeId)).findFirst().orElseThrow().number();
  }

  /**
   * Whether every written block's record names two distinct nodes, none of {@code gone}, each of which holds
   * the block's bytes as written.
   */
  private boolean fullyReplicatedAvoiding(Set<Integer> gone) throws Exception {
    Map<Integer, ClusterNode> holders = byNumber();
    for (Map.Entry<BlockId, byte[]> e : written.entrySet()) {
      BlockRecord r = admin.meta().query(new MetaQuery.Block(e.getKey()));
      List<Integer> locs = r.placement().locations();
      if (locs.size() != 2 || new HashSet<>(locs).size() != 2) {
        return false;
      }
      for (int l : locs) {
        if (gone.contains(l) || holders.get(l) == null) {
          return false;
        }
        assertArrayEquals(e.getValue(), holders.get(l).blocks().get(e.getKey()), () -> "copy on node " + l);
      }
    }
    return true;
  }

  @Test
  void leave_voter_drainsEveryBlockToTheOthers_removesItFromTheGroup_andResumesAsDone() throws Exception {
    startFour();
    writeFiles(40);
    int n2 = number("n2");
    long before = admin.meta().query(new MetaQuery.BlocksOn(n2));
    assertTrue(before > 0, "rendezvous put some of 40 blocks on n2");
    Endpoint asked = nodes.get("n1").file().listen();
    NodeLeave leave = new NodeLeave(admin, asked, Duration.ofMillis(200), Duration.ofMillis(700));
    List<Long> progress = new ArrayList<>();

    assertEquals(NodeLeave.Outcome.REMOVED, leave.leave("n2", progress::add));

    assertEquals(before, progress.get(0));
    assertEquals(0L, progress.get(progress.size() - 1));
    assertTrue(fullyReplicatedAvoiding(Set.of(n2)));
    assertFalse(admin.voterIds(asked).contains(nodes.get("n2").file().listen().peerId()));
    // n4, the block-only node, takes the leaver's place among the voters (ClusterNode's promotion)
    String n4Peer = nodes.get("n4").file().listen().peerId();
    waitFor(LONG, () -> admin.voterIds(asked).size() == 3 && admin.voterIds(asked).contains(n4Peer));
    nodes.get("n2").removed().get(30, java.util.concurrent.TimeUnit.SECONDS);
    ClusterAdmin.Status st = admin.status(asked);
    assertEquals("removed", st.members().stream().filter(m -> m.nodeId().equals("n2")).findFirst().orElseThrow()
        .state());
    assertEquals(NodeLeave.Outcome.ALREADY_REMOVED, leave.leave("n2", progress::add));
    // the cluster still commits, with n1, n3 and n4 voting
    writeFiles(5);
    assertEquals(0L, admin.meta().query(new MetaQuery.BlocksOn(n2)));
  }

  /**
   * Ratis shuts a removed voter's replica down (and its store is closed) at the voter's first election after it
   * stopped hearing from the leader, seconds after the removal; the node looks at its own state only every
   * duty period. The node that looks only after that must still learn from the group that it is REMOVED (it
   * used to give up on its closed replica every period and never stopped: ClusterLeaveCliTest, 2 runs in 5).
   */
  @Test
  void leave_voterLooksOnlyAfterItsReplicaWasShutDown_learnsItIsRemovedFromTheGroup() throws Exception {
    ClusterNode.Options lookLate = new ClusterNode.Options(Duration.ofSeconds(1), Duration.ofSeconds(20), 1 << 20);
    Endpoint e1 = freeEndpoint();
    nodes.put("n1", ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-1", FormatOptions.DEFAULT, FAST));
    ClusterToken token = nodes.get("n1").token();
    long started = System.nanoTime();
    ClusterNode n2 = ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, token, lookLate);
    nodes.put("n2", n2);
    nodes.put("n3", ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, token, FAST));
    admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30));
    NodeLeave leave = new NodeLeave(admin, e1, Duration.ofMillis(200), Duration.ofMillis(300));

    assertEquals(NodeLeave.Outcome.REMOVED, leave.leave("n2", b -> {}));

    waitFor(Duration.ofSeconds(15), () -> {
      try {
        n2.raft().stateMachine().read(MetadataStore::nodes);
        return false;
      } catch (FsException closed) {
        return true; // Ratis closed the replica: it cannot tell n2 anything any more
      }
    });
    assertFalse(n2.removed().isDone());
    assertTrue(System.nanoTime() - started < lookLate.dutyPeriod().toNanos(),
        "n2 looked at its state before its replica was closed: this run proves nothing");
    n2.removed().get(lookLate.dutyPeriod().toSeconds() + 20, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void leave_theLeader_anotherLeadsAndFinishesTheDrain() throws Exception {
    startFour();
    writeFiles(30);
    ClusterNode leader = nodes.values().stream().filter(ClusterNode::isLeader).findFirst().orElseThrow();
    String leaderId = leader.file().nodeId();
    int number = number(leaderId);
    ClusterNode other = nodes.values().stream().filter(n -> n.raft() != null && n != leader).findFirst()
        .orElseThrow();
    admin.close();
    admin = ClusterAdmin.connect(leader.token(), List.of(other.file().listen()), Duration.ofSeconds(30));
    NodeLeave leave = new NodeLeave(admin, other.file().listen(), Duration.ofMillis(200), Duration.ofMillis(700));

    assertEquals(NodeLeave.Outcome.REMOVED, leave.leave(leaderId, b -> {}));

    leader.removed().get(30, java.util.concurrent.TimeUnit.SECONDS);
    assertTrue(fullyReplicatedAvoiding(Set.of(number)));
    assertEquals(2, admin.voterIds(other.file().listen()).size());
    assertFalse(admin.voterIds(other.file().listen()).contains(leader.file().listen().peerId()));
    nodes.remove(leaderId).close();
    writeFiles(3); // the two voters left elect a leader and commit
    waitFor(LONG, () -> fullyReplicatedAvoiding(Set.of(number)));
  }

  @Test
  void deadNode_afterTheTimeout_itsBlocksGetTwoCopiesOnTheOthers() throws Exception {
    startFour();
    writeFiles(40);
    int n4 = number("n4");
    assertTrue(admin.meta().query(new MetaQuery.BlocksOn(n4)) > 0);
    nodes.remove("n4").close(); // its block server is gone for good

    waitFor(LONG, () -> fullyReplicatedAvoiding(Set.of(n4)));
    ClusterNode leader = nodes.values().stream().filter(ClusterNode::isLeader).findFirst().orElseThrow();
    assertTrue(leader.replication().repaired() > 0 || nodes.values().stream()
        .anyMatch(n -> n.replication() != null && n.replication().repaired() > 0));
    assertEquals(Set.of(n4), leader.replication().deadNodes());
  }

  /**
   * Whether every written rs-2-1 block's record names 3 distinct nodes, none of {@code gone}, each holding
   * its shard under the shard's key intact, and the block decodes from them as written.
   */
  private boolean shardsWholeAvoiding(Set<Integer> gone, ErasureCodedNodeStore reader) throws Exception {
    Map<Integer, ClusterNode> holders = byNumber();
    for (Map.Entry<BlockId, byte[]> e : written.entrySet()) {
      BlockRecord r = admin.meta().query(new MetaQuery.Block(e.getKey()));
      List<Integer> locs = r.placement().locations();
      if (locs.size() != 3 || new HashSet<>(locs).size() != 3) {
        return false;
      }
      for (int i = 0; i < 3; i++) {
        int l = locs.get(i);
        if (l < 0 || gone.contains(l) || holders.get(l) == null) {
          return false;
        }
        BlockId key = ShardRecord.key(e.getKey(), i, 2, 1);
        ShardRecord.parse(key, holders.get(l).blocks().get(key)); // throws unless intact under its key
      }
      assertArrayEquals(e.getValue(), reader.get(e.getKey(), r.placement()));
    }
    return true;
  }

  @Test
  void rs21_deadNode_afterTheTimeout_itsShardsAreRebuiltOnTheFourthNode() throws Exception {
    startFour("rs-2-1");
    writeFiles(30, new Redundancy.ReedSolomon(2, 1));
    int n4 = number("n4");
    assertTrue(admin.meta().query(new MetaQuery.BlocksOn(n4)) > 0, "rendezvous put shards of 30 blocks on n4");
    nodes.remove("n4").close(); // its block server is gone for good

    try (NodeDirectory dir = new NodeDirectory(admin::nodes, admin.token().credentials(), null, Duration.ofSeconds(5));
        ErasureCodedNodeStore reader = (ErasureCodedNodeStore) NodeStores.open(new Redundancy.ReedSolomon(2, 1),
            dir.nodes())) {
      dir.refresh();
      waitFor(LONG, () -> shardsWholeAvoiding(Set.of(n4), reader));
    }
    ClusterNode leader = nodes.values().stream().filter(ClusterNode::isLeader).findFirst().orElseThrow();
    assertTrue(leader.replication().repaired() > 0);
    assertEquals(Set.of(n4), leader.replication().deadNodes());
  }

  @Test
  void leave_refused_unknownNode_tooFewLiveNodes_noVoterMajority() throws Exception {
    startFour();
    writeFiles(5);
    Endpoint asked = nodes.get("n1").file().listen();
    NodeLeave leave = new NodeLeave(admin, asked, Duration.ofMillis(200), Duration.ofMillis(500));
    FsException unknown = assertThrows(FsException.class, () -> leave.leave("n9", b -> {}));
    assertEquals(Errno.EINVAL, unknown.errno());
    assertTrue(unknown.getMessage().contains("no node 'n9'"), unknown.getMessage());

    nodes.remove("n3").close();
    // n1, n2 (voters) and n4 answer: n2 leaving would leave voters n1 and n3 with only n1 up
    FsException majority = assertThrows(FsException.class, () -> leave.leave("n2", b -> {}));
    assertTrue(majority.getMessage().contains("not a majority"), majority.getMessage());
    nodes.remove("n4").close();
    // with n3 and n4 down, n1 leaving would leave only n2 live
    FsException few = assertThrows(FsException.class, () -> leave.leave("n1", b -> {}));
    assertTrue(few.getMessage().contains("1 live node(s) would remain"), few.getMessage());
    for (MetadataStore.Node n : admin.nodes()) {
      assertEquals("ACTIVE", n.state(), n + " changed by a refused leave");
    }
  }
}
