package io.dynamicfs.cli.metrics;

import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.node.OrphanScan;
import io.dynamicfs.cluster.node.ReplicationManager;
import io.dynamicfs.cluster.raft.RaftMetaServer;
import io.dynamicfs.cluster.transport.BlockServerStats;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.List;

/**
 * A cluster node's meters: its metadata replica (role as a state set, term, commit and applied index; absent on
 * a block-only node), its block server (requests, errors, bytes in and out), its block store (blocks,
 * segment bytes, free bytes under it), its orphan scan (scans, copies and bytes removed) and its replication
 * manager's repairs (metadata nodes). All are read when scraped.
 */
public final class NodeMetrics {
  static final List<String> ROLES = List.of("leader", "follower", "candidate", "listener");

  private NodeMetrics() {}

  public static void bind(ClusterNode node, MeterRegistry r) {
    RaftMetaServer raft = node.raft();
    if (raft != null) {
      bindReplica(raft, r);
    }
    BlockServerStats b = node.blockServerStats();
    FunctionCounter.builder("dfs.block.server.requests", b, BlockServerStats::requests)
        .description("Block requests this node has run").register(r);
    FunctionCounter.builder("dfs.block.server.errors", b, BlockServerStats::errors)
        .description("Block requests answered with an error").register(r);
    FunctionCounter.builder("dfs.block.server.received", b, BlockServerStats::bytesIn).baseUnit("bytes")
        .description("Request payload bytes received").register(r);
    FunctionCounter.builder("dfs.block.server.sent", b, BlockServerStats::bytesOut).baseUnit("bytes")
        .description("Answer payload bytes sent").register(r);
    Gauge.builder("dfs.node.store.blocks", node, n -> n.blocks().stats().blocks())
        .description("Block copies and shards this node holds").register(r);
    Gauge.builder("dfs.node.store.file.bytes", node, n -> n.blocks().stats().fileBytes()).baseUnit("bytes")
        .description("Bytes of this node's segment files").register(r);
    Gauge.builder("dfs.node.store.free.bytes", node, ClusterNode::freeBytes).baseUnit("bytes")
        .description("Usable bytes on the filesystem under this node's blocks").register(r);
    OrphanScan o = node.orphanScan();
    if (o != null) {
      FunctionCounter.builder("dfs.orphan.scan.removed", o, OrphanScan::removed)
          .description("Block copies the orphan scan removed (no record placed them here, untouched for the grace)")
          .register(r);
      FunctionCounter.builder("dfs.orphan.scan.freed", o, OrphanScan::removedBytes).baseUnit("bytes")
          .description("Stored bytes of the copies the orphan scan removed").register(r);
      FunctionCounter.builder("dfs.orphan.scans", o, OrphanScan::scans)
          .description("Orphan scans this node ran").register(r);
    }
    ReplicationManager m = node.replication();
    if (m != null) {
      FunctionCounter.builder("dfs.replication.repaired", m, ReplicationManager::repaired)
          .description("Blocks whose copies or shards this node re-created while it led").register(r);
      FunctionCounter.builder("dfs.replication.failed", m, ReplicationManager::failed)
          .description("Repairs that found no node to take a copy, or whose commit failed").register(r);
      FunctionCounter.builder("dfs.replication.lost", m, ReplicationManager::lost)
          .description("Repairs that found no readable copy (fewer than K shards) left").register(r);
    }
  }

  /** A cluster mount's metadata journal (asynchronous metadata: docs/cluster-async-metadata.md). */
  public static void bindJournal(io.dynamicfs.cluster.mount.ClusterMounts conn, MeterRegistry r) {
    FunctionCounter.builder("dfs.meta.applied.ahead", conn, c -> c.journalFigures().appliedAhead())
        .description("Metadata ops this mount answered before their Raft round (under its directory leases)")
        .register(r);
    Gauge.builder("dfs.meta.in.flight", conn, c -> c.journalFigures().inFlight())
        .description("Metadata ops this mount has sent and the cluster has not answered yet").register(r);
    FunctionCounter.builder("dfs.meta.lease.recalls", conn, c -> c.journalFigures().recallsMade())
        .description("Directory leases of other mounts this mount recalled").register(r);
    FunctionCounter.builder("dfs.meta.lease.given.back", conn, c -> c.journalFigures().leasesGivenBack())
        .description("Directory leases this mount gave back because another mount recalled them").register(r);
  }

  /** The Raft figures of a metadata replica (a node's, or a cluster mount's listener). */
  public static void bindReplica(RaftMetaServer raft, MeterRegistry r) {
    for (String role : ROLES) {
      Gauge.builder("dfs.raft.role", raft, s -> s.figures().role().equals(role) ? 1 : 0).tag("role", role)
          .description("1 for this replica's current role in the metadata group").register(r);
    }
    Gauge.builder("dfs.raft.term", raft, s -> s.figures().term()).description("Current Raft term").register(r);
    Gauge.builder("dfs.raft.commit.index", raft, s -> s.figures().commitIndex())
        .description("Highest log index this replica knows committed").register(r);
    Gauge.builder("dfs.raft.applied.index", raft, s -> s.figures().appliedIndex())
        .description("Log index this replica's store has applied").register(r);
  }
}
