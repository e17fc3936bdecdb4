package io.dynamicfs.cli.admin;

import io.dynamicfs.cluster.mount.ClusterMounts;
import io.dynamicfs.cluster.node.ClusterAdmin;
import io.dynamicfs.cluster.node.ClusterScrub;
import io.dynamicfs.core.storage.ByteRate;
import io.dynamicfs.cluster.transport.Reclaimer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A cluster mount's part of the admin API: for {@code GET /v1/status} the cluster as the mount sees it (one
 * status round), for {@code POST /v1/gc} the metadata leader's reclaim of blocks pending deletion, for
 * {@code POST /v1/scrub} a scrub of the cluster (what {@code scrub --cluster} runs, from this mount's replica).
 */
public final class ClusterMountSide implements DaemonContext.ClusterSide {
  private final ClusterMounts conn;

  public ClusterMountSide(ClusterMounts conn) {
    this.conn = conn;
  }

  @Override
  public Map<String, Object> status() throws IOException {
    ClusterMounts.View v = conn.view();
    ClusterAdmin.Status c = v.cluster();
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("cluster_id", c.clusterId());
    s.put("leader", c.leader());
    s.put("term", c.term());
    s.put("commit_index", c.commitIndex());
    Map<String, Object> replica = new LinkedHashMap<>();
    replica.put("role", v.replica().role());
    replica.put("applied_index", v.replica().appliedIndex());
    replica.put("lag_entries", v.replicaLag());
    s.put("replica", replica);
    List<Map<String, Object>> members = new ArrayList<>();
    long blocks = 0;
    long used = 0;
    long free = 0;
    for (ClusterAdmin.Member m : c.members()) {
      Map<String, Object> n = new LinkedHashMap<>();
      n.put("node_id", m.nodeId());
      n.put("role", m.role());
      n.put("health", m.health());
      n.put("last_contact_ms", m.lastContactMs());
      n.put("commit_index", m.commitIndex());
      n.put("blocks", m.blocks());
      n.put("used_bytes", m.usedBytes());
      n.put("free_bytes", m.freeBytes());
      members.add(n);
      blocks += Math.max(0, m.blocks());
      used += Math.max(0, m.usedBytes());
      free += Math.max(0, m.freeBytes());
    }
    s.put("members", members);
    List<Map<String, Object>> mounts = new ArrayList<>();
    for (ClusterAdmin.MountReplica r : c.mounts()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("replica", r.id());
      m.put("address", r.address());
      m.put("last_contact_ms", r.lastContactMs());
      mounts.add(m);
    }
    s.put("mounts", mounts);
    s.put("node_blocks", blocks);
    s.put("node_used_bytes", used);
    s.put("node_free_bytes", free);
    return s;
  }

  @Override
  public Map<String, Object> scrub(boolean repair, long bytesPerSecond) throws IOException {
    ClusterScrub.Report r = ClusterScrub.run(conn.replica(), conn.meta(), conn.nodeDirectory(), conn.redundancy(),
        repair, conn::catchUp, new ByteRate(bytesPerSecond));
    return ClusterScrubJson.of(r, repair);
  }

  @Override
  public Map<String, Object> gc(boolean apply) throws IOException {
    Reclaimer.Report r = conn.reclaim(apply);
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("cluster", true);
    s.put("applied", apply);
    s.put("pending_blocks", r.pending());
    s.put("due_blocks", r.due());
    s.put("purged_blocks", r.purged());
    s.put("deleted_copies", r.copiesDeleted());
    return s;
  }
}
