package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.meta.ApplyListener;
import java.io.Closeable;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SnapshotManagementRequest;
import org.apache.ratis.rpc.CallId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;

/**
 * One metadata replica process-side: a Ratis server (gRPC) in {@code group} running a
 * {@link MetadataStateMachine}. Starting recovers what {@link RaftNodeConfig#storageDir()} holds (or
 * formats it when empty); {@link #close} stops the server and closes the store.
 */
public final class RaftMetaServer implements Closeable {
  /** How long a checkpoint asked for by log size may take (a RocksDB flush and hard links). */
  private static final long CHECKPOINT_TIMEOUT_MS = 120_000;
  private static final long STEP_DOWN_TIMEOUT_MS = 10_000;

  private final RaftServer server;
  private final RaftGroup group;
  private final MetadataStateMachine stateMachine;

  private RaftMetaServer(RaftServer server, RaftGroup group, MetadataStateMachine stateMachine) {
    this.server = server;
    this.group = group;
    this.stateMachine = stateMachine;
  }

  /**
   * Starts the replica {@code config} describes as a member of {@code group} (which must list it).
   *
   * @param blockSize the filesystem's block size, the same on every replica
   * @param listener told of every applied operation on this replica (block reclaim, cache invalidation)
   */
  public static RaftMetaServer start(RaftNodeConfig config, RaftGroup group, int blockSize, ApplyListener listener)
      throws IOException {
    if (group.getPeer(config.peerId()) == null) {
      throw new IllegalArgumentException("group " + group + " does not list peer " + config.peerId());
    }
    MetadataStateMachine sm = new MetadataStateMachine(blockSize, listener, config.ephemeral());
    RaftServer server = RaftServer.newBuilder()
        .setServerId(config.peerId())
        .setGroup(group)
        .setProperties(config.toProperties())
        .setParameters(config.parameters())
        .setStateMachine(sm)
        .setOption(RaftStorage.StartupOption.RECOVER)
        .build();
    sm.snapshotTrigger(new SnapshotTrigger(config.snapshotBytes(), () -> askCheckpoint(server, group.getGroupId())));
    try {
      server.start();
    } catch (IOException | RuntimeException e) {
      try {
        server.close();
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
    return new RaftMetaServer(server, group, sm);
  }

  /** Asks {@code server} for a checkpoint of its replica now (creation gap 1: whatever the entry count). */
  private static CompletableFuture<Boolean> askCheckpoint(RaftServer server, RaftGroupId groupId) {
    SnapshotManagementRequest create = SnapshotManagementRequest.newCreate(ClientId.randomId(), server.getId(),
        groupId, CallId.getAndIncrement(), CHECKPOINT_TIMEOUT_MS, 1);
    return server.snapshotManagementAsync(create).thenApply(RaftClientReply::isSuccess);
  }

  public RaftPeerId id() {
    return server.getId();
  }

  public RaftGroup group() {
    return group;
  }

  public MetadataStateMachine stateMachine() {
    return stateMachine;
  }

  /** The Ratis server, for administration (membership changes, leadership transfer). */
  public RaftServer raftServer() {
    return server;
  }

  /**
   * This replica's view of the group: its role (leader, follower, candidate, listener), the term, the leader's
   * peer id (null while unknown), the highest index it knows committed and the index its store has applied.
   */
  public record Figures(String role, long term, String leader, long commitIndex, long appliedIndex) {}

  /** What this replica knows of the group now; role "stopped" once the server is closed. */
  public Figures figures() {
    try {
      RaftServer.Division d = server.getDivision(group.getGroupId());
      var info = d.getInfo();
      var leader = info.getLeaderId();
      return new Figures(info.getCurrentRole().name().toLowerCase(java.util.Locale.ROOT), info.getCurrentTerm(),
          leader == null ? null : leader.toString(), d.getRaftLog().getLastCommittedIndex(),
          stateMachine.appliedIndex());
    } catch (IOException | RuntimeException e) {
      return new Figures("stopped", 0, null, -1, -1);
    }
  }

  /**
   * The voters of the group's configuration as this replica knows it (the newest, committed or not), or none
   * once the replica is closed (Ratis closes it itself when it finds itself outside the configuration).
   */
  public List<RaftPeer> currentPeers() {
    try {
      return List.copyOf(server.getDivision(group.getGroupId()).getRaftConf().getCurrentPeers());
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }

  /**
   * How long, in milliseconds, each member this leader sends to has gone without answering it (counted from
   * this leader's start for one that never has): {@code listeners} are the configuration's listeners (cluster
   * mounts' replicas), {@code joining} the members being added, which Ratis sends to before the configuration
   * names them; {@code unfed} are listeners of the configuration the leader has no sender for (it sends them
   * nothing: see SilentMembers in the node package).
   */
  public record Silences(java.util.Map<String, Long> listeners, java.util.Map<String, Long> joining,
      java.util.Set<String> unfed) {
    public static final Silences NONE = new Silences(java.util.Map.of(), java.util.Map.of(), java.util.Set.of());
  }

  /** The {@link Silences} while this replica leads; {@link Silences#NONE} on any other. */
  public Silences silences() {
    try {
      RaftServer.Division d = server.getDivision(group.getGroupId());
      var role = d.getInfo().getRoleInfoProto();
      if (!role.hasLeaderInfo()) {
        return Silences.NONE;
      }
      var conf = d.getRaftConf();
      // listeners: the current configuration's; members: the old one's too (during a change both count)
      java.util.Set<String> listeners = new java.util.HashSet<>();
      conf.getCurrentPeers(RaftProtos.RaftPeerRole.LISTENER).forEach(p -> listeners.add(p.getId().toString()));
      java.util.Set<String> members = new java.util.HashSet<>(listeners);
      conf.getAllPeers(RaftProtos.RaftPeerRole.LISTENER).forEach(p -> members.add(p.getId().toString()));
      conf.getAllPeers(RaftProtos.RaftPeerRole.FOLLOWER).forEach(p -> members.add(p.getId().toString()));
      java.util.Map<String, Long> listening = new java.util.HashMap<>();
      java.util.Map<String, Long> joining = new java.util.HashMap<>();
      for (var f : role.getLeaderInfo().getFollowerInfoList()) {
        String id = f.getId().getId().toStringUtf8();
        if (listeners.contains(id)) {
          listening.put(id, f.getLastRpcElapsedTimeMs());
        } else if (!members.contains(id)) {
          joining.put(id, f.getLastRpcElapsedTimeMs());
        }
      }
      java.util.Set<String> unfed = new java.util.TreeSet<>(listeners);
      unfed.removeAll(listening.keySet());
      return new Silences(listening, joining, unfed);
    } catch (IOException | RuntimeException e) {
      return Silences.NONE;
    }
  }

  /**
   * Gives up the leadership (a no-op on a replica that does not lead); an election follows, which this
   * replica may win again. Whatever the old leader had in progress, a configuration change included, ends.
   */
  public void stepDown() throws IOException {
    var request = new org.apache.ratis.protocol.TransferLeadershipRequest(ClientId.randomId(), server.getId(),
        group.getGroupId(), CallId.getAndIncrement(), null, STEP_DOWN_TIMEOUT_MS);
    RaftClientReply reply = server.transferLeadership(request);
    if (!reply.isSuccess() && !(reply.getException() instanceof org.apache.ratis.protocol.exceptions.NotLeaderException)) {
      throw new IOException("stepping down failed: " + reply.getException());
    }
  }

  /** True while this replica is the group's leader and ready to serve. */
  public boolean isLeader() {
    try {
      RaftServer.Division d = server.getDivision(group.getGroupId());
      return d.getInfo().isLeader() && d.getInfo().isLeaderReady();
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
  }
}
