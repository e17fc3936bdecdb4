package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.raft.GroupConfiguration;
import io.dynamicfs.cluster.raft.MetaQuery;
import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.cluster.raft.RaftTls;
import io.dynamicfs.cluster.transport.BlockClientGroup;
import io.dynamicfs.cluster.transport.BlockTls;
import io.dynamicfs.cluster.transport.NodeStats;
import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.GroupInfoReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.util.TimeDuration;

/**
 * A handle on a running cluster from any machine that has its token: finds the metadata group through
 * one {@code --peer}, then talks to all of it (a {@link RaftMetaClient} for operations and queries), adds
 * voters, and gathers {@code cluster status}. A peer that does not answer, or answers for another
 * cluster, is a clear error.
 */
public final class ClusterAdmin implements Closeable {
  private final ClusterToken token;
  private final RaftGroup group;
  private final RaftMetaClient meta;

  private ClusterAdmin(ClusterToken token, RaftGroup group, Duration noLeaderTimeout) {
    this.token = token;
    this.group = group;
    this.meta = new RaftMetaClient(group, noLeaderTimeout, tls(token));
  }

  /** The TLS identity every Ratis channel of {@code token}'s cluster uses ({@link RaftTls}). */
  public static RaftTls tls(ClusterToken token) {
    return RaftTls.forSecret(token.secret());
  }

  /**
   * TLS for the block ports under the same identity as {@link #tls}; {@code required}: a server built with it
   * refuses plain connections.
   */
  public static BlockTls blockTls(ClusterToken token, boolean required) {
    RaftTls t = tls(token);
    return BlockTls.of(t.keyManager(), t.trustManager(), required);
  }

