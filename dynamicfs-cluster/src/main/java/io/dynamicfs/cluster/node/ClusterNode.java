package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.blocks.ShardRecord;
import io.dynamicfs.cluster.raft.MetaQuery;
import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.cluster.raft.RaftMetaServer;
import io.dynamicfs.cluster.raft.RaftNodeConfig;
import io.dynamicfs.cluster.transport.BlockServer;
import io.dynamicfs.cluster.transport.BlockTls;
import io.dynamicfs.cluster.transport.CopyClock;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import io.dynamicfs.core.storage.ByteRate;
import io.dynamicfs.core.storage.Redundancy;
import java.io.Closeable;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One server of a DynamicFS cluster, over its own DATA directory: a metadata replica (a Raft voter, for
 * the first three nodes) and a block server over a local segment store (every node). While it leads the
 * metadata group it also ends expired client sessions, reclaims blocks that have waited out the grace
 * period in pending deletion (a purge op, then the bytes deleted on every node), and runs the
 * {@link ReplicationManager} (on a thread of its own). Every node watches its own state and completes
 * {@link #removed} once {@code cluster leave} has marked it REMOVED.
 *
 * <p>Layout of DATA: {@code cluster/node.json} and {@code cluster/token} (what the node is),
 * {@code cluster/lock} (one process per DATA), {@code raft/} (Ratis log and the metadata RocksDB),
 * {@code blocks/} (segment files).
 */
public final class ClusterNode implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ClusterNode.class);
  /** Most metadata voters; later nodes hold blocks only. */
  public static final int MAX_VOTERS = 3;
  static final long SEGMENT_BYTES = 64L << 20;
  /** How many duty periods of unbroken leadership come before sessions may end (see {@link #leaderDuties}). */
  static final int SESSION_GRACE_PERIODS = 6;

  private final Path data;
  /** What this node is; a block-only node's changes once, when it is promoted to voter. */
  private volatile NodeFile file;
  private final ClusterToken token;
  private final FileChannel lockChannel;
  private final SegmentStore blocks;
  private final BlockServer blockServer;
  /** The metadata replica: null on a block-only node until it is promoted. */
  private volatile RaftMetaServer raft;
  private final RaftMetaClient client;
  private final NodeDirectory directory;
  private final ScheduledExecutorService duties;
  private volatile ScheduledExecutorService repairs;
  private volatile ReplicationManager replication;
  private final ScheduledScrub scrubs;
  /** When each copy here was last put or touched; shared with the block server (its per-id locks too). */
  private final CopyClock copyClock = new CopyClock();
  /** This node's orphan scan and its thread, or null with the scan off (grace zero). */
  private final OrphanScan orphans;
  private final ScheduledExecutorService orphanScans;
  private final VoterReplacement voterReplacement;
  private final SilentMembers silentMembers;
  /** Node number → when its blocks were first seen all gone while it drains ({@link #finishDrain}). */
  private final Map<Integer, Long> drainedSince = new HashMap<>();
  /** Node numbers whose replacement could not be done, said once per outage. */
  private final java.util.Set<Integer> noSpareSaid = new java.util.HashSet<>();
  private final Options options;
  /** Whether the last promotion check failed (one warning for a run of failures). */
  private volatile boolean promotionCheckFailed;
  private final java.util.concurrent.CompletableFuture<Void> removed = new java.util.concurrent.CompletableFuture<>();
  /** How long one question to the group about this node's own state may wait for a leader. */
  private static final Duration GROUP_CHECK_TIMEOUT = Duration.ofSeconds(10);
  /** Most time close() waits for the duty threads, together; the rest is closed while they finish. */
  private static final Duration DUTIES_STOP = Duration.ofSeconds(10);
  /** A voter's client for {@link #groupState} (the other voters only), made when first needed. */
  private final java.util.concurrent.atomic.AtomicReference<RaftMetaClient> groupCheck =
      new java.util.concurrent.atomic.AtomicReference<>();
  /** The group's voters as this node last knew them (its replica's configuration, at first its node file). */
  private volatile List<RaftPeer> knownVoters;
  /** Whether the last question to the group failed (one warning for a run of failures). */
  private volatile boolean groupCheckFailed;
  private volatile boolean closing;
  private final Duration reclaimGrace;
  private final Map<BlockId, Long> pendingSeen = new HashMap<>();
  /**
   * When this node's current unbroken run of leader duties began (System.nanoTime), or 0 while it does not
   * lead; a run breaks when a period's duties failed or came late (see {@link #leaderDuties}).
   */
  private long dutiesSince;
  private long lastDutiesDone;
  /** The cluster's redundancy, read on the first reclaim (under the reclaim lock). */
  private Redundancy redundancy;

  /**
   * Tunables a test shortens; {@code snapshotEvery} is how many Raft log entries a metadata replica applies
   * between RocksDB checkpoints (the log is purged up to each, so a node that missed more catches up by
   * installing one); {@code replication} how long a node may be unreachable before its blocks are copied.
   */
  public record Options(Duration reclaimGrace, Duration dutyPeriod, int blockSize, long snapshotEvery,
      ReplicationManager.Settings replication, Duration scrubEvery, long scrubBytesPerSecond,
      Duration replaceVoterAfter, boolean blockTls, Duration orphanGrace, Duration dropListenerAfter) {
    /**
     * How long a copy no record places here must go unput and untouched before the orphan scan removes it
     * ({@link OrphanScan}); mounts learn it from the node and touch what they hold uncommitted well within it.
     */
    public static final Duration DEFAULT_ORPHAN_GRACE = Duration.ofHours(1);

    public Options(Duration reclaimGrace, Duration dutyPeriod, int blockSize, long snapshotEvery,
        ReplicationManager.Settings replication, Duration scrubEvery, long scrubBytesPerSecond,
        Duration replaceVoterAfter, boolean blockTls) {
      this(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, replication, scrubEvery, scrubBytesPerSecond,
          replaceVoterAfter, blockTls, DEFAULT_ORPHAN_GRACE, DEFAULT_DROP_LISTENER_AFTER);
    }

    /**
     * How long the leader goes without an answer from a listener (a cluster mount's replica) before it drops it
     * from the group ({@link SilentMembers}): six times a mount's session lifetime (30 s), so such a mount
     * lost its session long before; a live mount left out puts itself back (ClusterMounts' membership check).
     */
    public static final Duration DEFAULT_DROP_LISTENER_AFTER = Duration.ofMinutes(3);

    public static final long DEFAULT_SNAPSHOT_EVERY = 10_000;
    /** How often the leader scrubs the cluster unless told otherwise (ZFS's advice for a pool is monthly). */
    public static final Duration DEFAULT_SCRUB_EVERY = Duration.ofDays(7);
    /** How fast the scheduled scrub reads copies, cluster-wide (the single-node background scrub's default). */
    public static final long DEFAULT_SCRUB_BYTES_PER_SECOND = 32L << 20;
    /** How long a voter may be unreachable before the leader gives its seat to a block-only node. */
    public static final Duration DEFAULT_REPLACE_VOTER_AFTER = Duration.ofMinutes(30);

    public Options(Duration reclaimGrace, Duration dutyPeriod, int blockSize, long snapshotEvery,
        ReplicationManager.Settings replication) {
      this(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, replication, DEFAULT_SCRUB_EVERY,
          DEFAULT_SCRUB_BYTES_PER_SECOND, DEFAULT_REPLACE_VOTER_AFTER, false);
    }
    public static final Options DEFAULT = new Options(Duration.ofSeconds(60), Duration.ofSeconds(5), 1 << 20);

    /** Default snapshot interval and replication settings (a node unreachable for 10 min counts as dead). */
    public Options(Duration reclaimGrace, Duration dutyPeriod, int blockSize) {
      this(reclaimGrace, dutyPeriod, blockSize, DEFAULT_SNAPSHOT_EVERY);
    }

    public Options(Duration reclaimGrace, Duration dutyPeriod, int blockSize, long snapshotEvery) {
      this(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, ReplicationManager.Settings.DEFAULT);
    }

    /** These options with nodes counted dead after {@code d} unreachable. */
    public Options withDeadNodeAfter(Duration d) {
      return new Options(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, replication.withDeadAfter(d),
          scrubEvery, scrubBytesPerSecond, replaceVoterAfter, blockTls, orphanGrace, dropListenerAfter);
    }

    /** These options with the leader scrubbing every {@code d}; {@link Duration#ZERO}: never on its own. */
    public Options withScrubEvery(Duration d) {
      return new Options(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, replication, d, scrubBytesPerSecond,
          replaceVoterAfter, blockTls, orphanGrace, dropListenerAfter);
    }

    /** These options with the scheduled scrub reading at most {@code bytesPerSecond}; 0: unlimited. */
    public Options withScrubRate(long bytesPerSecond) {
      return new Options(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, replication, scrubEvery, bytesPerSecond,
          replaceVoterAfter, blockTls, orphanGrace, dropListenerAfter);
    }

    /** These options with a voter unreachable for {@code d} replaced ({@link VoterReplacement}); zero: never. */
    public Options withReplaceVoterAfter(Duration d) {
      return new Options(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, replication, scrubEvery,
          scrubBytesPerSecond, d, blockTls, orphanGrace, dropListenerAfter);
    }

    /**
     * These options with {@code on}: this node's block server takes only TLS connections and the node's own
     * block clients (repair, drain, scrub) use TLS ({@link BlockTls}); off, the server takes both.
     */
    public Options withBlockTls(boolean on) {
      return new Options(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, replication, scrubEvery,
          scrubBytesPerSecond, replaceVoterAfter, on, orphanGrace, dropListenerAfter);
    }

    public Options withSnapshotEvery(long entries) {
      return new Options(reclaimGrace, dutyPeriod, blockSize, entries, replication, scrubEvery, scrubBytesPerSecond,
          replaceVoterAfter, blockTls, orphanGrace, dropListenerAfter);
    }

    /**
     * These options with the orphan scan's grace period {@code g} ({@link OrphanScan}); zero: this node never
     * removes unplaced copies (and mounts touch nothing on it).
     */
    public Options withOrphanGrace(Duration g) {
      if (g.isNegative()) {
        throw new IllegalArgumentException("orphan grace " + g + " is negative");
      }
      return new Options(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, replication, scrubEvery,
          scrubBytesPerSecond, replaceVoterAfter, blockTls, g, dropListenerAfter);
    }

    /** These options with a listener the leader has not heard from for {@code d} dropped; zero: never. */
    public Options withDropListenerAfter(Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException("listener silence " + d + " is negative");
      }
      return new Options(reclaimGrace, dutyPeriod, blockSize, snapshotEvery, replication, scrubEvery,
          scrubBytesPerSecond, replaceVoterAfter, blockTls, orphanGrace, d);
    }
  }

  private ClusterNode(Path data, NodeFile file, ClusterToken token, FileChannel lockChannel, Options options)
      throws IOException {
    this.data = data;
    this.file = file;
    this.token = token;
    this.lockChannel = lockChannel;
    this.reclaimGrace = options.reclaimGrace();
    this.options = options;
    this.scrubs = new ScheduledScrub(data.resolve("cluster").resolve("last-scrub"), options.scrubEvery(),
        this::scrubNow, System::currentTimeMillis);
    this.voterReplacement = new VoterReplacement(options.replaceVoterAfter());
    this.silentMembers = new SilentMembers(options.dropListenerAfter());
    BlockTls blockTls = ClusterAdmin.blockTls(token, options.blockTls());
    SegmentStore s = null;
    BlockServer bs = null;
    RaftMetaServer r = null;
    RaftMetaClient c = null;
    try {
      // mounts cache what they read, so the node's writes need not pass through its page cache
      s = SegmentStore.open(data.resolve("blocks"), Codec.LZ4, SEGMENT_BYTES).appendDirectly();
      bs = BlockServer.builder(s, token.credentials()).bind(file.listen().blockAddress())
          .blockSize(options.blockSize()).reclaimer(this::reclaimNow)
          .copyClock(copyClock).orphanGrace(options.orphanGrace())
          .tls(blockTls).start();
      List<RaftPeer> peers = new ArrayList<>();
      for (Endpoint e : file.peers()) {
        peers.add(ClusterAdmin.peer(e));
      }
      RaftGroup group = RaftGroup.valueOf(ClusterAdmin.groupId(token), peers);
      knownVoters = List.copyOf(peers);
      if (file.voter()) {
        r = RaftMetaServer.start(raftConfig(file), group, options.blockSize(), ApplyListener.NONE);
      }
      c = new RaftMetaClient(group, RaftMetaClient.DEFAULT_NO_LEADER_TIMEOUT, ClusterAdmin.tls(token));
    } catch (IOException | RuntimeException e) {
      closeQuietly(c, r, bs, s);
      throw e;
    }
    this.blocks = s;
    this.blockServer = bs;
    this.raft = r;
    this.client = c;
    this.directory = new NodeDirectory(() -> client.query(new MetaQuery.Nodes()), token.credentials(),
        options.blockTls() ? blockTls : null, Duration.ofSeconds(10));
    // two threads: the leader's duties may wait out an election (a submit blocks until a leader answers),
    // and watching this node's own state must go on meanwhile (a leaving leader has to see it is REMOVED)
    this.duties = Executors.newScheduledThreadPool(2, t -> {
      Thread th = new Thread(t, "dfs-node-duties");
      th.setDaemon(true);
      return th;
    });
    long ms = options.dutyPeriod().toMillis();
    duties.scheduleWithFixedDelay(this::leaderDuties, ms, ms, TimeUnit.MILLISECONDS);
    duties.scheduleWithFixedDelay(this::watchOwnState, ms, ms, TimeUnit.MILLISECONDS);
    if (raft != null) {
      startRepairs();
    } else {
      duties.scheduleWithFixedDelay(this::promoteIfNeeded, ms, ms, TimeUnit.MILLISECONDS);
    }
    if (options.orphanGrace().isZero()) {
      this.orphans = null;
      this.orphanScans = null;
    } else {
      this.orphans = new OrphanScan(blocks, copyClock, new ScanMetadata(), options.orphanGrace());
      this.orphanScans = Executors.newSingleThreadScheduledExecutor(t -> {
        Thread th = new Thread(t, "dfs-node-orphans");
        th.setDaemon(true);
        return th;
      });
      // nothing here is older than the grace before the grace has passed since the start (CopyClock)
      long first = options.orphanGrace().toMillis();
      long every = Math.max(100, options.orphanGrace().toMillis() / 4);
      orphanScans.scheduleWithFixedDelay(this::orphanDuty, first, every, TimeUnit.MILLISECONDS);
    }
  }

  // ---- the orphan scan -------------------------------------------------------------------------------

  private void orphanDuty() {
    if (closing || removed.isDone()) {
      return;
    }
    try {
      orphans.scan();
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("error", String.valueOf(e)).log("orphan scan failed; it runs again next period");
    }
  }

  /**
   * Runs the orphan scan now (on its own thread, after a scan already running) and returns its report; EINVAL
   * when the scan is off on this node.
   */
  public OrphanScan.Report scanOrphans() throws IOException {
    if (orphans == null) {
      throw FsException.of(Errno.EINVAL, "the orphan scan is off on node '%s' (orphan grace 0)", file.nodeId());
    }
    try {
      return orphanScans.submit(orphans::scan).get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw FsException.of(Errno.EAGAIN, "node '%s' is stopping", file.nodeId());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FsException.of(Errno.EIO, "interrupted while scanning for orphan copies");
    }
  }

  /** When each copy here was last put or touched (and the per-id locks PUT, TOUCH and the scan share). */
  CopyClock copyClock() {
    return copyClock;
  }

  /** The orphan scan (its totals for metrics), or null when it is off on this node. */
  public OrphanScan orphanScan() {
    return orphans;
  }

  /** The scan's questions, through this node's client: linearizable reads (ReadIndex on the leader). */
  private final class ScanMetadata implements OrphanScan.Metadata {
    @Override
    public Integer scannableNode(StringBuilder why) throws FsException {
      Redundancy red = Redundancy.parse(client.query(new MetaQuery.Config()).redundancy());
      if (!(red instanceof Redundancy.Replicate)) {
        why.append("rs-K-M shards are kept under keys the metadata does not index");
        return null;
      }
      for (MetadataStore.Node n : client.query(new MetaQuery.Nodes())) {
        if (n.nodeId().equals(file.nodeId())) {
          if (n.state().equals("REMOVED")) {
            why.append("this node was removed from the cluster");
            return null;
          }
          return n.number();
        }
      }
      why.append("this node is not registered yet");
      return null;
    }

    @Override
    public boolean[] placedOn(int node, List<BlockId> ids) throws FsException {
      return client.query(new MetaQuery.PlacedOn(node, ids));
    }
  }

  /** A scrub with repair of the whole cluster, from this node's replica (the leader's, so current). */
  private ClusterScrub.Report scrubNow() throws IOException {
    RaftMetaServer r = raft;
    MetadataStore replica = r.stateMachine().read(st -> st);
    Redundancy red = Redundancy.parse(client.query(new MetaQuery.Config()).redundancy());
    return ClusterScrub.run(replica, client, directory, red, true, () -> {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      RaftMetaServer.Figures f = r.figures();
      while (f.appliedIndex() < f.commitIndex() && System.nanoTime() < deadline) {
        try {
          Thread.sleep(20);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new FsException(Errno.EIO, "interrupted while the replica caught up");
        }
        f = r.figures();
      }
    }, new ByteRate(options.scrubBytesPerSecond()));
  }

  private RaftNodeConfig raftConfig(NodeFile file) {
    return RaftNodeConfig.builder(file.listen().peerId(), file.listen().host(), file.listen().port(),
        data.resolve("raft")).tls(ClusterAdmin.tls(token)).snapshotThreshold(options.snapshotEvery())
        .purgeGap((int) Math.min(64, options.snapshotEvery()))
        .segmentBytes(segmentBytesFor(options.snapshotEvery())).build();
  }

  /** The replication manager and its thread, once this node has a replica. */
  private void startRepairs() {
    this.replication = new ReplicationManager(raft.stateMachine()::read, client, directory, options.replication(),
        System::nanoTime);
    ScheduledExecutorService r = Executors.newSingleThreadScheduledExecutor(t -> {
      Thread th = new Thread(t, "dfs-node-repair");
      th.setDaemon(true);
      return th;
    });
    long ms = options.dutyPeriod().toMillis();
    r.scheduleWithFixedDelay(this::repairDuty, ms, ms, TimeUnit.MILLISECONDS);
    this.repairs = r;
  }

  // ---- promotion of a block-only node ----------------------------------------------------------------

  /**
   * On a block-only node: once the group has fewer than {@link #MAX_VOTERS} voters (a voter left), the
   * active block-only node with the lowest number becomes a voter, so that the group again survives the
   * loss of one voter. Every block-only node asks each period; they agree on which one goes, from the same
   * membership records and configuration.
   */
  private void promoteIfNeeded() {
    if (raft != null || closing || removed.isDone()) {
      return;
    }
    List<Endpoint> voters = new ArrayList<>();
    for (RaftPeer p : knownVoters) {
      try {
        voters.add(Endpoint.parse("voter", p.getAddress()));
      } catch (FsException e) {
        log.atWarn().addKeyValue("address", p.getAddress()).log("a known voter's address does not parse; skipped");
      }
    }
    try (ClusterAdmin admin = ClusterAdmin.connect(token, voters, GROUP_CHECK_TIMEOUT)) {
      java.util.Set<String> voterIds = null;
      for (Endpoint e : voters) {
        try {
          voterIds = admin.voterIds(e);
          break;
        } catch (FsException unreachable) {
          // ask the next
        }
      }
      if (voterIds == null) {
        throw new FsException(Errno.EIO, "no voter answered for the group's configuration");
      }
      List<RaftPeer> current = new ArrayList<>();
      for (RaftPeer p : admin.group().getPeers()) {
        if (voterIds.contains(p.getId().toString())) {
          current.add(p);
        }
      }
      if (!current.isEmpty()) {
        knownVoters = List.copyOf(current);
      }
      promotionCheckFailed = false;
      if (voterIds.size() >= MAX_VOTERS) {
        return;
      }
      MetadataStore.Node next = null;
      for (MetadataStore.Node n : admin.nodes()) {
        if (n.state().equals("ACTIVE") && !voterIds.contains(Endpoint.parse("node", n.raftAddress()).peerId())
            && (next == null || n.number() < next.number())) {
          next = n;
        }
      }
      if (next != null && next.nodeId().equals(file.nodeId())) {
        promote(admin, current);
      }
    } catch (IOException | RuntimeException e) {
      if (!promotionCheckFailed) {
        log.atWarn().addKeyValue("node", file.nodeId()).addKeyValue("error", String.valueOf(e))
            .log("cannot check whether this node should become a metadata voter; checked again next period");
      }
      promotionCheckFailed = true;
    }
  }

  /**
   * Starts a metadata replica here and adds it to the voters (Ratis brings it up to date first, by a
   * checkpoint if the log was purged), then records it in the node file so a restart starts it again. When
   * the group refuses, the replica is stopped and its directory removed, and the next period tries again.
   */
  private void promote(ClusterAdmin admin, List<RaftPeer> voters) throws IOException {
    List<Endpoint> peers = new ArrayList<>(endpoints(voters));
    peers.add(file.listen());
    List<RaftPeer> group = new ArrayList<>(voters);
    group.add(ClusterAdmin.peer(file.listen()));
    log.atInfo().addKeyValue("node", file.nodeId()).addKeyValue("voters", voters.size())
        .log("the group has too few metadata voters: this node becomes one");
    NodeFile promoted = new NodeFile(file.clusterId(), file.nodeId(), file.listen(), true, peers);
    RaftMetaServer r = RaftMetaServer.start(raftConfig(promoted),
        RaftGroup.valueOf(ClusterAdmin.groupId(token), group), options.blockSize(), ApplyListener.NONE);
    try {
      admin.addVoter(file.listen());
      promoted.write(data);
    } catch (IOException | RuntimeException e) {
      closeQuietly(r);
      deleteTree(data.resolve("raft"));
      throw e;
    }
    file = promoted;
    knownVoters = List.copyOf(group);
    raft = r;
    startRepairs();
    log.atInfo().addKeyValue("node", file.nodeId()).log("promoted to metadata voter");
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Ratis purges only closed log segments: a segment of about one checkpoint interval (1 KiB an entry, 16
   * KiB to 8 MiB) lets the log behind a checkpoint go, also when checkpoints are frequent.
   */
  static long segmentBytesFor(long snapshotEvery) {
    return Math.max(16L << 10, Math.min(8L << 20, snapshotEvery * 1024));
  }

  // ---- making and starting nodes -------------------------------------------------------------------

  /**
   * Makes the first node of a new cluster in an empty {@code data}: a new cluster id and token, this node
   * as the only voter, the root directory, the cluster's settings and this node's registration.
   */
  public static ClusterNode init(Path data, String nodeId, Endpoint listen, String redundancy, FormatOptions format,
      Options options) throws IOException {
    try {
      Redundancy r = Redundancy.parse(redundancy); // a clear error before anything is made
      if (r instanceof Redundancy.Replicate rep && rep.copies() > 3) {
        throw new IllegalArgumentException("a cluster keeps 1 to 3 copies (replicate-1 to replicate-3), or "
            + "erasure-codes blocks over nodes (rs-K-M, at least K+M nodes)");
      }
      if (r instanceof Redundancy.ReedSolomon rs && rs.data() + rs.parity() > 32) {
        throw new IllegalArgumentException("rs-K-M over nodes takes at most 32 shards (K+M), one per node");
      }
    } catch (IllegalArgumentException e) {
      throw FsException.of(Errno.EINVAL, "--redundancy %s: %s", redundancy, e.getMessage());
    }
    requireFresh(data);
    FileChannel lock = lock(data);
    ClusterToken token = ClusterToken.generate();
    NodeFile file = new NodeFile(token.clusterId(), nodeId, listen, true, List.of(listen));
    ClusterNode node = null;
    try {
      node = new ClusterNode(data, file, token, lock, options);
      long now = System.currentTimeMillis() * 1_000_000L;
      node.client.submit(MetaOp.CreateNode.root(FileType.DIRECTORY.bits() | 0755, 0, 0, now)).orThrow();
      node.client.submit(new MetaOp.SetClusterConfig(token.clusterId().toString(), format.blockSize(),
          format.codec().id(), format.inlineMax(), redundancy)).orThrow();
      node.client.submit(new MetaOp.AddNode(nodeId, listen.raftAddress(), listen.blockAddressText(), now)).orThrow();
      token.write(NodeFile.tokenPath(data));
      file.write(data); // last: a node file means a complete node
      log.atInfo().addKeyValue("cluster", token.clusterId().toString()).addKeyValue("node", nodeId)
          .addKeyValue("listen", listen.raftAddress()).log("cluster created");
      return node;
    } catch (IOException | RuntimeException e) {
      if (node != null) {
        node.close();
      } else {
        lock.close();
      }
      throw e;
    }
  }

  /**
   * Adds a node to the cluster {@code peer} belongs to, in an empty {@code data}: registers it (a node id
   * in use is refused), makes it a metadata voter while there are fewer than {@link #MAX_VOTERS}, and
   * starts its block server.
   */
  public static ClusterNode join(Path data, String nodeId, Endpoint listen, Endpoint peer, ClusterToken token,
      Options options) throws IOException {
    requireFresh(data);
    FileChannel lock = lock(data);
    try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(peer), Duration.ofSeconds(30))) {
      for (MetadataStore.Node n : admin.nodes()) {
        if (n.nodeId().equals(nodeId)) {
          throw FsException.of(Errno.EEXIST, "node id '%s' is already in use in cluster %s (node %d at %s)", nodeId,
              token.clusterId(), n.number(), n.raftAddress());
        }
        if (n.raftAddress().equals(listen.raftAddress()) && !n.state().equals("REMOVED")) {
          throw FsException.of(Errno.EEXIST, "address %s is already node '%s' of cluster %s", listen,
              n.nodeId(), token.clusterId());
        }
      }
      List<Endpoint> voters = new ArrayList<>();
      for (RaftPeer p : admin.group().getPeers()) {
        voters.add(Endpoint.parse("voter", p.getAddress()));
      }
      boolean voter = voters.size() < MAX_VOTERS;
      List<Endpoint> peers = new ArrayList<>(voters);
      if (voter) {
        peers.add(listen);
      }
      NodeFile file = new NodeFile(token.clusterId(), nodeId, listen, voter, peers);
      ClusterNode node = new ClusterNode(data, file, token, lock, options);
      try {
        if (voter) {
          admin.addVoter(listen);
        }
        long now = System.currentTimeMillis() * 1_000_000L;
        admin.meta().submit(new MetaOp.AddNode(nodeId, listen.raftAddress(), listen.blockAddressText(), now))
            .orThrow();
        token.write(NodeFile.tokenPath(data));
        file.write(data);
        log.atInfo().addKeyValue("cluster", token.clusterId().toString()).addKeyValue("node", nodeId)
            .addKeyValue("voter", voter).log("node joined");
        return node;
      } catch (IOException | RuntimeException e) {
        node.close();
        throw e;
      }
    } catch (IOException | RuntimeException e) {
      if (lock.isOpen()) {
        lock.close();
      }
      throw e;
    }
  }

  /** Starts an existing node again (after a crash or reboot) from what its DATA holds. */
  public static ClusterNode restart(Path data, Options options) throws IOException {
    NodeFile file = NodeFile.read(data);
    if (file == null) {
      throw FsException.of(Errno.EINVAL, "%s is not a cluster node's DATA (no cluster/node.json)", data);
    }
    ClusterToken token = ClusterToken.read(NodeFile.tokenPath(data));
    if (!token.clusterId().equals(file.clusterId())) {
      throw FsException.of(Errno.EINVAL, "%s: the token is for cluster %s, the node of cluster %s", data,
          token.clusterId(), file.clusterId());
    }
    FileChannel lock = lock(data);
    try {
      ClusterNode node = new ClusterNode(data, file, token, lock, options);
      log.atInfo().addKeyValue("cluster", file.clusterId().toString()).addKeyValue("node", file.nodeId())
          .log("node restarted");
      return node;
    } catch (IOException | RuntimeException e) {
      lock.close();
      throw e;
    }
  }

  /** EINVAL unless {@code data} can become a node: absent or empty, not a single-node DATA, not a node. */
  static void requireFresh(Path data) throws IOException {
    if (NodeFile.read(data) != null) {
      NodeFile f = NodeFile.read(data);
      throw FsException.of(Errno.EEXIST, "%s is already node '%s' of cluster %s; to start it again run "
          + "'dynamicfs cluster-join --data %s'", data, f.nodeId(), f.clusterId(), data);
    }
    if (Files.exists(data.resolve("dynamicfs.properties"))) {
      throw FsException.of(Errno.EINVAL, "%s holds a single-node filesystem; a cluster node needs an empty "
          + "directory", data);
    }
    if (Files.isDirectory(data)) {
      try (var s = Files.list(data)) {
        List<String> other = s.map(p -> p.getFileName().toString())
            .filter(n -> !n.equals("logs") && !n.equals("run") && !n.equals("cluster")).toList();
        if (!other.isEmpty()) {
          throw FsException.of(Errno.ENOTEMPTY, "%s is not empty (%s); a new node needs an empty directory", data,
              other);
        }
      }
    } else if (Files.exists(data)) {
      throw FsException.of(Errno.ENOTDIR, "%s is not a directory", data);
    }
  }

  private static FileChannel lock(Path data) throws IOException {
    Files.createDirectories(data.resolve("cluster"));
    FileChannel ch = FileChannel.open(data.resolve("cluster").resolve("lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock l;
    try {
      l = ch.tryLock();
    } catch (IOException e) {
      ch.close();
      throw e;
    }
    if (l == null) {
      ch.close();
      throw FsException.of(Errno.EBUSY, "%s is in use by another running node", data);
    }
    return ch;
  }

  // ---- the leader's duties ---------------------------------------------------------------------------

  /**
   * While this node leads: end expired sessions, reclaim blocks that waited out the grace period.
   *
   * <p>Sessions end only after this node has done its duties without a break for {@link #SESSION_GRACE_PERIODS}
   * periods (30 s by default, a cluster mount's session lifetime). A new leader, or one whose duties failed
   * or came late (no majority, a stalled process), cannot tell how long the mounts could not reach the
   * cluster: a mount that could not renew while nobody answered gets the time to renew before its session,
   * its leases and its open-but-unlinked files end.
   */
  private void leaderDuties() {
    if (raft == null || !raft.isLeader()) {
      synchronized (this) {
        pendingSeen.clear();
      }
      dutiesSince = 0;
      return;
    }
    long period = options.dutyPeriod().toNanos();
    long now = System.nanoTime();
    if (dutiesSince == 0 || now - lastDutiesDone > 3 * period) {
      dutiesSince = now;
    }
    try {
      if (now - dutiesSince >= SESSION_GRACE_PERIODS * period) {
        client.submit(new MetaOp.ExpireSessions(System.currentTimeMillis() * 1_000_000L));
      }
      reclaim(true);
      lastDutiesDone = System.nanoTime();
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("error", String.valueOf(e)).log("leader duties failed; retried next period");
    }
  }

  /**
   * While this node leads: one pass of the replication manager (its own thread: a pass may take long), and
   * the scheduled scrub when it is due (on the same thread, so the two never repair the same copy at once).
   */
  private void repairDuty() {
    if (!raft.isLeader()) {
      replication.reset();
      return;
    }
    scrubs.runIfDue();
    try {
      replication.runOnce();
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("error", String.valueOf(e)).log("replication pass failed; retried next period");
    }
    try {
      replaceDeadVoter();
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("error", String.valueOf(e)).log("voter replacement step failed; retried next period");
    }
    try {
      silentMembers();
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("error", String.valueOf(e)).log("handling silent members failed; retried next period");
    }
  }

  /**
   * Steps down when a member being added stopped answering or a listener has no sender, and drops listeners
   * silent for too long ({@link SilentMembers}).
   */
  private void silentMembers() throws IOException {
    RaftMetaServer.Silences silences = raft.silences();
    var stuck = silentMembers.stuckJoiner(silences.joining());
    if (stuck.isPresent()) {
      log.atWarn().addKeyValue("member", stuck.get()).addKeyValue("silent_s", silences.joining().get(stuck.get()) / 1000)
          .log("a member being added to the metadata group stopped answering (a mount or node that ended while"
              + " joining); no other change of the group can be made until that one ends, so this leader steps down");
      raft.stepDown();
      return;
    }
    var starved = silentMembers.starved(silences.unfed());
    if (starved.isPresent()) {
      log.atWarn().addKeyValue("listener", starved.get())
          .log("the leader sends nothing to a mount's replica the group's configuration names (Ratis dropped its"
              + " sender when a change failed); this leader steps down so that the next one sends to every listener");
      raft.stepDown();
      return;
    }
    java.util.Set<String> due = silentMembers.listenersToDrop(silences.listeners());
    if (due.isEmpty()) {
      return;
    }
    for (String id : due) {
      log.atWarn().addKeyValue("listener", id).addKeyValue("silent_s", silences.listeners().get(id) / 1000)
          .log("a mount's replica has not answered the leader for too long (a mount that ended without unmounting):"
              + " it is dropped from the metadata group");
    }
    try (ClusterAdmin admin = ClusterAdmin.connect(token, endpoints(raft.currentPeers()), GROUP_CHECK_TIMEOUT)) {
      admin.removeListeners(due);
    }
  }

  /**
   * How many duty periods a drained node's blocks must stay all gone before it is REMOVED: 30 s by default,
   * three times as long as a mount takes to see DRAINING (its node directory is 10 s old at most).
   */
  static final int FINISH_SETTLE_PERIODS = 6;

  /** One step of {@link VoterReplacement}, after a replication pass (whose probes are its outage clocks). */
  private void replaceDeadVoter() throws IOException {
    Map<Integer, Duration> outages = replication.outages();
    noSpareSaid.retainAll(outages.keySet());
    java.util.Set<String> voters = new java.util.HashSet<>();
    for (RaftPeer p : raft.currentPeers()) {
      voters.add(p.getId().toString());
    }
    if (voters.isEmpty()) {
      return;
    }
    List<MetadataStore.Node> table = raft.stateMachine().read(MetadataStore::nodes);
    Redundancy red = Redundancy.parse(client.query(new MetaQuery.Config()).redundancy());
    int copies = red instanceof Redundancy.Replicate rep ? rep.copies() : red.minDevices();
    VoterReplacement.Step step = voterReplacement.next(table, voters, outages, copies);
    if (step instanceof VoterReplacement.Replace r) {
      long now = System.currentTimeMillis() * 1_000_000L;
      log.atWarn().addKeyValue("node", r.node().nodeId()).addKeyValue("unreachable_s", r.unreachable().toSeconds())
          .addKeyValue("spare", r.spare().nodeId())
          .log("metadata voter unreachable too long: it is taken out of the group and its seat goes to the spare");
      client.submit(new MetaOp.SetNodeState(r.node().nodeId(), "DRAINING", now)).orThrow();
      try (ClusterAdmin admin = ClusterAdmin.connect(token, endpoints(raft.currentPeers()), GROUP_CHECK_TIMEOUT)) {
        admin.removeVoter(Endpoint.parse("node address", r.node().raftAddress()));
      }
    } else if (step instanceof VoterReplacement.Finish f) {
      finishDrain(f.node());
    } else if (step instanceof VoterReplacement.NoSpare n && noSpareSaid.add(n.node().number())) {
      log.atWarn().addKeyValue("node", n.node().nodeId()).addKeyValue("reason", n.why())
          .log("metadata voter unreachable too long but cannot be replaced; the group survives no further loss");
    }
  }

  /** REMOVED once no referenced block has named {@code node} for {@link #FINISH_SETTLE_PERIODS} duty periods. */
  private void finishDrain(MetadataStore.Node node) throws IOException {
    long left = client.query(new MetaQuery.BlocksOn(node.number()));
    long now = System.nanoTime();
    if (left > 0) {
      drainedSince.remove(node.number());
      return;
    }
    long since = drainedSince.computeIfAbsent(node.number(), n -> now);
    if (now - since >= options.dutyPeriod().multipliedBy(FINISH_SETTLE_PERIODS).toNanos()) {
      client.submit(new MetaOp.SetNodeState(node.nodeId(), "REMOVED", System.currentTimeMillis() * 1_000_000L))
          .orThrow();
      drainedSince.remove(node.number());
      log.atInfo().addKeyValue("node", node.nodeId()).log("drained node removed from the cluster");
    }
  }

  private static List<Endpoint> endpoints(List<RaftPeer> peers) throws FsException {
    List<Endpoint> out = new ArrayList<>();
    for (RaftPeer p : peers) {
      out.add(Endpoint.parse("voter", p.getAddress()));
    }
    return out;
  }

  /**
   * Completes {@link #removed} once the cluster has marked this node REMOVED ({@code cluster leave}).
   *
   * <p>A voter whose own replica says REMOVED is done; otherwise every node asks the group. The replica alone
   * cannot tell: taken out of the group right after REMOVED was committed, it may never learn of that commit
   * (the commit index travels with later entries it no longer gets); Ratis shuts it down (its store closed,
   * reads fail) at its first election after it stopped hearing from the leader, when it finds itself outside
   * the configuration, 1 to 4 s after the removal; and a node removed while it was down restarts with a
   * replica that still says ACTIVE. A block-only node has no replica.
   */
  private void watchOwnState() {
    if (removed.isDone()) {
      return;
    }
    String state = null;
    String source = "replica";
    if (raft != null) {
      List<RaftPeer> peers = raft.currentPeers();
      if (!peers.isEmpty()) {
        knownVoters = peers;
      }
      try {
        state = ownState(raft.stateMachine().read(MetadataStore::nodes));
      } catch (FsException | RuntimeException e) {
        log.atDebug().addKeyValue("error", String.valueOf(e)).log("cannot read this node's replica");
      }
    }
    if (!"REMOVED".equals(state)) {
      source = "group";
      state = groupState();
    }
    if ("REMOVED".equals(state)) {
      log.atInfo().addKeyValue("node", file.nodeId()).addKeyValue("source", source)
          .log("this node has left the cluster; it can be stopped");
      removed.complete(null);
    }
  }

  /**
   * This node's state as the group answers it (a linearizable read), or null when no voter answered. A voter
   * asks through a client of its own that lists the other voters only: its own Ratis server, once it has shut
   * the replica down, answers every request with a group mismatch, on which a Ratis client gives up without
   * trying another server. A client that failed is dropped and made again next time, from the voters known then.
   */
  private String groupState() {
    RaftMetaClient c = client;
    if (raft != null) {
      c = groupCheck.get();
      if (c == null) {
        List<RaftPeer> others = new ArrayList<>();
        for (RaftPeer p : knownVoters) {
          if (!p.getId().equals(raft.id())) {
            others.add(p);
          }
        }
        if (others.isEmpty()) {
          c = client; // the only voter: there is no one else to ask
        } else {
          c = new RaftMetaClient(RaftGroup.valueOf(client.group().getGroupId(), others), GROUP_CHECK_TIMEOUT,
              ClusterAdmin.tls(token));
          groupCheck.set(c);
          if (closing) {
            closeQuietly(groupCheck.getAndSet(null));
            return null;
          }
        }
      }
    }
    try {
      String state = ownState(c.query(new MetaQuery.Nodes()));
      groupCheckFailed = false;
      return state;
    } catch (FsException | RuntimeException e) {
      if (c != client && groupCheck.compareAndSet(c, null)) {
        closeQuietly(c);
      }
      if (!groupCheckFailed) {
        log.atWarn().addKeyValue("node", file.nodeId()).addKeyValue("error", String.valueOf(e))
            .log("cannot ask the group for this node's state; asked again next period");
      }
      groupCheckFailed = true;
      return null;
    }
  }

  private String ownState(List<MetadataStore.Node> table) {
    for (MetadataStore.Node n : table) {
      if (n.nodeId().equals(file.nodeId())) {
        return n.state();
      }
    }
    return null;
  }

  /**
   * A RECLAIM request (gc from a mount): on the leader, runs {@link #reclaim} on a duties thread and answers
   * what it found and did; elsewhere EAGAIN.
   */
  private io.dynamicfs.cluster.transport.Reclaimer.Report reclaimNow(boolean apply) throws IOException {
    ScheduledExecutorService d = duties;
    if (d == null || raft == null || !raft.isLeader()) {
      throw FsException.of(Errno.EAGAIN, "node '%s' is not the metadata leader", file.nodeId());
    }
    try {
      return d.submit(() -> reclaim(apply)).get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw FsException.of(Errno.EIO, "reclaim did not finish in 60 s");
    } catch (java.util.concurrent.RejectedExecutionException e) {
      throw FsException.of(Errno.EAGAIN, "node '%s' is stopping", file.nodeId());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FsException.of(Errno.EIO, "interrupted while reclaiming");
    }
  }

  /**
   * Purges the pending blocks this leader has seen pending for at least the grace period (when {@code apply})
   * and deletes their copies on every node. Runs on a duties thread, one call at a time (the lock also guards
   * {@code pendingSeen}: the duties pool has two threads, and a RECLAIM request queues its call there too).
   */
  private synchronized io.dynamicfs.cluster.transport.Reclaimer.Report reclaim(boolean apply) throws IOException {
    Map<BlockId, Long> pending = raft.stateMachine().read(s -> s.pendingDeletes(4096));
    long now = System.nanoTime();
    pendingSeen.keySet().retainAll(pending.keySet());
    List<BlockId> due = new ArrayList<>();
    for (BlockId id : pending.keySet()) {
      long seen = pendingSeen.computeIfAbsent(id, k -> now);
      if (now - seen >= reclaimGrace.toNanos()) {
        due.add(id);
      }
    }
    if (due.isEmpty() || !apply) {
      return new io.dynamicfs.cluster.transport.Reclaimer.Report(pending.size(), due.size(), 0, 0);
    }
    OpApplier.Result r = client.submit(new MetaOp.PurgeBlocks(due)).orThrow();
    directory.refresh();
    int purged = 0;
    long copies = 0;
    for (BlockId id : r.purged()) {
      for (var n : directory.nodes().nodes()) {
        for (BlockId key : copyKeys(id)) {
          try {
            if (n.store().stat(key) != null) {
              n.store().delete(key);
              copies++;
            }
          } catch (IOException | RuntimeException e) {
            log.atWarn().addKeyValue("block", id.toHex()).addKeyValue("node", n.number())
                .addKeyValue("error", String.valueOf(e)).log("block delete on a node failed; left as garbage");
          }
        }
      }
      pendingSeen.remove(id);
      purged++;
    }
    log.atInfo().addKeyValue("blocks", purged).addKeyValue("copies", copies).log("reclaimed blocks");
    return new io.dynamicfs.cluster.transport.Reclaimer.Report(pending.size(), due.size(), purged, copies);
  }

  /**
   * The keys a block's copies are kept under on a node: its id (replicate-R), or its K+M shard keys
   * (rs-K-M), any of which a node may hold.
   */
  private List<BlockId> copyKeys(BlockId id) throws FsException {
    if (redundancy == null) {
      redundancy = Redundancy.parse(client.query(new MetaQuery.Config()).redundancy());
    }
    if (redundancy instanceof Redundancy.ReedSolomon rs) {
      List<BlockId> keys = new ArrayList<>();
      for (int i = 0; i < rs.data() + rs.parity(); i++) {
        keys.add(ShardRecord.key(id, i, rs.data(), rs.parity()));
      }
      return keys;
    }
    return List.of(id);
  }

  // ---- accessors -------------------------------------------------------------------------------------

  public NodeFile file() {
    return file;
  }

  /** The largest block this node's block server takes. */
  public int blockSize() {
    return options.blockSize();
  }

  public ClusterToken token() {
    return token;
  }

  public Path data() {
    return data;
  }

  public boolean isLeader() {
    return raft != null && raft.isLeader();
  }

  /** This node's metadata replica, or null on a block-only node. */
  public RaftMetaServer raft() {
    return raft;
  }

  public SegmentStore blocks() {
    return blocks;
  }

  /** Completes when the cluster has marked this node REMOVED: it holds nothing the cluster needs. */
  public java.util.concurrent.CompletableFuture<Void> removed() {
    return removed;
  }

  /** The replication manager (it acts while this node leads), or null on a block-only node. */
  public ReplicationManager replication() {
    return replication;
  }

  /** Requests, errors and bytes of this node's block server since it started. */
  public io.dynamicfs.cluster.transport.BlockServerStats blockServerStats() {
    return blockServer.stats();
  }

  /** Usable bytes on the filesystem under this node's blocks, or -1 when it cannot be read. */
  public long freeBytes() {
    try {
      return Files.getFileStore(data.resolve("blocks")).getUsableSpace();
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * Stops the duties, then closes the clients, the metadata replica, the block server and the store. Bounded:
   * the duty threads are interrupted and waited for at most {@link #DUTIES_STOP} together (a duty blocked in a
   * request is interrupted; the clients closed next end what is left), each later step is a local close.
   */
  @Override
  public void close() throws IOException {
    long start = System.nanoTime();
    closing = true;
    duties.shutdownNow();
    if (orphanScans != null) {
      orphanScans.shutdownNow();
    }
    if (repairs != null) {
      repairs.shutdownNow();
    }
    boolean stopped = true;
    try {
      long deadline = System.nanoTime() + DUTIES_STOP.toNanos();
      stopped = duties.awaitTermination(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (repairs != null) {
        stopped &= repairs.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
      if (orphanScans != null) {
        stopped &= orphanScans.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    long dutiesMs = (System.nanoTime() - start) / 1_000_000;
    if (!stopped) {
      log.atWarn().addKeyValue("node", file.nodeId()).addKeyValue("waited_ms", dutiesMs)
          .log("node duties did not stop in time; closing the node under them");
    }
    if (replication != null) {
      replication.close();
    }
    directory.close();
    IOException failure = closeQuietly(groupCheck.getAndSet(null), client, raft, blockServer, blocks);
    lockChannel.close();
    log.atInfo().addKeyValue("node", file.nodeId()).addKeyValue("duties_ms", dutiesMs)
        .addKeyValue("close_ms", (System.nanoTime() - start) / 1_000_000).log("node closed");
    if (failure != null) {
      throw failure;
    }
  }

  private static IOException closeQuietly(AutoCloseable... things) {
    IOException first = null;
    for (AutoCloseable c : things) {
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (Exception e) {
        if (first == null) {
          first = e instanceof IOException io ? io : new IOException(e);
        }
      }
    }
    return first;
  }
}
