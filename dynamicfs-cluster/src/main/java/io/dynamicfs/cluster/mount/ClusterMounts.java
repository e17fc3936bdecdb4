package io.dynamicfs.cluster.mount;

import io.dynamicfs.cluster.blocks.BlockNode;
import io.dynamicfs.cluster.blocks.NodeStores;
import io.dynamicfs.cluster.node.ClusterAdmin;
import io.dynamicfs.cluster.node.ClusterToken;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.cluster.node.NodeDirectory;
import io.dynamicfs.cluster.raft.GroupConfiguration;
import io.dynamicfs.cluster.raft.MetaQuery;
import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.cluster.raft.RaftMetaServer;
import io.dynamicfs.cluster.raft.RaftNodeConfig;
import io.dynamicfs.cluster.transport.NodeStats;
import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.StatFs;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.ClusterMount;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.Redundancy;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds what the engine runs on in a cluster mount ({@link ClusterMount}): the mount joins the metadata
 * group as a Raft <em>listener</em> (a non-voting replica: it receives every entry, or a checkpoint when
 * new, but never votes or counts for a majority), so the engine reads metadata locally at RocksDB speed;
 * operations go to the leader through a {@link RaftJournal}, which returns once the local replica has
 * applied them (read-your-writes). Blocks go to the nodes through the store the cluster's redundancy
 * stands for ({@link NodeStores}: whole copies or erasure-coded shards), kept in step with the nodes table. On close the mount leaves the group and removes its replica.
 *
 * <p>Consistency: the replica follows the leader within milliseconds; {@link #catchUp} (called by open
 * with the {@code safe} preset, and by the kernel-cache timeouts otherwise) waits until it has applied
 * the leader's commit index, which gives close-to-open consistency.
 */
