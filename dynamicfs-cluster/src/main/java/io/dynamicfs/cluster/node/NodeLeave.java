package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.raft.MetaQuery;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.Redundancy;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code cluster leave}: takes a node out of a running cluster without losing a copy.
 *
 * <ol>
 *   <li>Refuses (EINVAL, nothing changed) an unknown node, a leave that would leave fewer live ACTIVE
 *       nodes than the redundancy needs, and a voter's leave that would leave the metadata group without
 *       a live majority (or without voters).
 *   <li>Marks the node DRAINING: clients stop placing blocks on it, and the leader's
 *       {@link ReplicationManager} copies each block it holds to another node before committing the new
 *       placement.
 *   <li>Waits until no referenced block names it, then once more after {@code settle} (a mount that had
 *       not yet seen DRAINING may have placed a block there meanwhile).
 *   <li>Marks it REMOVED, then removes it from the Raft voters if it is one. The node learns it is REMOVED
 *       from its replica or, once out of the group, by asking the group, and stops.
 * </ol>
 * Each step looks at what is already done, so running leave again after an interruption resumes.
 */
public final class NodeLeave {
  private static final Logger log = LoggerFactory.getLogger(NodeLeave.class);

  /** Where progress goes (the CLI prints it). */
  public interface Progress {
    void blocksLeft(long blocks);
  }

  /** How a leave ended: removed now, or found already removed. */
  public enum Outcome { REMOVED, ALREADY_REMOVED }

  private final ClusterAdmin admin;
  private final Endpoint asked;
  private final Duration poll;
  private final Duration settle;

  /** {@code asked}: the node the user named with {@code --peer} (status and the voter list come from it). */
  public NodeLeave(ClusterAdmin admin, Endpoint asked, Duration poll, Duration settle) {
    this.admin = admin;
    this.asked = asked;
    this.poll = poll;
    this.settle = settle;
  }

  /** The checks alone: EINVAL with the reason when {@code nodeId} may not leave now. */
  public MetadataStore.Node check(String nodeId) throws FsException {
    MetadataStore.Node node = find(nodeId);
    if (node.state().equals("REMOVED")) {
      return node;
    }
    MetaOp.SetClusterConfig config = admin.meta().query(new MetaQuery.Config());
    Redundancy r = Redundancy.parse(config.redundancy());
    int needed = r instanceof Redundancy.Replicate rep ? rep.copies() : r.minDevices();
    ClusterAdmin.Status st = admin.status(asked);
    List<ClusterAdmin.Member> live = st.members().stream()
        .filter(m -> !m.nodeId().equals(nodeId) && m.state().equals("active") && !m.health().equals("unreachable"))
        .toList();
    if (live.size() < needed) {
      throw FsException.of(Errno.EINVAL, "node '%s' cannot leave: %d live node(s) would remain (%s) and %s needs %d",
          nodeId, live.size(), live.stream().map(ClusterAdmin.Member::nodeId).toList(), config.redundancy(), needed);
    }
    Endpoint at = Endpoint.parse("node address", node.raftAddress());
    Set<String> voters = admin.voterIds(asked);
    if (voters.contains(at.peerId())) {
      int remain = voters.size() - 1;
      long up = st.members().stream().filter(m -> !m.nodeId().equals(nodeId) && !m.health().equals("unreachable"))
          .filter(m -> {
            try {
              return voters.contains(Endpoint.parse("node address", m.address()).peerId());
            } catch (FsException e) {
              return false;
            }
          }).count();
      if (remain == 0) {
        throw FsException.of(Errno.EINVAL, "node '%s' is the cluster's only metadata voter and cannot leave", nodeId);
      }
      if (up * 2 <= remain) {
        throw FsException.of(Errno.EINVAL, "node '%s' cannot leave: of the %d metadata voters that would remain "
            + "only %d answer, not a majority", nodeId, remain, up);
      }
    }
    return node;
  }

  /** Runs the whole leave (see the class comment); returns once the node is REMOVED. */
  public Outcome leave(String nodeId, Progress progress) throws FsException {
    MetadataStore.Node node = check(nodeId);
    Endpoint at = Endpoint.parse("node address", node.raftAddress());
    if (node.state().equals("REMOVED")) {
      admin.removeVoter(at); // an interrupted leave may have stopped between the two
      return Outcome.ALREADY_REMOVED;
    }
    long now = System.currentTimeMillis() * 1_000_000L;
    if (node.state().equals("ACTIVE")) {
      admin.meta().submit(new MetaOp.SetNodeState(nodeId, "DRAINING", now)).orThrow();
      log.atInfo().addKeyValue("node", nodeId).log("node draining");
    }
    long last = -1;
    boolean settled = false;
    while (true) {
      long left = admin.meta().query(new MetaQuery.BlocksOn(node.number()));
      if (left != last) {
        progress.blocksLeft(left);
        last = left;
      }
      if (left == 0) {
        if (settled) {
          break;
        }
        settled = true;
        sleep(settle);
        continue;
      }
      settled = false;
      sleep(poll);
    }
    // REMOVED first, while the node is still in the group: a voter may read it from its own replica (out of
    // the group it learns it by asking the others). The group then needs a majority of the other voters,
    // which check() made sure answer.
    admin.meta().submit(new MetaOp.SetNodeState(nodeId, "REMOVED", System.currentTimeMillis() * 1_000_000L))
        .orThrow();
    admin.removeVoter(at);
    log.atInfo().addKeyValue("node", nodeId).log("node removed from the cluster");
    return Outcome.REMOVED;
  }

  private MetadataStore.Node find(String nodeId) throws FsException {
    List<MetadataStore.Node> nodes = admin.nodes();
    for (MetadataStore.Node n : nodes) {
      if (n.nodeId().equals(nodeId)) {
        return n;
      }
    }
    throw FsException.of(Errno.EINVAL, "no node '%s' in cluster %s (its nodes: %s)", nodeId,
        admin.token().clusterId(), nodes.stream().map(MetadataStore.Node::nodeId).toList());
  }

  private static void sleep(Duration d) throws FsException {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new FsException(Errno.EIO, "interrupted; run cluster leave again to resume");
    }
  }
}
