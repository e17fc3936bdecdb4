package io.dynamicfs.cluster.raft;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.grpc.server.GrpcLogAppender;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
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
 *
 * <p>A follower being added (a new voter, or a mount's replica joining as a listener) is not yet in the
 * group's configuration while the leader brings it up to date, and Ratis' restart looks the follower up in
 * that configuration: an appender that failed then was dropped for good, and the new member never heard
 * from the leader again. We saw a mount wait its full minute for entries that never came. Such an appender
 * is restarted once the configuration names its follower, unless Ratis stopped it meanwhile (the change was
 * abandoned) or two minutes pass.
 */
public class RestartingLogAppender extends GrpcLogAppender {
  private static final Logger log = LoggerFactory.getLogger(RestartingLogAppender.class);
  /** Between a failure and the restart, so that a failure that recurs at once does not spin a core. */
  private static final long RESTART_PAUSE_MS = 100;
  /** How long a failed appender of a follower not yet in the configuration waits for it to be. */
  private static final long JOIN_WAIT_MS = TimeUnit.MINUTES.toMillis(2);

  private volatile boolean stopped;

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
    RaftServer.Division server = getServer();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(JOIN_WAIT_MS);
    boolean told = false;
    while (true) {
      try {
        TimeUnit.MILLISECONDS.sleep(RESTART_PAUSE_MS); // a failure that recurs at once must not spin a core
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
      if (stopped || !server.getInfo().isAlive() || !server.getInfo().isLeader() || !getRaftLog().isOpened()) {
        return;
      }
      if (inConfiguration(server)) {
        log.atInfo().addKeyValue("follower", getFollowerId().toString()).log("raft log appender restarted");
        getLeaderState().restart(this);
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        log.atWarn().addKeyValue("follower", getFollowerId().toString()).addKeyValue("waited_ms", JOIN_WAIT_MS)
            .log("raft log appender not restarted: its follower never joined the configuration");
        return;
      }
      if (!told) {
        told = true;
        log.atInfo().addKeyValue("follower", getFollowerId().toString())
            .log("raft log appender waits for its follower to join the configuration before restarting");
      }
    }
  }

  private boolean inConfiguration(RaftServer.Division server) {
    return server.getRaftConf().getPeer(getFollowerId(), RaftPeerRole.FOLLOWER, RaftPeerRole.LISTENER) != null;
  }

  @Override
  public java.util.concurrent.CompletableFuture<org.apache.ratis.util.LifeCycle.State> stopAsync() {
    stopped = true; // Ratis dropped this appender (a step-down, a member removed, a change abandoned)
    return super.stopAsync();
  }
}