public final class ClusterMounts implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ClusterMounts.class);
  static final Duration CATCH_UP = Duration.ofSeconds(60);
  /** How often the mount looks for uncommitted copies to touch ({@link CopyKeeper}): cheap when there are none. */
  static final Duration KEEP_ALIVE_PERIOD = Duration.ofSeconds(1);
  /** How often the mount looks whether its replica is still a listener of the group ({@link #stayInGroup}). */
  static final Duration MEMBERSHIP_CHECK = Duration.ofSeconds(10);

  private final ClusterAdmin admin;
  private final RaftMetaServer replica;
  private final RaftPeer self;
  private final ReplicaDirectory replicaDir;
  private final AppliedWaiter waiter;
  private final NodeDirectory directory;
  private final BlockStore blocks;
  private final Redundancy redundancy;
  private final ScheduledExecutorService refresher;
  /** Its own thread: a change of the group can wait long on a cluster without a majority. */
  private final ScheduledExecutorService groupCheck;
  private volatile boolean closing;
  private final MetadataStore store;
  private final FormatOptions format;
  private volatile RaftJournal journal;
  // Hears of every op the replica applies after the journal (the FUSE binding's kernel invalidations).
  private volatile ApplyListener observer = ApplyListener.NONE;
  private volatile StatFs lastSpace;
  private volatile long lastSpaceAt;

  private ClusterMounts(ClusterAdmin admin, RaftMetaServer replica, RaftPeer self, ReplicaDirectory replicaDir,
      AppliedWaiter waiter, NodeDirectory directory, BlockStore blocks, Redundancy redundancy, MetadataStore store,
      FormatOptions format) {
    this.admin = admin;
    this.replica = replica;
    this.self = self;
    this.replicaDir = replicaDir;
    this.waiter = waiter;
    this.directory = directory;
    this.blocks = blocks;
    this.redundancy = redundancy;
    this.store = store;
    this.format = format;
    this.refresher = daemonScheduler("dfs-cluster-nodes");
    refresher.scheduleWithFixedDelay(directory::refresh, 5, 5, TimeUnit.SECONDS);
    this.groupCheck = daemonScheduler("dfs-group-check");
    long check = MEMBERSHIP_CHECK.toMillis();
    groupCheck.scheduleWithFixedDelay(this::stayInGroup, check, check, TimeUnit.MILLISECONDS);
  }

  private static ScheduledExecutorService daemonScheduler(String thread) {
    return Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, thread);
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * Puts this mount's replica back into the group when a configuration change left it out; the leader then
   * sends it the log it missed (or a checkpoint). Nothing in this project drops it ({@link GroupConfiguration}),
   * but a mount left out stops receiving the log, cannot renew its session, and fails every operation once
   * the cluster ends that session, so it looks every {@link #MEMBERSHIP_CHECK}. Once the mount is closing it
   * changes nothing (its leaving the group must stay done).
   */
  private void stayInGroup() {
    String id = self.getId().toString();
    try (RaftClient c = admin.newRaftClient()) {
      if (GroupConfiguration.read(c, admin.group()).hasListener(id)) {
        return;
      }
      log.atWarn().addKeyValue("replica", id).addKeyValue("applied", replica.stateMachine().appliedIndex())
          .log("this mount's replica is not in the metadata group's configuration: adding it again");
      GroupConfiguration.change(c, admin.group(), "adding this mount back to the metadata group",
          conf -> closing || conf.hasListener(id) ? null : conf.withListener(self));
    } catch (IOException | RuntimeException e) {
      log.atDebug().addKeyValue("error", String.valueOf(e)).log("could not check this mount's place in the group");
    }
  }

  /**
   * Connects to the cluster through {@code peers}, starts the local replica listening on {@code host}
   * (an address the nodes can reach), waits until it has caught up with the leader, and opens the block
   * store over the nodes.
   */
  public static ClusterMounts connect(ClusterToken token, List<Endpoint> peers, String host) throws IOException {
    return connect(token, peers, host, false);
  }

  /**
   * {@link #connect(ClusterToken, List, String)} reaching the nodes' block ports with TLS when {@code blockTls}
   * (every node accepts it; nodes started with --block-tls take nothing else), plain otherwise.
   */
  public static ClusterMounts connect(ClusterToken token, List<Endpoint> peers, String host, boolean blockTls)
      throws IOException {
    return connect(token, peers, host, blockTls, RaftMetaClient.DEFAULT_NO_LEADER_TIMEOUT);
  }

  /**
   * {@link #connect(ClusterToken, List, String, boolean)} whose requests other than the ordered stream give
   * up after {@code noLeaderTimeout} without a leader (see {@link RaftMetaClient}).
   */
  public static ClusterMounts connect(ClusterToken token, List<Endpoint> peers, String host, boolean blockTls,
      Duration noLeaderTimeout) throws IOException {
    ClusterAdmin admin = ClusterAdmin.connect(token, peers, noLeaderTimeout);
    RaftMetaServer replica = null;
    RaftPeer self = null;
    ReplicaDirectory dir = null;
    NodeDirectory directory = null;
    try {
      MetaOp.SetClusterConfig config = admin.meta().query(new MetaQuery.Config());
      Redundancy r = Redundancy.parse(config.redundancy());
      FormatOptions format = new FormatOptions(config.blockSize(), Codec.byId(config.codecId()), config.inlineMax());
      int port = freePort();
      String id = "m-" + host.replaceAll("[^A-Za-z0-9]", "-") + "_" + port;
      dir = ReplicaDirectory.create(Path.of(System.getProperty("java.io.tmpdir")));
      self = RaftPeer.newBuilder().setId(id).setAddress(host + ":" + port)
          .setStartupRole(RaftProtos.RaftPeerRole.LISTENER).build();
      List<RaftPeer> members = new ArrayList<>(admin.group().getPeers());
      members.add(self);
      RaftGroup group = RaftGroup.valueOf(ClusterAdmin.groupId(token), members);
      AppliedWaiter waiter = new AppliedWaiter();
      RaftNodeConfig cfg = RaftNodeConfig.builder(id, host, port, dir.raftStorage()).ephemeral(true).tls(ClusterAdmin.tls(token))
          .build();
      replica = RaftMetaServer.start(cfg, group, format.blockSize(), waiter);
      RaftMetaServer started = replica;
      waiter.attach(() -> started.stateMachine().appliedIndex());
      addListener(admin, self);
      long commit = admin.meta().query(new MetaQuery.Applied()).index();
      waiter.await(commit, CATCH_UP);
      MetadataStore store = replica.stateMachine().read(s -> s);
      MetadataStore replicaStore = store;
      directory = new NodeDirectory(() -> replicaStore.nodes(), token.credentials(),
          blockTls ? ClusterAdmin.blockTls(token, true) : null, Duration.ofSeconds(10));
      directory.refresh();
      checkBlockAccess(directory);
      BlockStore blocks = NodeStores.open(r, directory.nodes());
      if (r instanceof Redundancy.Replicate) {
        NodeDirectory nodes = directory;
        blocks = new CopyKeeper(blocks, n -> {
          BlockNode b = nodes.nodes().node(n);
          return b == null ? null : (RemoteBlockStore) b.store();
        }, System::nanoTime, KEEP_ALIVE_PERIOD.toMillis());
      }
      log.atInfo().addKeyValue("cluster", token.clusterId().toString()).addKeyValue("replica", id)
          .addKeyValue("applied", commit).addKeyValue("redundancy", config.redundancy()).log("cluster mount connected");
      return new ClusterMounts(admin, replica, self, dir, waiter, directory, blocks, r, store,
          format);
    } catch (IOException | RuntimeException e) {
      if (directory != null) {
        directory.close();
      }
      if (replica != null) {
        removeListener(admin, self);
        closeQuietly(replica);
      }
      closeQuietly(admin);
      closeQuietly(dir);
      throw e;
    }
  }

  /**
   * Fails the mount at once, with the node's reason, when the first node that answers on its block port
   * refuses this mount (a node that takes only TLS, and this mount without --block-tls); nodes that do not
   * answer are left to the mount's usual retries.
   */
  private static void checkBlockAccess(NodeDirectory directory) throws FsException {
    for (BlockNode n : directory.nodes().nodes()) {
      try {
        ((RemoteBlockStore) n.store()).nodeStats();
        return;
      } catch (FsException e) {
        if (e.errno() == Errno.EACCES) {
          throw FsException.of(Errno.EACCES, "node %d refused this mount's block connection: %s", n.number(),
              e.getMessage());
        }
      } catch (IOException e) {
        // unreachable for now: ask the next one
      }
    }
  }

  /**
   * The engine's view of this connection; {@code client} names the mount in its session. With
   * {@code asyncMetadata} the mount answers creates, unlinks and changes to its own new files in directories
   * it leases without waiting for their Raft round ({@link RaftJournal}).
   */
  public ClusterMount engineParts(String client, Duration sessionTtl, boolean asyncMetadata) throws FsException {
    RaftJournal j = new RaftJournal(admin.meta(), waiter, CATCH_UP, replica.stateMachine(), asyncMetadata,
        blocks instanceof CopyKeeper k ? k : null);
    if (asyncMetadata) {
      replica.stateMachine().setSpeculation(j);
    }
    waiter.chain((op, result) -> {
      if (asyncMetadata) {
        j.applied(op, result);
      }
      observer.applied(op, result);
    });
    journal = j;
    return new ClusterMount(format, store, j, blocks, this::space, this::barrier, sessionTtl, client, this);
  }

  /**
   * {@code l} hears of every op the replica applies, after the journal: what other mounts change, for the kernel
   * ({@code KernelInvalidations.replica(this::session)}). Quick and never throwing, as every apply listener.
   */
  public void observe(ApplyListener l) {
    observer = l;
  }

  /** The session this mount's ops carry (0 before the engine opened it, or with synchronous metadata). */
  public long session() {
    RaftJournal j = journal;
    return j == null ? 0 : j.session();
  }

  /** {@link #engineParts(String, Duration, boolean)} with asynchronous metadata (the default). */
  public ClusterMount engineParts(String client, Duration sessionTtl) throws FsException {
    return engineParts(client, sessionTtl, true);
  }

  /**
   * What the mount's journal has done: whether asynchronous metadata is on, ops answered ahead of their
   * round (total), ops sent and not yet answered (now), leases of other mounts this one recalled and leases
   * it gave back on a recall (totals).
   */
  public record JournalFigures(boolean async, long appliedAhead, long inFlight, long recallsMade,
      long leasesGivenBack) {}

  /** The journal's figures (all zero before the engine took its parts). */
  public JournalFigures journalFigures() {
    RaftJournal j = journal;
    return j == null ? new JournalFigures(false, 0, 0, 0, 0) : j.figures();
  }

  /** Waits until the local replica has applied every operation the leader had applied when asked (a linearizable read). */
  public void catchUp() throws FsException {
    long lastChange = admin.meta().queryNudging(new MetaQuery.LastChange()).index();
    waiter.await(lastChange, CATCH_UP);
  }

  /**
   * The engine's barrier before it opens {@code ino} or answers a name missing from directory {@code ino}:
   * nothing to do for what this mount's own lease covers (no one else can change it); otherwise the replica
   * catches up ({@link #catchUp}) and, when another mount's lease covers the inode, that lease is recalled so
   * the holder's pending changes reach this replica first.
   */
  public void barrier(long ino) throws FsException {
    RaftJournal j = journal;
    if (j != null && j.holds(ino)) {
      return;
    }
    catchUp();
    if (j != null) {
      j.recallIfLeased(ino);
    }
  }

  public RaftMetaClient meta() {
    return admin.meta();
  }

  /**
   * The cluster as this mount sees it: the leader's status (members, commit index) and this mount's replica
   * (its figures were taken first, so the lag {@code cluster.commitIndex - replica.appliedIndex} is never
   * understated).
   */
  public record View(ClusterAdmin.Status cluster, RaftMetaServer.Figures replica) {
    public long replicaLag() {
      return Math.max(0, cluster.commitIndex() - replica.appliedIndex());
    }
  }

  /** Asks the voters in turn for the cluster's status; EIO when none answers. */
  public View view() throws FsException {
    RaftMetaServer.Figures mine = replica.figures();
    FsException last = null;
    for (RaftPeer p : admin.group().getPeers()) {
      try {
        return new View(admin.status(Endpoint.parse("peer", p.getAddress())), mine);
      } catch (FsException e) {
        last = e;
      }
    }
    throw last != null ? last : FsException.of(Errno.EIO, "the cluster has no voters to ask");
  }

  /**
   * gc from this mount, once every op it sent is logged: asks the nodes in turn until the metadata leader's node answers (the others say
   * EAGAIN) to count the blocks pending deletion and, with {@code apply}, to reclaim those past the grace.
   */
  public io.dynamicfs.cluster.transport.Reclaimer.Report reclaim(boolean apply) throws IOException {
    RaftJournal j = journal;
    if (j != null) {
      j.sync(); // the leader counts what this mount removed, applied ahead or not
    }
    IOException last = null;
    for (var n : directory.nodes().nodes()) {
      try {
        return ((RemoteBlockStore) n.store()).reclaim(apply, 60_000);
      } catch (IOException e) {
        last = e;
      }
    }
    throw last != null ? last : FsException.of(Errno.EIO, "the cluster has no nodes to ask");
  }

  /** This mount's local replica (a Raft listener), for its metrics. */
  public RaftMetaServer replicaServer() {
    return replica;
  }

  /**
   * Ends the sessions that mounts on this machine left when their process died ({@link LocalSessions}), so
   * that their directory leases do not hold up this mount for a session lifetime; returns how many.
   */
  public int endSessionsOfDeadLocalMounts() throws FsException {
    return endSessionsOfDeadLocalMounts(LocalSessions::alive);
  }

  int endSessionsOfDeadLocalMounts(java.util.function.LongPredicate alive) throws FsException {
    int ended = 0;
    for (MetadataStore.Session s : LocalSessions.ofDeadProcesses(store.sessions(), alive)) {
      var r = admin.meta().submit(new MetaOp.CloseSession(s.id()));
      if (r.ok()) {
        ended++;
        log.atInfo().addKeyValue("session", Long.toHexString(s.id())).addKeyValue("client", s.client())
            .log("ended the session of a mount on this machine whose process is gone");
      }
    }
    return ended;
  }

  /** The local replica of the metadata, caught up at connect (for fsck of a cluster). */
  public MetadataStore replica() {
    return store;
  }

  /** The cluster's block nodes as the nodes table lists them (for fsck and scrub of a cluster). */
  public NodeDirectory nodeDirectory() {
    return directory;
  }

  /** How the cluster keeps blocks: replicate-R or rs-K-M (its settings, read at connect). */
  public Redundancy redundancy() {
    return redundancy;
  }

  /** The block store over the cluster's nodes. */
  public BlockStore blocks() {
    return blocks;
  }

  /** Free space over the nodes (each node counted once, divided by the redundancy's overhead), cached 5 s. */
  private StatFs space() throws IOException {
    long now = System.nanoTime();
    StatFs cached = lastSpace;
    if (cached != null && now - lastSpaceAt < 5_000_000_000L) {
      return cached;
    }
    long free = 0;
    long used = 0;
    for (var n : directory.nodes().nodes()) {
      try {
        NodeStats st = ((RemoteBlockStore) n.store()).nodeStats();
        free += Math.max(0, st.freeBytes());
        used += st.store().fileBytes();
      } catch (IOException | RuntimeException e) {
        // an unreachable node adds nothing
      }
    }
    double overhead = NodeStores.overhead(redundancy);
    long total = (long) ((free + used) / overhead);
    long avail = (long) (free / overhead);
    long inodes = 1_000_000L + avail / 4096;
    StatFs s = new StatFs(total, avail, avail, inodes, inodes, 4096, 255);
    lastSpace = s;
    lastSpaceAt = now;
    return s;
  }

  private static void addListener(ClusterAdmin admin, RaftPeer self) throws FsException {
    changeListeners(admin, self, true);
  }

  private static void removeListener(ClusterAdmin admin, RaftPeer self) {
    try {
      changeListeners(admin, self, false);
    } catch (FsException e) {
      log.atWarn().addKeyValue("error", e.getMessage()).log("could not leave the metadata group; the leader keeps "
          + "sending to a gone listener until it drops it (3 minutes)");
    }
  }

  /**
   * Adds or removes this mount's replica as a listener, keeping every other member
   * ({@link GroupConfiguration#change}: compare-and-set, so two mounts coming and going at once never undo
   * each other's change).
   */
  private static void changeListeners(ClusterAdmin admin, RaftPeer self, boolean add) throws FsException {
    String id = self.getId().toString();
    try (RaftClient c = admin.newRaftClient()) {
      GroupConfiguration.change(c, admin.group(), "changing the metadata group's listeners",
          conf -> add ? conf.withListener(self) : conf.hasListener(id) ? conf.withoutListener(id) : null);
    } catch (IOException e) {
      throw FsException.of(Errno.EIO, "changing the metadata group's listeners failed: %s", e.getMessage());
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** Leaves the group, stops the replica and deletes it, closes the node connections. */
  @Override
  public void close() throws IOException {
    closing = true; // before leaving the group: the membership check must not put the replica back
    groupCheck.shutdownNow();
    refresher.shutdownNow();
    RaftJournal j = journal;
    if (j != null) {
      j.close();
    }
    blocks.close();
    directory.close();
    leaveGroupWithin(admin.meta().noLeaderTimeout());
    closeQuietly(replica);
    closeQuietly(admin);
    replicaDir.close();
  }

  /**
   * Removes this mount's replica from the group, giving up after {@code limit}: a group without a majority
   * never commits the change, and an unmount must end all the same.
   */
  private void leaveGroupWithin(Duration limit) {
    Thread leave = new Thread(() -> removeListener(admin, self), "dfs-leave-group");
    leave.setDaemon(true);
    leave.start();
    try {
      leave.join(limit.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (leave.isAlive()) {
      log.atWarn().addKeyValue("waited_s", limit.toSeconds()).log("the cluster did not answer the mount's leaving the "
          + "metadata group; the leader keeps sending to a gone listener until it drops it (3 minutes)");
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      if (c != null) {
        c.close();
      }
    } catch (Exception e) {
      log.atWarn().addKeyValue("error", String.valueOf(e)).log("closing part of the cluster mount failed");
    }
  }
}