  /**
   * A bare Ratis client of this cluster's group (admin and group-management calls), under its TLS identity.
   * An admin call is retried every {@link #ADMIN_RETRY_SLEEP} for about a minute: Ratis' default retries at
   * once, forever, and a configuration change answers {@code ReconfigurationInProgressException} at once
   * while another one waits for a joining member to catch up (a mount downloading a checkpoint), so a change
   * made meanwhile sent ~1,600 requests a second, each logged by the leader with its stack trace.
   */
  public RaftClient newRaftClient() {
    return RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(group)
        .setParameters(tls(token).parameters())
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(ADMIN_RETRIES, ADMIN_RETRY_SLEEP)).build();
  }

  private static final TimeDuration ADMIN_RETRY_SLEEP = TimeDuration.valueOf(200, java.util.concurrent.TimeUnit.MILLISECONDS);
  private static final int ADMIN_RETRIES = 300;

  /** The cluster's Raft group id: the cluster id itself. */
  public static RaftGroupId groupId(ClusterToken token) {
    return RaftGroupId.valueOf(token.clusterId());
  }

  static RaftPeer peer(Endpoint e) {
    return RaftPeer.newBuilder().setId(e.peerId()).setAddress(e.raftAddress()).build();
  }

  /** Connects through the first of {@code peers} that answers for this cluster. */
  public static ClusterAdmin connect(ClusterToken token, List<Endpoint> peers, Duration noLeaderTimeout)
      throws FsException {
    FsException last = null;
    for (Endpoint p : peers) {
      try {
        RaftGroup g = discover(token, p);
        return new ClusterAdmin(token, g, noLeaderTimeout);
      } catch (FsException e) {
        last = e;
      }
    }
    throw last != null ? last : new FsException(Errno.EINVAL, "no peer given");
  }

  /** Whether {@code e} came of a TLS handshake the other side (or this one) refused. */
  static boolean refusedByTls(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof javax.net.ssl.SSLException || t instanceof java.security.cert.CertificateException
          || String.valueOf(t.getMessage()).contains("not this cluster's token")) {
        return true;
      }
    }
    return false;
  }

  /** The group's current voters as {@code peer} knows them. */
  static RaftGroup discover(ClusterToken token, Endpoint peer) throws FsException {
    GroupInfoReply info = info(token, peer);
    return info.getGroup();
  }

  static GroupInfoReply info(ClusterToken token, Endpoint peer) throws FsException {
    RaftGroup one = RaftGroup.valueOf(groupId(token), peer(peer));
    try (RaftClient c = RaftClient.newBuilder().setProperties(new RaftProperties()).setRaftGroup(one)
        .setParameters(tls(token).parameters())
        .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(3,
            TimeDuration.valueOf(300, java.util.concurrent.TimeUnit.MILLISECONDS)))
        .build()) {
      GroupInfoReply r = c.getGroupManagementApi(RaftPeerId.valueOf(peer.peerId())).info(groupId(token));
      if (!r.isSuccess()) {
        throw FsException.of(Errno.EINVAL, "peer %s is not a node of cluster %s: %s", peer, token.clusterId(),
            r.getException());
      }
      return r;
    } catch (FsException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      String why = String.valueOf(e.getMessage());
      if (refusedByTls(e)) {
        throw FsException.of(Errno.EINVAL, "peer %s is not a node of cluster %s: the TLS handshake was refused (is "
            + "the token file from another cluster?)", peer, token.clusterId());
      }
      if (why.contains("not found") || why.contains("GroupMismatch") || why.contains("not exist")) {
        throw FsException.of(Errno.EINVAL, "peer %s is not a node of cluster %s (is the token file from another "
            + "cluster?)", peer, token.clusterId());
      }
      throw FsException.of(Errno.EIO, "peer %s does not answer: %s", peer, why);
    }
  }

  public RaftGroup group() {
    return group;
  }

  public RaftMetaClient meta() {
    return meta;
  }

  public ClusterToken token() {
    return token;
  }

  public List<MetadataStore.Node> nodes() throws FsException {
    return meta.query(new MetaQuery.Nodes());
  }

  /**
   * Adds {@code peer} to the voters, keeping the others and every listener (mounts); the leader brings it
   * up to date first, by snapshot if needed. Nothing to do when it is a voter already.
   */
  void addVoter(Endpoint peer) throws FsException {
    try (RaftClient c = newRaftClient()) {
      GroupConfiguration.change(c, group, "adding " + peer + " to the metadata group",
          conf -> conf.hasVoter(peer.peerId()) ? null : conf.withVoter(peer(peer)));
    } catch (IOException e) {
      throw FsException.of(Errno.EIO, "adding %s to the metadata group failed: %s", peer, e.getMessage());
    }
  }

  /**
   * Removes {@code peer} from the voters, keeping the other voters and every listener (mounts); the group
   * then needs a majority of the voters that remain. Nothing to do when it is not a voter.
   */
  void removeVoter(Endpoint peer) throws FsException {
    try (RaftClient c = newRaftClient()) {
      GroupConfiguration.change(c, group, "removing " + peer + " from the metadata group",
          conf -> conf.hasVoter(peer.peerId()) ? conf.withoutVoter(peer.peerId()) : null);
    } catch (IOException e) {
      throw FsException.of(Errno.EIO, "removing %s from the metadata group failed: %s", peer, e.getMessage());
    }
  }

  /** Removes the listeners (mounts' replicas) among {@code ids} from the group; nothing to do for the others. */
  void removeListeners(java.util.Collection<String> ids) throws FsException {
    try (RaftClient c = newRaftClient()) {
      GroupConfiguration.change(c, group, "removing listeners " + ids + " from the metadata group", conf -> {
        GroupConfiguration next = conf;
        for (String id : ids) {
          next = next.hasListener(id) ? next.withoutListener(id) : next;
        }
        return next == conf ? null : next;
      });
    } catch (IOException e) {
      throw FsException.of(Errno.EIO, "removing listeners %s from the metadata group failed: %s", ids, e.getMessage());
    }
  }

  /**
   * The current voters' peer ids, as a voter other than {@code except} reports them (the group this
   * handle was made with may be older).
   */
  java.util.Set<String> voterIds(Endpoint asked) throws FsException {
    return GroupConfiguration.of(info(token, asked)).voters().stream().map(p -> p.getId().toString())
        .collect(java.util.stream.Collectors.toSet());
  }

  /**
   * One member as {@code cluster status} shows it; {@code state} is the membership state (active, draining
   * while its blocks move away, removed).
   */
  public record Member(String nodeId, int number, String address, String role, String health, long lastContactMs,
      long commitIndex, long blocks, long usedBytes, long freeBytes, String state) {}

  /**
   * A cluster mount's replica in the group (a listener): its Raft id and address, the milliseconds since it last
   * answered the leader (-1 when the leader has no sender for it) and the index the leader knows it committed.
   */
  public record MountReplica(String id, String address, long lastContactMs, long commitIndex) {}

  public record Status(String clusterId, String leader, long term, long commitIndex, List<Member> members,
      List<MountReplica> mounts) {}

  /**
   * Leader, term, commit index, each member's role, health, last contact, space and block count, and the
   * mounts' replicas the leader sends the log to.
   */
  public Status status(Endpoint asked) throws FsException {
    GroupInfoReply mine = info(token, asked);
    RaftProtos.RoleInfoProto role = mine.getRoleInfoProto();
    String leaderPeer = null;
    if (role.getRole() == RaftProtos.RaftPeerRole.LEADER) {
      leaderPeer = role.getSelf().getId().toStringUtf8();
    } else if (role.hasFollowerInfo()) {
      leaderPeer = role.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8();
    }
    if (leaderPeer == null || leaderPeer.isEmpty()) {
      // the asked node does not know the leader (yet): ask the others who leads
      for (RaftPeer p : mine.getGroup().getPeers()) {
        try {
          GroupInfoReply other = info(token, Endpoint.parse("peer", p.getAddress()));
          if (other.getRoleInfoProto().getRole() == RaftProtos.RaftPeerRole.LEADER) {
            leaderPeer = p.getId().toString();
          }
        } catch (FsException unreachable) {
          // skip
        }
      }
    }
    GroupInfoReply leaderInfo = mine;
    if (leaderPeer != null && !leaderPeer.equals(asked.peerId())) {
      for (RaftPeer p : mine.getGroup().getPeers()) {
        if (p.getId().toString().equals(leaderPeer)) {
          leaderInfo = info(token, Endpoint.parse("leader", p.getAddress()));
        }
      }
    }
    Map<String, Long> contact = new HashMap<>();
    long term = 0;
    if (leaderInfo.getRoleInfoProto().hasLeaderInfo()) {
      term = leaderInfo.getRoleInfoProto().getLeaderInfo().getTerm();
      for (RaftProtos.ServerRpcProto f : leaderInfo.getRoleInfoProto().getLeaderInfo().getFollowerInfoList()) {
        contact.put(f.getId().getId().toStringUtf8(), f.getLastRpcElapsedTimeMs());
      }
    }
    Map<String, Long> commits = new HashMap<>();
    long commitIndex = 0;
    for (RaftProtos.CommitInfoProto ci : leaderInfo.getCommitInfos()) {
      String id = ci.getServer().getId().toStringUtf8();
      commits.put(id, ci.getCommitIndex());
      if (id.equals(leaderPeer)) {
        commitIndex = ci.getCommitIndex();
      }
    }
    java.util.Set<String> voters = new java.util.HashSet<>();
    for (RaftPeer p : leaderInfo.getGroup().getPeers()) {
      voters.add(p.getId().toString());
    }
    List<Member> members = new ArrayList<>();
    String leaderNode = null;
    BlockTls blockTls = blockTls(token, true);
    try (BlockClientGroup g = new BlockClientGroup(1)) {
      for (MetadataStore.Node n : nodes()) {
        Endpoint e = Endpoint.parse("node address", n.raftAddress());
        String pid = e.peerId();
        boolean isLeader = pid.equals(leaderPeer);
        if (isLeader) {
          leaderNode = n.nodeId();
        }
        String r = n.state().equals("REMOVED") ? "removed" : isLeader ? "leader" : voters.contains(pid) ? "follower"
            : "blocks";
        long lastContact = isLeader ? 0 : contact.getOrDefault(pid, -1L);
        long blocks = -1;
        long used = -1;
        long free = -1;
        String health;
        try (RemoteBlockStore s = RemoteBlockStore.builder(g, e.blockAddress(), token.credentials())
            .tls(blockTls).timeout(Duration.ofSeconds(3)).build()) {
          NodeStats st = s.nodeStats();
          blocks = st.store().blocks();
          used = st.store().fileBytes();
          free = st.freeBytes();
          health = voters.contains(pid) && !isLeader && (lastContact < 0 || lastContact > 5000) ? "lagging"
              : "healthy";
        } catch (IOException | RuntimeException x) {
          health = "unreachable";
        }
        if (n.state().equals("REMOVED")) {
          health = "removed";
        }
        members.add(new Member(n.nodeId(), n.number(), n.raftAddress(), r, health, lastContact,
            commits.getOrDefault(pid, -1L), blocks, used, free, n.state().toLowerCase(java.util.Locale.ROOT)));
      }
    }
    List<MountReplica> mounts = new ArrayList<>();
    for (RaftPeer l : GroupConfiguration.of(leaderInfo).listeners()) {
      String id = l.getId().toString();
      mounts.add(new MountReplica(id, l.getAddress(), contact.getOrDefault(id, -1L), commits.getOrDefault(id, -1L)));
    }
    return new Status(token.clusterId().toString(), leaderNode, term, commitIndex, members, mounts);
  }

  @Override
  public void close() throws IOException {
    meta.close();
  }
}
