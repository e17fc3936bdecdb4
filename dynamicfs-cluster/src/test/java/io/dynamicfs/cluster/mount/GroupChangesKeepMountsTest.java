package io.dynamicfs.cluster.mount;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static io.dynamicfs.cluster.node.ClusterTests.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.node.ClusterAdmin;
import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.node.ClusterToken;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.cluster.node.NodeLeave;
import io.dynamicfs.cluster.raft.GroupConfiguration;
import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.cluster.raft.RaftMetaServer;
import io.dynamicfs.cluster.raft.RaftNodeConfig;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.meta.MetaOp;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.retry.RetryPolicies;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Changes of the metadata group keep the mounts in it: a cluster mount connected to a one-node cluster
 * still receives the log after a second and a third voter join, and after a voter leaves and the block-only
 * node is promoted in its place. Each step is checked by a change made through another client, which only
 * the log can bring to the mount's replica. (Ratis 3.2.2's ADD mode, which joins and promotions used,
 * dropped every mount's replica from the group: `GroupConfiguration`.) And the leader drops a mount's replica
 * that stopped answering (a mount that died without leaving), never a live one.
 */
class GroupChangesKeepMountsTest {
  private static final ClusterNode.Options FAST = new ClusterNode.Options(Duration.ofSeconds(1), Duration.ofMillis(500),
      1 << 20);

  @TempDir Path tmp;
  private final List<ClusterNode> nodes = new ArrayList<>();
  private ClusterMounts mount;
  private Endpoint e1;
  private ClusterToken token;
  private int calls;

  @AfterEach
  void closeAll() throws Exception {
    if (mount != null) {
      mount.close();
    }
    for (ClusterNode n : nodes) {
      n.close();
    }
  }

  private ClusterNode keep(ClusterNode n) {
    nodes.add(n);
    return n;
  }

  /** Node n1 alone, and a mount of it that is fed the log. */
  private void oneNodeAndAMount() throws Exception {
    oneNodeAndAMount(FAST);
  }

