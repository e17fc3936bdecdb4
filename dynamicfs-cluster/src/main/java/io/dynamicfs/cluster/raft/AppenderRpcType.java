package io.dynamicfs.cluster.raft;

import org.apache.ratis.conf.Parameters;
import org.apache.ratis.grpc.GrpcFactory;
import org.apache.ratis.rpc.RpcFactory;
import org.apache.ratis.rpc.RpcType;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.leader.FollowerInfo;
import org.apache.ratis.server.leader.LeaderState;
import org.apache.ratis.server.leader.LogAppender;

/**
 * Ratis' gRPC transport with {@link RestartingLogAppender} as the leader's log appender. Ratis names a
 * user-defined RPC type by its class name in the properties and builds it with a public no-argument
 * constructor; every metadata replica runs on this type ({@link RaftNodeConfig#toProperties}).
 */
public class AppenderRpcType implements RpcType {
  @Override
  public String name() {
    return getClass().getName();
  }

  @Override
  public RpcFactory newFactory(Parameters parameters) {
    return new GrpcFactory(parameters) {
      @Override
      public LogAppender newLogAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
        return newAppender(server, state, follower);
      }
    };
  }

  /** The appender the leader runs for {@code follower}. */
  protected LogAppender newAppender(RaftServer.Division server, LeaderState state, FollowerInfo follower) {
    return new RestartingLogAppender(server, state, follower);
  }
}
