package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.blocks.BlockNode;
import io.dynamicfs.cluster.blocks.NodeSet;
import io.dynamicfs.cluster.transport.BlockClientGroup;
import io.dynamicfs.cluster.transport.BlockTls;
import io.dynamicfs.cluster.transport.ClusterCredentials;
import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.Closeable;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a {@link NodeSet} in step with the nodes table of the replicated metadata: one
 * {@link RemoteBlockStore} per node that is not REMOVED, opened when a node appears and closed when it goes.
 * ACTIVE nodes take new blocks; DRAINING ones are read-only members (read from, never placed on). {@link #refresh} is cheap when nothing changed.
 */
public final class NodeDirectory implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(NodeDirectory.class);

  /** The current nodes table; read from a local replica or through a Raft query. */
  @FunctionalInterface
  public interface NodeTable {
    List<MetadataStore.Node> nodes() throws FsException;
  }

  private final NodeTable table;
  private final ClusterCredentials credentials;
  private final BlockTls tls;
  private final BlockClientGroup group;
  private final NodeSet nodes = new NodeSet();
  private final Duration timeout;
  // @GuardedBy("this")
  private final Map<Integer, Open> open = new HashMap<>();

  private record Open(MetadataStore.Node node, RemoteBlockStore store) {}

  /** {@code tls}: how to reach the nodes' block ports (null: plain). */
  public NodeDirectory(NodeTable table, ClusterCredentials credentials, BlockTls tls, Duration timeout) {
    this.table = table;
    this.credentials = credentials;
    this.tls = tls;
    this.timeout = timeout;
    this.group = new BlockClientGroup(1);
  }

  public NodeSet nodes() {
    return nodes;
  }

  /** Re-reads the nodes table and updates the set; a failed read keeps the current set. */
  public synchronized void refresh() {
    List<MetadataStore.Node> now;
    try {
      now = table.nodes();
    } catch (FsException e) {
      log.atWarn().addKeyValue("error", e.getMessage()).log("cannot read the cluster's nodes table");
      return;
    }
    Map<Integer, MetadataStore.Node> wanted = new HashMap<>();
    for (MetadataStore.Node n : now) {
      if (!n.state().equals("REMOVED")) {
        wanted.put(n.number(), n);
      }
    }
    boolean changed = false;
    for (var it = open.entrySet().iterator(); it.hasNext(); ) {
      var e = it.next();
      MetadataStore.Node w = wanted.get(e.getKey());
      if (w == null || !w.blockAddress().equals(e.getValue().node().blockAddress())) {
        e.getValue().store().close();
        it.remove();
        changed = true;
      }
    }
    for (MetadataStore.Node n : wanted.values()) {
      Open o = open.get(n.number());
      if (o == null) {
        Endpoint block;
        try {
          block = Endpoint.parse("block address", n.blockAddress());
        } catch (FsException e) {
          log.atWarn().addKeyValue("node", n.nodeId()).addKeyValue("error", e.getMessage()).log("bad node address");
          continue;
        }
        RemoteBlockStore.Builder b = RemoteBlockStore.builder(group,
            new InetSocketAddress(block.host(), block.port()), credentials).timeout(timeout);
        RemoteBlockStore s = (tls != null ? b.tls(tls) : b).build();
        open.put(n.number(), new Open(n, s));
        changed = true;
      } else if (!o.node().state().equals(n.state())) {
        open.put(n.number(), new Open(n, o.store()));
        changed = true;
      }
    }
    if (changed) {
      List<BlockNode> writable = new ArrayList<>();
      List<BlockNode> draining = new ArrayList<>();
      for (Open o : open.values()) {
        BlockNode b = new BlockNode(o.node().number(), o.store().node(), o.store());
        (o.node().state().equals("DRAINING") ? draining : writable).add(b);
      }
      nodes.setNodes(writable, draining);
      log.atInfo().addKeyValue("nodes", writable.size()).addKeyValue("draining", draining.size())
          .log("block nodes updated");
    }
  }

  /** The open connection to node {@code number}, or null. */
  public synchronized RemoteBlockStore store(int number) {
    Open o = open.get(number);
    return o == null ? null : o.store();
  }

  @Override
  public synchronized void close() {
    for (Open o : open.values()) {
      o.store().close();
    }
    open.clear();
    group.close();
  }
}
