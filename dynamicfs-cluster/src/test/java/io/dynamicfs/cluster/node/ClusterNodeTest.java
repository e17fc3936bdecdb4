package io.dynamicfs.cluster.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static io.dynamicfs.cluster.node.ClusterTests.waitFor;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Nodes made, joined and restarted in one JVM over real Ratis and block servers on 127.0.0.1: the first
 * three become voters, the fourth holds blocks only; bad input (another cluster's token, a node id in use,
 * a single-node DATA, a DATA that is already a node) is refused with a clear error and changes nothing.
 */
class ClusterNodeTest {
  private static final ClusterNode.Options FAST = new ClusterNode.Options(Duration.ofSeconds(1), Duration.ofMillis(500),
      1 << 20);

  @TempDir Path tmp;
  private final List<ClusterNode> nodes = new ArrayList<>();

  @AfterEach
  void closeAll() throws IOException {
    for (ClusterNode n : nodes) {
      n.close();
    }
  }

  private ClusterNode keep(ClusterNode n) {
    nodes.add(n);
    return n;
  }

  @Test
  void initJoinRestart_threeVotersThenABlockNode_membershipReplicated() throws Exception {
    Endpoint e1 = freeEndpoint();
    ClusterNode n1 = keep(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, FAST));
    ClusterToken token = ClusterToken.read(NodeFile.tokenPath(tmp.resolve("n1")));
    assertEquals(n1.token(), token);
    ClusterNode n2 = keep(ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, token, FAST));
    ClusterNode n3 = keep(ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, token, FAST));
    ClusterNode n4 = keep(ClusterNode.join(tmp.resolve("n4"), "n4", freeEndpoint(), e1, token, FAST));
    assertTrue(n2.file().voter() && n3.file().voter(), "the first three nodes are voters");
    assertEquals(false, n4.file().voter(), "the fourth holds blocks only");
    assertEquals(null, n4.raft());

    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(n3.file().listen()), Duration.ofSeconds(30))) {
      assertEquals(3, admin.group().getPeers().size());
      List<String> ids = admin.nodes().stream().map(MetadataStore.Node::nodeId).toList();
      assertEquals(List.of("n1", "n2", "n3", "n4"), ids);
      long ino = admin.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "d",
          FileType.DIRECTORY.bits() | 0755, 0, 0, true, 0, null, 1)).orThrow().ino();
      ClusterAdmin.Status st = admin.status(n2.file().listen());
      assertNotNull(st.leader(), st.toString());
      assertEquals(4, st.members().size());
      assertTrue(st.members().stream().allMatch(m -> m.health().equals("healthy") || m.health().equals("lagging")),
          st.toString());
      assertEquals(1, st.members().stream().filter(m -> m.role().equals("leader")).count(), st.toString());
      assertEquals("blocks", st.members().get(3).role());
      // every voter's replica has the directory (replication may lag a moment)
      for (ClusterNode n : List.of(n1, n2, n3)) {
        waitFor(Duration.ofSeconds(30), () -> n.raft().stateMachine().read(s -> s.lookup(FileSystem.ROOT_INO, "d")) == ino);
      }
    }

    // the leader stops; the others elect a new one; it restarts and catches up
    ClusterNode leader = nodes.stream().filter(ClusterNode::isLeader).findFirst().orElseThrow();
    Path leaderData = leader.data();
    leader.close();
    nodes.remove(leader);
    ClusterNode other = nodes.stream().filter(n -> n.raft() != null).findFirst().orElseThrow();
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(other.file().listen()), Duration.ofSeconds(30))) {
      admin.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "after", FileType.DIRECTORY.bits() | 0755,
          0, 0, true, 0, null, 2)).orThrow();
    }
    ClusterNode back = keep(ClusterNode.restart(leaderData, FAST));
    waitFor(Duration.ofSeconds(30), () -> back.raft().stateMachine().read(s -> s.lookup(FileSystem.ROOT_INO, "after")) > 0);
  }

  @Test
  void aVoterLeaves_theBlockOnlyNodeBecomesAVoter_andTheGroupSurvivesLosingAnotherOne() throws Exception {
    Endpoint e1 = freeEndpoint();
    ClusterNode n1 = keep(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, FAST));
    ClusterToken token = n1.token();
    ClusterNode n2 = keep(ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, token, FAST));
    ClusterNode n3 = keep(ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, token, FAST));
    ClusterNode n4 = keep(ClusterNode.join(tmp.resolve("n4"), "n4", freeEndpoint(), e1, token, FAST));
    ClusterNode n5 = keep(ClusterNode.join(tmp.resolve("n5"), "n5", freeEndpoint(), e1, token, FAST));
    assertEquals(null, n4.raft());
    assertEquals(null, n5.raft());
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30))) {
      admin.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "before", FileType.DIRECTORY.bits() | 0755,
          0, 0, true, 0, null, 1)).orThrow();
      new NodeLeave(admin, e1, Duration.ofMillis(200), Duration.ofMillis(200)).leave("n2", left -> { });
    }
    // n4 (the lowest-numbered block-only node) becomes the third voter; n5 stays block-only
    waitFor(Duration.ofSeconds(60), () -> n4.raft() != null && n4.file().voter());
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30))) {
      waitFor(Duration.ofSeconds(30), () -> admin.voterIds(e1).size() == 3
          && admin.voterIds(e1).contains(n4.file().listen().peerId()));
    }
    waitFor(Duration.ofSeconds(30),
        () -> n4.raft().stateMachine().read(st -> st.lookup(FileSystem.ROOT_INO, "before")) > 0);
    Thread.sleep(3 * FAST.dutyPeriod().toMillis());
    assertEquals(null, n5.raft(), "one promotion for one voter gone");

    // losing another voter still leaves a majority (2 of 3), which n4 is part of
    n3.close();
    nodes.remove(n3);
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(n4.file().listen(), e1), Duration.ofSeconds(30))) {
      admin.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "after", FileType.DIRECTORY.bits() | 0755,
          0, 0, true, 0, null, 2)).orThrow();
    }
    // the promotion survives a restart: the node file says voter
    Path n4Data = n4.data();
    n4.close();
    nodes.remove(n4);
    ClusterNode back = keep(ClusterNode.restart(n4Data, FAST));
    assertTrue(back.file().voter());
    waitFor(Duration.ofSeconds(30),
        () -> back.raft().stateMachine().read(st -> st.lookup(FileSystem.ROOT_INO, "after")) > 0);
  }

  @Test
  void aVoterDeadTooLong_isReplacedByTheBlockOnlyNode_andStopsWhenItComesBack() throws Exception {
    ClusterNode.Options opts = FAST.withDeadNodeAfter(Duration.ofSeconds(1)).withReplaceVoterAfter(Duration.ofSeconds(2));
    Endpoint e1 = freeEndpoint();
    ClusterNode n1 = keep(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, opts));
    ClusterToken token = n1.token();
    keep(ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, token, opts));
    keep(ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, token, opts));
    ClusterNode n4 = keep(ClusterNode.join(tmp.resolve("n4"), "n4", freeEndpoint(), e1, token, opts));
    assertEquals(null, n4.raft());
    waitFor(Duration.ofSeconds(30), () -> nodes.stream().anyMatch(ClusterNode::isLeader));
    ClusterNode victim = nodes.stream().filter(n -> n.raft() != null && !n.isLeader()).findFirst().orElseThrow();
    String victimId = victim.file().nodeId();
    Path victimData = victim.data();
    List<Endpoint> others = nodes.stream().filter(n -> n != victim).map(n -> n.file().listen()).toList();
    victim.close(); // dies for good, without cluster leave
    nodes.remove(victim);

    waitFor(Duration.ofSeconds(90), () -> n4.raft() != null && n4.file().voter());
    try (ClusterAdmin admin = ClusterAdmin.connect(token, others, Duration.ofSeconds(30))) {
      waitFor(Duration.ofSeconds(30), () -> {
        java.util.Set<String> v = admin.voterIds(n4.file().listen());
        return v.size() == 3 && v.contains(n4.file().listen().peerId())
            && !v.contains(victim.file().listen().peerId());
      });
      waitFor(Duration.ofSeconds(60), () -> admin.nodes().stream()
          .anyMatch(n -> n.nodeId().equals(victimId) && n.state().equals("REMOVED")));
      admin.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "after", FileType.DIRECTORY.bits() | 0755,
          0, 0, true, 0, null, 1)).orThrow();
    }
    // the new voter has the metadata, and the group commits without the dead one
    waitFor(Duration.ofSeconds(30),
        () -> n4.raft().stateMachine().read(st -> st.lookup(FileSystem.ROOT_INO, "after")) > 0);

    // the dead node comes back: it finds itself removed and stops
    ClusterNode back = keep(ClusterNode.restart(victimData, opts));
    back.removed().get(60, java.util.concurrent.TimeUnit.SECONDS);
  }

  @Test
  void badInput_isRefusedClearly_andChangesNothing() throws Exception {
    Endpoint e1 = freeEndpoint();
    ClusterNode n1 = keep(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, FAST));
    // a DATA that already is a node
    FsException again = assertThrows(FsException.class,
        () -> ClusterNode.init(tmp.resolve("n1"), "n1", freeEndpoint(), "replicate-2", FormatOptions.DEFAULT, FAST));
    assertTrue(again.getMessage().contains("already node 'n1'"), again.getMessage());
    // a node id in use
    FsException dup = assertThrows(FsException.class,
        () -> ClusterNode.join(tmp.resolve("x"), "n1", freeEndpoint(), e1, n1.token(), FAST));
    assertEquals(Errno.EEXIST, dup.errno());
    // another cluster's token
    FsException foreign = assertThrows(FsException.class,
        () -> ClusterNode.join(tmp.resolve("y"), "n9", freeEndpoint(), e1, ClusterToken.generate(), FAST));
    assertTrue(foreign.getMessage().contains("not a node of cluster"), foreign.getMessage());
    // an unreachable peer
    FsException nobody = assertThrows(FsException.class,
        () -> ClusterNode.join(tmp.resolve("z"), "n8", freeEndpoint(), freeEndpoint(), n1.token(), FAST));
    assertEquals(Errno.EIO, nobody.errno(), nobody.getMessage());
    // a single-node DATA
    Path single = Files.createDirectories(tmp.resolve("single"));
    Files.writeString(single.resolve("dynamicfs.properties"), "format=1\n");
    FsException s = assertThrows(FsException.class,
        () -> ClusterNode.join(single, "n7", freeEndpoint(), e1, n1.token(), FAST));
    assertTrue(s.getMessage().contains("single-node"), s.getMessage());
    // a bad redundancy
    assertThrows(IOException.class,
        () -> ClusterNode.init(tmp.resolve("r"), "r", freeEndpoint(), "mirror-7", FormatOptions.DEFAULT, FAST));
    try (ClusterAdmin admin = ClusterAdmin.connect(n1.token(), List.of(e1), Duration.ofSeconds(30))) {
      assertEquals(List.of("n1"), admin.nodes().stream().map(MetadataStore.Node::nodeId).toList());
    }
  }
}
