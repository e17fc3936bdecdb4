package io.dynamicfs.cluster.raft;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.apache.ratis.RaftConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;

/**
 * How one metadata replica runs: its id and gRPC address, where Raft keeps its log and the state machine
 * its RocksDB, and Ratis settings sized for a small, shared machine (DESIGN.md, 2-core machine):
 * election timeouts of a second or more, bounded thread pools, small log segments, linearizable reads.
 * Built with {@link #builder}; every setter checks its value and {@link Builder#build} the combinations,
 * naming the option at fault.
 */
public final class RaftNodeConfig {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
  /** A JVM pause no server closes itself for (Ratis' close threshold; see #toProperties). */
  private static final TimeDuration NEVER_CLOSE_ON_PAUSE = TimeDuration.valueOf(100 * 365, TimeUnit.DAYS);

  private final String id;
  private final String host;
  private final int port;
  private final Path storageDir;
  private final Duration electionMin;
  private final Duration electionMax;
  private final Duration requestTimeout;
  private final Duration readTimeout;
  private final long snapshotThreshold;
  private final long snapshotBytes;
  private final long segmentBytes;
  private final int purgeGap;
  private final int threads;
  private final boolean ephemeral;
  private final RaftTls tls;
  private final Class<? extends AppenderRpcType> rpcType;

  /** True for a replica thrown away with its process ({@link Builder#ephemeral}). */
  public boolean ephemeral() {
    return ephemeral;
  }

  private RaftNodeConfig(Builder b) {
    this.id = b.id;
    this.host = b.host;
    this.port = b.port;
    this.storageDir = b.storageDir;
    this.electionMin = b.electionMin;
    this.electionMax = b.electionMax;
    this.requestTimeout = b.requestTimeout;
    this.readTimeout = b.readTimeout;
    this.snapshotThreshold = b.snapshotThreshold;
    this.snapshotBytes = b.snapshotBytes;
    this.segmentBytes = b.segmentBytes;
    this.purgeGap = b.purgeGap;
    this.threads = b.threads;
    this.ephemeral = b.ephemeral;
    this.tls = b.tls;
    this.rpcType = b.rpcType;
  }

  /** The Ratis parameters of this replica: its TLS identity, if it has one. */
  public Parameters parameters() {
    return tls != null ? tls.parameters() : new Parameters();
  }

  /** A replica named {@code id} listening on {@code host:port}, keeping its state under {@code storageDir}. */
  public static Builder builder(String id, String host, int port, Path storageDir) {
    return new Builder(id, host, port, storageDir);
  }

  /** The group every metadata replica of cluster {@code clusterId} joins (its id derives from the name). */
  public static RaftGroup group(String clusterId, Collection<RaftPeer> peers) {
    return RaftGroup.valueOf(groupId(clusterId), peers);
  }

