package io.dynamicfs.cluster.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.meta.MetaOp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.ratis.proto.RaftProtos.AppendEntriesRequestProto;
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

  private static MetaOp mkdir(String name, long t) {
    return new MetaOp.CreateNode(FileSystem.ROOT_INO, name, FileType.DIRECTORY.bits() | 0755, 0, 0, true, 0, null,
        1_000_000L + t);
  }
}
