package io.dynamicfs.cli.admin;

import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.raft.RaftMetaServer;
import io.dynamicfs.cluster.transport.BlockServerStats;
import io.dynamicfs.core.block.StoreStats;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The admin endpoints of a cluster node (a node serves no filesystem, so none of a mount's):
 * {@code GET /v1/status} — who the node is, its metadata replica's Raft figures (none on a block-only
 * node), its block store and its block server's totals.
 */
public final class NodeEndpoints {
  private NodeEndpoints() {}

  public static AdminRoutes register(AdminRoutes routes, ClusterNode node, long startedMillis, String version) {
    return routes.get("/v1/status", "The node: identity, Raft role, term, commit and applied index, store, "
        + "block server totals", req -> status(node, startedMillis, version));
  }

  static Map<String, Object> status(ClusterNode node, long startedMillis, String version) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("version", version);
    s.put("pid", ProcessHandle.current().pid());
    s.put("started", Instant.ofEpochMilli(startedMillis).toString());
    s.put("uptime_seconds", (System.currentTimeMillis() - startedMillis) / 1000);
    s.put("data", node.data().toString());
    s.put("node_id", node.file().nodeId());
    s.put("cluster_id", node.file().clusterId().toString());
    s.put("listen", node.file().listen().raftAddress());
    s.put("voter", node.file().voter());
    RaftMetaServer raft = node.raft();
    if (raft != null) {
      RaftMetaServer.Figures f = raft.figures();
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("role", f.role());
      r.put("term", f.term());
      r.put("leader_peer", f.leader());
      r.put("commit_index", f.commitIndex());
      r.put("applied_index", f.appliedIndex());
      s.put("raft", r);
    }
    StoreStats st = node.blocks().stats();
    Map<String, Object> store = new LinkedHashMap<>();
    store.put("blocks", st.blocks());
    store.put("stored_bytes", st.storedBytes());
    store.put("file_bytes", st.fileBytes());
    store.put("free_bytes", node.freeBytes());
    s.put("store", store);
    BlockServerStats b = node.blockServerStats();
    Map<String, Object> server = new LinkedHashMap<>();
    server.put("requests", b.requests());
    server.put("errors", b.errors());
    server.put("received_bytes", b.bytesIn());
    server.put("sent_bytes", b.bytesOut());
    s.put("block_server", server);
    return s;
  }
}
