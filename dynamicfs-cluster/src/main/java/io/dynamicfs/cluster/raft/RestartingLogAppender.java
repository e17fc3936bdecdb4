package io.dynamicfs.cluster.raft;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ratis' gRPC log appender (the leader's sender to one follower) that is replaced by a fresh one when it
 * fails while this server still leads.
 *
 * <p>In Ratis 3.2.2 an appender that throws is never restarted: its daemon enters EXCEPTION, and the restart
 * it then asks for checks {@code isRunning()}, which that very state makes false. The follower then hears
 * nothing until the next leader election, which pre-vote prevents while the other followers are content. We
 * saw this in CI: a follower that came back after the leader had purged the entries it lacked, where the
 * appender's check "does the follower need a snapshot" ran just before a purge and its read of the next
 * entry just after ({@code Log entry not found}). The fresh appender starts with the follower's next index as
 * it stands and so sends the snapshot. Upstream fixed both halves (RATIS-2499 restarts the appender,
 * RATIS-2487 sends a snapshot when the previous entry is gone) after 3.2.2; drop this class once a release
 * with them is in use.
 */
public class RestartingLogAppender extends GrpcLogAppender {
  private static final Logger log = LoggerFactory.getLogger(RestartingLogAppender.class);
  /** Between a failure and the restart, so that a failure that recurs at once does not spin a core. */
  private static final long RESTART_PAUSE_MS = 100;

  public RestartingLogAppender(RaftServer.Division server, LeaderState leaderState, FollowerInfo follower) {
    super(server, leaderState, follower);
  }

  @Override
  public void run() throws IOException {
    try {
      super.run();
    } catch (InterruptedIOException e) {
      throw e; // stopped: this server stepped down, or the follower left the group
    } catch (IOException | RuntimeException e) {
      restartIfLeading(e);
      throw e;
    }
  }

  private void restartIfLeading(Exception cause) {
    log.atWarn().addKeyValue("follower", getFollowerId().toString()).addKeyValue("error", String.valueOf(cause))
        .log("raft log appender failed");
    try {
      TimeUnit.MILLISECONDS.sleep(RESTART_PAUSE_MS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    RaftServer.Division server = getServer();
    if (server.getInfo().isAlive() && server.getInfo().isLeader() && getRaftLog().isOpened()) {
      log.atInfo().addKeyValue("follower", getFollowerId().toString()).log("raft log appender restarted");
      getLeaderState().restart(this);
    }
  }
}
