package io.dynamicfs.cluster.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.meta.MetaOp;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;
import org.apache.ratis.server.raftlog.RaftLogIOException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The leader's log appender for one follower fails, as Ratis 3.2.2's does when a log purge races its read of
 * the follower's next entry; the follower must still receive everything committed after (real servers over
 * gRPC on loopback, the failure injected into the production appender).
 */
class RestartingLogAppenderTest {
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final AtomicInteger failuresLeft = new AtomicInteger();
  private static volatile String failingFollower = "";

  @TempDir
  Path tmp;

  /** The production transport whose appender to {@link #failingFollower} fails its next data requests. */
  public static final class Failing extends AppenderRpcType {
    @Override
    protected LogAppender newAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
      return new RestartingLogAppender(server, state, follower) {
        @Override
        public AppendEntriesRequestProto newAppendEntriesRequest(long callId, boolean heartbeat)
            throws RaftLogIOException {
          if (!heartbeat && getFollowerId().toString().equals(failingFollower)
              && failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            throw new RaftLogIOException("injected: Log entry not found: index = " + getFollower().getNextIndex());
          }
          return super.newAppendEntriesRequest(callId, heartbeat);
        }
      };
    }
  }

  @Test
  void appenderFailsRepeatedly_followerStillReceivesEveryLaterEntry() throws Exception {
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3, b -> b.rpcType(Failing.class));
        RaftMetaClient client = new RaftMetaClient(cluster.group())) {
      client.submit(RandomOps.root()).orThrow();
      client.submit(mkdir("before", 0)).orThrow();
      int leader = cluster.awaitLeader(WAIT);
      int follower = (leader + 1) % 3;
      cluster.awaitConverged(WAIT);

      failingFollower = cluster.server(follower).id().toString();
      failuresLeft.set(3);
      for (int i = 1; i <= 20; i++) {
        client.submit(mkdir("d" + i, i)).orThrow();
      }
      long applied = cluster.awaitConverged(WAIT);
      assertEquals(0, failuresLeft.get(), "every injected failure was hit");
      assertEquals(applied, cluster.server(follower).stateMachine().appliedIndex());
      cluster.assertReplicasIdentical();
    } finally {
      failingFollower = "";
      failuresLeft.set(0);
    }
  }

  /**
   * A mount's replica joins as a listener, and the leader's appender to it fails while the change is still
   * in progress (the listener not yet in the configuration): the appender must be restarted once it is, and
   * the listener gets everything.
   */
  @Test
  void appenderOfAListenerBeingAdded_failsDuringTheChange_listenerStillCatchesUp() throws Exception {
    try (TestCluster cluster = TestCluster.start(tmp.resolve("c"), 3, b -> b.rpcType(Failing.class));
        RaftMetaClient client = new RaftMetaClient(cluster.group())) {
      client.submit(RandomOps.root()).orThrow();
      for (int i = 1; i <= 10; i++) {
        client.submit(mkdir("before" + i, i)).orThrow();
      }
      cluster.awaitConverged(WAIT);
      int port = TestCluster.freePort();
      String id = "m-listener_" + port;
      RaftPeer self = RaftPeer.newBuilder().setId(id).setAddress("127.0.0.1:" + port)
          .setStartupRole(RaftPeerRole.LISTENER).build();
      List<RaftPeer> members = new ArrayList<>(cluster.group().getPeers());
      members.add(self);
      RaftGroup withSelf = RaftGroup.valueOf(cluster.group().getGroupId(), members);
      failingFollower = id;
      failuresLeft.set(1);
      RaftNodeConfig cfg = RaftNodeConfig.builder(id, "127.0.0.1", port, tmp.resolve("l")).threads(2).ephemeral(true)
          .build();
      try (RaftMetaServer listener = RaftMetaServer.start(cfg, withSelf, TestCluster.BLOCK_SIZE,
          new TestCluster.Listener()); RaftClient admin = RaftClient.newBuilder().setRaftGroup(cluster.group())
              .setProperties(new RaftProperties()).build()) {
        var reply = admin.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
            .setServersInNewConf(new ArrayList<>(cluster.group().getPeers())).setListenersInNewConf(List.of(self)).build());
        assertTrue(reply.isSuccess(), "listener added: " + reply);
        for (int i = 1; i <= 10; i++) {
          client.submit(mkdir("after" + i, 100 + i)).orThrow();
        }
        long applied = cluster.awaitConverged(WAIT);
        assertEquals(0, failuresLeft.get(), "the injected failure was hit");
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (listener.stateMachine().appliedIndex() < applied && System.nanoTime() < deadline) {
          Thread.sleep(100);
        }
        assertEquals(applied, listener.stateMachine().appliedIndex(), "the listener caught up");
      }
    } finally {
      failingFollower = "";
      failuresLeft.set(0);
    }
  }

  private static MetaOp mkdir(String name, long t) {
    return new MetaOp.CreateNode(FileSystem.ROOT_INO, name, FileType.DIRECTORY.bits() | 0755, 0, 0, true, 0, null,
        1_000_000L + t);
  }
}
