package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;

/**
 * The metadata group's configuration, its voters and its listeners (cluster mounts' replicas), and the one
 * way this project changes it: read it from the leader, work out the new one, and have the leader replace it
 * only if it is still the one read ({@code COMPARE_AND_SET}), again after a concurrent change or a leader
 * change.
 *
 * <p>Never Ratis' {@code ADD} mode: in 3.2.2 the leader takes the new configuration's listeners from the
 * request alone ({@code LeaderStateImpl.startSetConfiguration}), so adding a voter that way dropped every
 * mount's replica from the group; those mounts stopped receiving the log, could not renew their sessions,
 * and failed every operation once the cluster ended them. Nor {@code SET_UNCONDITIONALLY}: a mount that
 * joins between the read and the set would be dropped the same way.
 */
public record GroupConfiguration(List<RaftPeer> voters, List<RaftPeer> listeners) {
  private static final int ATTEMPTS = 10;

  public GroupConfiguration {
    voters = List.copyOf(voters);
    listeners = List.copyOf(listeners);
  }

  /** Whether {@code id} is a voter. */
  public boolean hasVoter(String id) {
    return voters.stream().anyMatch(p -> p.getId().toString().equals(id));
  }

  /** Whether {@code id} is a listener. */
  public boolean hasListener(String id) {
    return listeners.stream().anyMatch(p -> p.getId().toString().equals(id));
  }

  /** This configuration with {@code voter} among the voters (replacing one of the same id). */
  public GroupConfiguration withVoter(RaftPeer voter) {
    List<RaftPeer> v = without(voters, voter.getId().toString());
    v.add(voter);
    return new GroupConfiguration(v, listeners);
  }

  public GroupConfiguration withoutVoter(String id) {
    return new GroupConfiguration(without(voters, id), listeners);
  }

  /** This configuration with {@code listener} among the listeners (replacing one of the same id). */
  public GroupConfiguration withListener(RaftPeer listener) {
    List<RaftPeer> l = without(listeners, listener.getId().toString());
    l.add(listener);
    return new GroupConfiguration(voters, l);
  }

  public GroupConfiguration withoutListener(String id) {
    return new GroupConfiguration(voters, without(listeners, id));
  }

  private static List<RaftPeer> without(List<RaftPeer> peers, String id) {
    List<RaftPeer> out = new ArrayList<>(peers);
    out.removeIf(p -> p.getId().toString().equals(id));
    return out;
  }

  /**
   * The configuration as the leader has it: asks the members of {@code group} (no listener) until one
   * answers as the leader, or names a leader that is then asked. Only the leader's is the one a
   * compare-and-set is checked against; a member's may be stale, and a node being added answers with the
   * group it was started with.
   */
  public static GroupConfiguration read(RaftClient c, RaftGroup group) throws IOException {
    IOException last = null;
    for (RaftPeer member : group.getPeers()) {
      if (member.getStartupRole() == RaftProtos.RaftPeerRole.LISTENER) {
        continue;
      }
      try {
        GroupInfoReply info = c.getGroupManagementApi(member.getId()).info(group.getGroupId());
        RaftProtos.RoleInfoProto role = info.getRoleInfoProto();
        if (role.getRole() == RaftProtos.RaftPeerRole.LEADER) {
          return of(info);
        }
        String leader = role.hasFollowerInfo() ? role.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8()
            : "";
        if (!leader.isEmpty() && !leader.equals(member.getId().toString())) {
          GroupInfoReply led = c.getGroupManagementApi(RaftPeerId.valueOf(leader)).info(group.getGroupId());
          if (led.getRoleInfoProto().getRole() == RaftProtos.RaftPeerRole.LEADER) {
            return of(led);
          }
        }
        last = new IOException(member.getId() + " does not lead and names no leader that does");
      } catch (IOException e) {
        last = e;
      } catch (RuntimeException e) { // gRPC reports a member that is down this way
        last = new IOException(member.getId() + " does not answer: " + e.getMessage(), e);
      }
    }
    throw last != null ? last : new IOException("no member of the group to ask");
  }

  /** The configuration {@code info}'s member has (from its group's startup roles when it names none). */
  public static GroupConfiguration of(GroupInfoReply info) {
    List<RaftPeer> voters = new ArrayList<>();
    List<RaftPeer> listeners = new ArrayList<>();
    var conf = info.getConf();
    if (conf.isPresent()) {
      conf.get().getPeersList().forEach(p -> voters.add(peer(p)));
      conf.get().getListenersList().forEach(p -> listeners.add(peer(p)));
    } else {
      for (RaftPeer p : info.getGroup().getPeers()) {
        (p.getStartupRole() == RaftProtos.RaftPeerRole.LISTENER ? listeners : voters).add(p);
      }
    }
    return new GroupConfiguration(voters, listeners);
  }

  private static RaftPeer peer(RaftProtos.RaftPeerProto p) {
    return RaftPeer.newBuilder().setId(p.getId().toStringUtf8()).setAddress(p.getAddress())
        .setStartupRole(p.getStartupRole()).build();
  }

  /**
   * Replaces the group's configuration by {@code change} of the current one, compare-and-set; {@code change}
   * answers null when there is nothing to do. {@code what} names the change in the error (e.g. "adding
   * 127.0.0.1:7400 to the metadata group").
   */
  public static void change(RaftClient c, RaftGroup group, String what, UnaryOperator<GroupConfiguration> change)
      throws FsException {
    Object last = null;
    try {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (attempt > 0) {
          Thread.sleep(Math.min(3000L, 200L * attempt)); // e.g. an election, or another change in progress
        }
        try {
          GroupConfiguration now = read(c, group);
          GroupConfiguration next = change.apply(now);
          if (next == null) {
            return;
          }
          var reply = c.admin().setConfiguration(SetConfigurationRequest.Arguments.newBuilder()
              .setServersInCurrentConf(now.voters).setListenersInCurrentConf(now.listeners)
              .setServersInNewConf(next.voters).setListenersInNewConf(next.listeners)
              .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET).build());
          if (reply.isSuccess()) {
            return;
          }
          last = reply.getException();
        } catch (IOException | RuntimeException e) {
          last = e.getMessage();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FsException.of(Errno.EIO, "interrupted while %s", what);
    }
    throw FsException.of(Errno.EIO, "%s failed: %s", what, last);
  }
}