  private void oneNodeAndAMount(ClusterNode.Options options) throws Exception {
    e1 = freeEndpoint();
    token = keep(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, options)).token();
    mount = ClusterMounts.connect(token, List.of(e1), "127.0.0.1", false, RaftMetaClient.DEFAULT_NO_LEADER_TIMEOUT);
    assertFed("at-start");
  }

  @Test
  void joinsALeaveAndAPromotion_keepFeedingTheMountsReplica() throws Exception {
    oneNodeAndAMount();

    keep(ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, token, FAST));
    assertFed("after-the-second-voter");
    keep(ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, token, FAST));
    ClusterNode n4 = keep(ClusterNode.join(tmp.resolve("n4"), "n4", freeEndpoint(), e1, token, FAST));
    assertNull(n4.raft(), "the fourth node holds blocks only");
    assertFed("after-the-third-voter");

    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30))) {
      new NodeLeave(admin, e1, Duration.ofMillis(200), Duration.ofMillis(200)).leave("n2", left -> { });
      waitFor(Duration.ofSeconds(60), () -> n4.raft() != null && n4.file().voter());
      try (RaftClient c = admin.newRaftClient()) {
        waitFor(Duration.ofSeconds(30),
            () -> GroupConfiguration.read(c, admin.group()).hasVoter(n4.file().listen().peerId()));
      }
    }
    assertFed("after-the-promotion");
  }

  @Test
  void aMountLeftOutOfTheGroup_putsItselfBack_andIsFedAgain() throws Exception {
    oneNodeAndAMount();
    String id = mount.replicaServer().id().toString();
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30));
        RaftClient c = admin.newRaftClient()) {
      // what an operator's tool, or a Ratis bug, might do
      GroupConfiguration.change(c, admin.group(), "dropping the mount",
          conf -> conf.withoutListener(id));
      assertFalse(GroupConfiguration.read(c, admin.group()).hasListener(id));
      mkdir(admin, "while-out");
      waitFor(ClusterMounts.MEMBERSHIP_CHECK.multipliedBy(3),
          () -> GroupConfiguration.read(c, admin.group()).hasListener(id));
    }
    waitFor(Duration.ofSeconds(15), () -> mount.replica().lookup(FileSystem.ROOT_INO, "while-out") > 0);
    assertFed("after");
  }

  @Test
  void aDeadMountsReplica_isDroppedByTheLeader_aLiveOneStays() throws Exception {
    oneNodeAndAMount(FAST.withDropListenerAfter(Duration.ofSeconds(3)));
    String live = mount.replicaServer().id().toString();
    // a mount's replica that joined and then ended without leaving (what kill -9 of the mount leaves behind)
    Endpoint at = freeEndpoint();
    RaftPeer dead = RaftPeer.newBuilder().setId("mount-that-died").setAddress(at.raftAddress())
        .setStartupRole(RaftProtos.RaftPeerRole.LISTENER).build();
    long died;
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30));
        RaftClient c = admin.newRaftClient()) {
      List<RaftPeer> members = new ArrayList<>(admin.group().getPeers());
      members.add(dead);
      try (RaftMetaServer replica = RaftMetaServer.start(RaftNodeConfig.builder(dead.getId().toString(), at.host(),
          at.port(), tmp.resolve("dead-replica")).ephemeral(true).tls(ClusterAdmin.tls(token)).build(),
          RaftGroup.valueOf(admin.group().getGroupId(), members), 1 << 20, ApplyListener.NONE)) {
        GroupConfiguration.change(c, admin.group(), "adding a mount's replica", conf -> conf.withListener(dead));
        died = System.nanoTime();
      }
      assertEquals(java.util.Set.of(live, dead.getId().toString()), mountIds(admin), "cluster status lists both");
      // the live mount is never left out meanwhile (it would put itself back, but only at its next check)
      waitFor(Duration.ofSeconds(30), () -> {
        GroupConfiguration now = GroupConfiguration.read(c, admin.group());
        assertTrue(now.hasListener(live), "the live mount's replica stays in the group");
        return !now.hasListener(dead.getId().toString());
      });
      // its last answer came at most a heartbeat before it closed
      assertTrue(System.nanoTime() - died >= Duration.ofSeconds(2).toNanos(),
          "dropped only after it was silent for the limit");
      long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
      while (System.nanoTime() < until) {
        assertTrue(GroupConfiguration.read(c, admin.group()).hasListener(live), "the live mount stays");
        Thread.sleep(100);
      }
      assertEquals(java.util.Set.of(live), mountIds(admin), "cluster status lists the live one");
    }
    assertFed("after");
  }

  @Test
  void aMemberThatDiesWhileJoining_doesNotStopLaterChanges() throws Exception {
    oneNodeAndAMount();
    RaftPeer gone = aJoinThatDies();
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30))) {
      // another mount joins: Ratis refuses its change until the first one ends
      long t0 = System.nanoTime();
      try (ClusterMounts second = ClusterMounts.connect(token, List.of(e1), "127.0.0.1", false,
          RaftMetaClient.DEFAULT_NO_LEADER_TIMEOUT)) {
        try (RaftClient c = admin.newRaftClient()) {
          GroupConfiguration now = GroupConfiguration.read(c, admin.group());
          assertTrue(now.hasListener(second.replicaServer().id().toString()), "the second mount joined");
          assertFalse(now.hasListener(gone.getId().toString()), "the dead one did not");
        }
        assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(120).toNanos(), "joined within two minutes");
      }
      try (RaftClient c = admin.newRaftClient()) {
        String first = mount.replicaServer().id().toString();
        // the leader may be stepping down (the failed change stopped its sending to the first mount)
        waitFor(Duration.ofSeconds(30), () -> {
          try {
            return GroupConfiguration.read(c, admin.group()).hasListener(first);
          } catch (IOException electing) {
            return false;
          }
        });
      }
    }
    assertFed("after");
  }

  @Test
  void aMemberThatDiesWhileJoiningAGroupWithoutMounts_doesNotStopLaterChanges() throws Exception {
    // Ratis 3.2.2 never gave this change up by itself (one voter, no listener): the leader's step-down ends it
    e1 = freeEndpoint();
    token = keep(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, FAST)).token();
    RaftPeer gone = aJoinThatDies();
    long t0 = System.nanoTime();
    mount = ClusterMounts.connect(token, List.of(e1), "127.0.0.1", false, RaftMetaClient.DEFAULT_NO_LEADER_TIMEOUT);
    assertTrue(System.nanoTime() - t0 < Duration.ofSeconds(120).toNanos(), "joined within two minutes");
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30));
        RaftClient c = admin.newRaftClient()) {
      assertFalse(GroupConfiguration.read(c, admin.group()).hasListener(gone.getId().toString()));
    }
    assertFed("after");
  }

  /**
   * A mount killed while the leader brings its replica up to date: its one request to join (then nothing, no
   * retry) with nothing answering at its address. Returns its peer.
   */
  private RaftPeer aJoinThatDies() throws Exception {
    RaftPeer gone = RaftPeer.newBuilder().setId("mount-killed-joining").setAddress(freeEndpoint().raftAddress())
        .setStartupRole(RaftProtos.RaftPeerRole.LISTENER).build();
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30));
        RaftClient once = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(admin.group())
            .setParameters(ClusterAdmin.tls(token).parameters()).setRetryPolicy(RetryPolicies.noRetry()).build()) {
      GroupConfiguration now = GroupConfiguration.read(once, admin.group());
      GroupConfiguration next = now.withListener(gone);
      assertThrows(IOException.class, () -> once.admin().setConfiguration(SetConfigurationRequest.Arguments
          .newBuilder().setServersInCurrentConf(now.voters()).setListenersInCurrentConf(now.listeners())
          .setServersInNewConf(next.voters()).setListenersInNewConf(next.listeners())
          .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET).build()), "its change does not finish");
    }
    return gone;
  }

  private java.util.Set<String> mountIds(ClusterAdmin admin) throws Exception {
    return admin.status(e1).mounts().stream().map(ClusterAdmin.MountReplica::id)
        .collect(java.util.stream.Collectors.toSet());
  }

  /** A directory made through another client reaches the mount's replica within 15 s. */
  private void assertFed(String name) throws Exception {
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(e1), Duration.ofSeconds(30))) {
      mkdir(admin, name);
    }
    waitFor(Duration.ofSeconds(15), () -> mount.replica().lookup(FileSystem.ROOT_INO, name) > 0);
  }

  /** Makes directory {@code name} in the root through {@code admin}'s client, not the mount's. */
  private void mkdir(ClusterAdmin admin, String name) throws Exception {
    admin.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, name, FileType.DIRECTORY.bits() | 0755, 0, 0,
        true, 0, null, ++calls)).orThrow();
  }
}