  public static RaftGroupId groupId(String clusterId) {
    return RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("dynamicfs-meta:" + clusterId).getBytes(StandardCharsets.UTF_8)));
  }

  public RaftPeerId peerId() {
    return RaftPeerId.valueOf(id);
  }

  /** This replica as a member of a group. */
  public RaftPeer peer() {
    return RaftPeer.newBuilder().setId(id).setAddress(host + ":" + port).build();
  }

  /** Log bytes applied between checkpoints ({@link Builder#snapshotBytes}). */
  public long snapshotBytes() {
    return snapshotBytes;
  }

  public Path storageDir() {
    return storageDir;
  }

  /** The Ratis server properties this configuration stands for. */
  public RaftProperties toProperties() {
    RaftProperties p = new RaftProperties();
    // Ratis' gRPC with a log appender that recovers from failing (RestartingLogAppender); named by class.
    p.set(RaftConfigKeys.Rpc.TYPE_KEY, rpcType.getName());
    RaftServerConfigKeys.setStorageDir(p, List.of(storageDir.toFile()));
    GrpcConfigKeys.Server.setHost(p, host);
    GrpcConfigKeys.Server.setPort(p, port);

    RaftServerConfigKeys.Rpc.setTimeoutMin(p, millis(electionMin));
    RaftServerConfigKeys.Rpc.setTimeoutMax(p, millis(electionMax));
    RaftServerConfigKeys.Rpc.setRequestTimeout(p, millis(requestTimeout));
    // A stalled JVM on a busy machine is not a reason to step down at once (default 300 ms).
    RaftServerConfigKeys.setSleepDeviationThreshold(p, millis(electionMin));
    // Ratis closes a server whose JVM was paused longer than this (60 s by default) and leaves the process
    // running without it: a node or a mount frozen for a minute (SIGSTOP, a VM or container paused) came
    // back as a zombie that answered nothing. Raft needs no such guard (terms fence an old leader, which
    // steps down on a pause anyway), so a paused server resumes as it was.
    RaftServerConfigKeys.setCloseThreshold(p, NEVER_CLOSE_ON_PAUSE);

    RaftServerConfigKeys.Read.setOption(p, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    RaftServerConfigKeys.Read.setTimeout(p, millis(readTimeout));

    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(p, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(p, snapshotThreshold);
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(p, 2);
    // The store is durable by itself; a restart checkpoints it (MetadataStateMachine#initialize).
    RaftServerConfigKeys.Snapshot.setTriggerWhenStopEnabled(p, false);

    SizeInBytes segment = SizeInBytes.valueOf(segmentBytes);
    RaftServerConfigKeys.Log.setSegmentSizeMax(p, segment);
    RaftServerConfigKeys.Log.setPreallocatedSize(p, SizeInBytes.valueOf(Math.min(segmentBytes, 4L << 20)));
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(p, true);
    RaftServerConfigKeys.Log.setPurgeGap(p, purgeGap);
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(p, true);
    // Send new entries at once instead of waiting 10 ms to batch them: a mount's every metadata op waits
    // for the commit and for its own listener replica (measured in-JVM on 3 nodes: 13.9 -> 9.7 ms per op
    // through a mount's journal, open barrier 3.8 -> 1.0 ms).
    RaftServerConfigKeys.Log.Appender.setWaitTimeMin(p, TimeDuration.valueOf(0, TimeUnit.MILLISECONDS));
    // Log metadata stays on (the default) although it doubles the entries (each commit appends a METADATAENTRY
    // that every replica writes and syncs): that entry is what carries a new commit index to followers and
    // listeners at once. Without it they learn it from the next heartbeat, and a mount's op, which waits for
    // its own listener to apply, took 500 ms instead of ~10 (measured in-JVM, 3 nodes and a mount).
    // A checkpoint goes to a new replica in chunks, and Ratis 3.2.2 keeps each chunk it sent alive until that
    // chunk's timeout has passed (the timeout task holds the request), answered or not: what a leader holds is
    // the install's rate times the timeout. With 4 MiB chunks and the 3 s request timeout, a mount joining a
    // cluster with 370 MB of metadata took voters with 512 MB heaps out of memory, one after the other (they
    // sent about 100 MB/s). 1 MiB chunks, at most 4 unanswered and 1 s each bound it to a third of that; a
    // chunk not answered within 1 s fails the install, which Ratis starts again. (Pulling the checkpoint from
    // the follower's side, as DESIGN.md describes, would take Ratis out of this path.)
    RaftServerConfigKeys.Log.Appender.setSnapshotChunkSizeMax(p, SizeInBytes.valueOf("1MB"));
    GrpcConfigKeys.Server.setInstallSnapshotRequestElementLimit(p, 4);
    GrpcConfigKeys.Server.setInstallSnapshotRequestTimeout(p, TimeDuration.valueOf(1, TimeUnit.SECONDS));
    if (ephemeral) {
      RaftServerConfigKeys.Log.setUnsafeFlushEnabled(p, true);
    }
    RaftServerConfigKeys.Log.setSegmentCacheNumMax(p, 2);

    RaftServerConfigKeys.ThreadPool.setProxyCached(p, false);
    RaftServerConfigKeys.ThreadPool.setProxySize(p, threads);
    RaftServerConfigKeys.ThreadPool.setServerCached(p, false);
    RaftServerConfigKeys.ThreadPool.setServerSize(p, threads);
    RaftServerConfigKeys.ThreadPool.setClientCached(p, false);
    RaftServerConfigKeys.ThreadPool.setClientSize(p, threads);
    GrpcConfigKeys.Server.setAsyncRequestThreadPoolCached(p, false);
    GrpcConfigKeys.Server.setAsyncRequestThreadPoolSize(p, threads);
    return p;
  }

  private static TimeDuration millis(Duration d) {
    return TimeDuration.valueOf(d.toMillis(), TimeUnit.MILLISECONDS);
  }

  @Override
  public String toString() {
    return "RaftNodeConfig{" + id + "@" + host + ":" + port + ", storage=" + storageDir + ", election="
        + electionMin.toMillis() + "-" + electionMax.toMillis() + "ms, snapshotThreshold=" + snapshotThreshold
        + ", snapshotBytes=" + snapshotBytes
        + ", segment=" + segmentBytes + ", purgeGap=" + purgeGap + ", threads=" + threads + ", ephemeral=" + ephemeral + "}";
  }

  /** Fail-fast builder: each setter checks its own value, {@link #build} the combinations. */
  public static final class Builder {
    private final String id;
    private final String host;
    private final int port;
    private final Path storageDir;
    private Duration electionMin = Duration.ofMillis(1000);
    private Duration electionMax = Duration.ofMillis(2500);
    private Duration requestTimeout = Duration.ofSeconds(3);
    private Duration readTimeout = Duration.ofSeconds(10);
    private long snapshotThreshold = 10_000;
    private long snapshotBytes = 64L << 20;
    private long segmentBytes = 8L << 20;
    private int purgeGap = 64;
    private int threads = 4;
    private boolean ephemeral;
    private RaftTls tls;
    private Class<? extends AppenderRpcType> rpcType = AppenderRpcType.class;

    private Builder(String id, String host, int port, Path storageDir) {
      require(id != null && ID.matcher(id).matches(), "peer id '" + id + "' must be 1-64 of [A-Za-z0-9_-]");
      require(host != null && !host.isBlank(), "host must be given");
      require(port > 0 && port < 65536, "port " + port + " must be in 1..65535");
      this.id = id;
      this.host = host;
      this.port = port;
      this.storageDir = Objects.requireNonNull(storageDir, "storageDir");
    }

    /** Election timeout range; Ratis' 150-300 ms default churns leaders on a loaded machine. */
    public Builder electionTimeout(Duration min, Duration max) {
      require(min.toMillis() >= 200, "election timeout min " + min.toMillis() + " ms is below 200 ms");
      require(max.compareTo(min) > 0, "election timeout max " + max.toMillis() + " ms must exceed min "
          + min.toMillis() + " ms");
      this.electionMin = min;
      this.electionMax = max;
      return this;
    }

    public Builder requestTimeout(Duration t) {
      require(t.toMillis() >= 100, "request timeout " + t.toMillis() + " ms is below 100 ms");
      this.requestTimeout = t;
      return this;
    }

    /**
     * How long a linearizable read waits on the server for its read index to be confirmed and applied before
     * the server fails it (the client then asks again: {@link RaftMetaClient}).
     */
    public Builder readTimeout(Duration t) {
      require(t.toMillis() >= 100, "read timeout " + t.toMillis() + " ms is below 100 ms");
      this.readTimeout = t;
      return this;
    }

    /** Applied entries between automatic checkpoints (after which the log is purged). */
    public Builder snapshotThreshold(long entries) {
      require(entries >= 1, "snapshot threshold " + entries + " must be at least 1");
      this.snapshotThreshold = entries;
      return this;
    }

    /**
     * Log bytes applied between checkpoints, whatever the entry count ({@link SnapshotTrigger}): bounds the
     * log a replica keeps and what a new or lagging one replays.
     */
    public Builder snapshotBytes(long bytes) {
      require(bytes >= 64 << 10, "snapshot size " + bytes + " is below 64 KiB");
      this.snapshotBytes = bytes;
      return this;
    }

    public Builder segmentBytes(long bytes) {
      require(bytes >= 16 << 10, "log segment size " + bytes + " is below 16 KiB");
      this.segmentBytes = bytes;
      return this;
    }

    /** Log entries that must separate two purges (Ratis purges closed segments only). */
    public Builder purgeGap(int entries) {
      require(entries >= 1, "purge gap " + entries + " must be at least 1");
      this.purgeGap = entries;
      return this;
    }

    /** Size of each of Ratis' server, proxy, client and gRPC request pools. */
    public Builder threads(int n) {
      require(n >= 1 && n <= 64, "thread pool size " + n + " must be in 1..64");
      this.threads = n;
      return this;
    }

    /**
     * A replica whose log and store may be lost with no harm (off by default): a mount's listener, which
     * neither votes nor counts for a commit and is thrown away when the mount ends. Its log is not synced
     * before an entry counts as written, and its store writes no RocksDB WAL
     * ({@link io.dynamicfs.core.meta.MetadataStore#openEphemeral}); its op then waits for no disk at all.
     */
    public Builder ephemeral(boolean ephemeral) {
      this.ephemeral = ephemeral;
      return this;
    }

    /** Mutual TLS on every channel under the cluster's identity (none: plain, as in-JVM tests run). */
    public Builder tls(RaftTls identity) {
      this.tls = identity;
      return this;
    }

    /** The transport, by class as Ratis names it; tests put a faulty log appender in this way. */
    Builder rpcType(Class<? extends AppenderRpcType> type) {
      this.rpcType = Objects.requireNonNull(type, "rpcType");
      return this;
    }

    public RaftNodeConfig build() {
      return new RaftNodeConfig(this);
    }

    private static void require(boolean ok, String message) {
      if (!ok) {
        throw new IllegalArgumentException(message);
      }
    }
  }
}
