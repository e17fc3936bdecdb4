package io.dynamicfs.cluster.node;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetadataStore;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the leader does about a metadata voter that has died for good, decided from the node table, the
 * group's voters and the leader's outage clocks (those of its {@link ReplicationManager}); the leader
 * carries the step out ({@link ClusterNode}).
 *
 * <p>A voter that has not answered for {@code after} is taken out of the group when another node can take its
 * seat: it is marked DRAINING (clients stop placing blocks on it; its blocks are copied from their other
 * copies as for any dead node) and removed from the voters at once, so the group is back to three voters
 * as soon as the spare, the block-only node that {@code promoteIfNeeded} picks (the ACTIVE non-voter with the
 * lowest number), promotes itself. Once no referenced block has named it for a while (a mount may have placed
 * one there before it saw DRAINING), it is marked REMOVED: should it come back, it stops.
 *
 * <p>Nothing is done without a reachable spare (a three-voter group with one dead voter tolerates no more
 * failures, and neither would two voters; keeping the dead one lets it rejoin if it comes back), when the
 * other nodes cannot hold the copies the redundancy asks for, when the voters that would remain do not have
 * a reachable majority, or while the group already has fewer than three voters (a replacement is under way).
 * The outage clocks are the leader's own, so a new leader starts over: that only delays a replacement.
 * CockroachDB replaces the replicas of a store dead for 5 minutes the same way; the default here is 30.
 */
final class VoterReplacement {
  /** A step for the leader. */
  sealed interface Step {}

  /** Nothing to do. */
  record Idle() implements Step {}

  /** Mark {@code node} DRAINING and remove it from the voters. */
  record Replace(MetadataStore.Node node, Duration unreachable, MetadataStore.Node spare) implements Step {}

  /** A voter is dead for good but no node can take its seat (said once per outage by the leader). */
  record NoSpare(MetadataStore.Node node, String why) implements Step {}

  /**
   * {@code node} is DRAINING and not a voter: REMOVED once no referenced block has named it for
   * {@link ClusterNode#FINISH_SETTLE_PERIODS} duty periods. (A {@code cluster leave} in progress does the
   * same; whichever comes first, the node ends REMOVED.)
   */
  record Finish(MetadataStore.Node node) implements Step {}

  private static final Step IDLE = new Idle();

  private final Duration after;

  /** {@code after}: how long a voter may be unreachable before it is replaced; zero: never. */
  VoterReplacement(Duration after) {
    if (after.isNegative()) {
      throw new IllegalArgumentException("voter replacement delay must not be negative: " + after);
    }
    this.after = after;
  }

  /**
   * The next step. {@code voters}: the peer ids of the group's voters; {@code outages}: node number → how long
   * it has not answered (reachable nodes absent); {@code copies}: how many live ACTIVE nodes the redundancy
   * needs.
   */
  Step next(List<MetadataStore.Node> table, Set<String> voters, Map<Integer, Duration> outages, int copies)
      throws FsException {
    if (after.isZero()) {
      return IDLE;
    }
    for (MetadataStore.Node n : table) {
      if (n.state().equals("DRAINING") && !voters.contains(peerId(n))) {
        return new Finish(n);
      }
    }
    if (voters.size() < ClusterNode.MAX_VOTERS) {
      return IDLE;
    }
    MetadataStore.Node victim = null;
    for (MetadataStore.Node n : table) {
      if (n.state().equals("ACTIVE") && voters.contains(peerId(n)) && dead(n, outages)
          && (victim == null || n.number() < victim.number())) {
        victim = n;
      }
    }
    if (victim == null) {
      return IDLE;
    }
    MetadataStore.Node spare = null;
    int live = 0;
    for (MetadataStore.Node n : table) {
      if (n == victim || !n.state().equals("ACTIVE")) {
        continue;
      }
      if (!outages.containsKey(n.number())) {
        live++;
      }
      if (!voters.contains(peerId(n)) && (spare == null || n.number() < spare.number())) {
        spare = n; // the one promoteIfNeeded picks, reachable or not
      }
    }
    if (spare == null) {
      return new NoSpare(victim, "no block-only node to take its seat; add one with cluster-join");
    }
    if (outages.containsKey(spare.number())) {
      return new NoSpare(victim, "node '" + spare.nodeId() + "', the one to take its seat, does not answer either");
    }
    if (live < copies) {
      return new NoSpare(victim, live + " live node(s) would remain and the redundancy needs " + copies);
    }
    Set<String> remain = new HashSet<>(voters);
    remain.remove(peerId(victim));
    long up = table.stream().filter(n -> !outages.containsKey(n.number())).map(VoterReplacement::peerIdOrNull)
        .filter(remain::contains).count();
    if (up * 2 <= remain.size()) {
      return new NoSpare(victim, "of the " + remain.size() + " voters that would remain only " + up + " answer");
    }
    return new Replace(victim, outages.get(victim.number()), spare);
  }

  private boolean dead(MetadataStore.Node n, Map<Integer, Duration> outages) {
    Duration d = outages.get(n.number());
    return d != null && d.compareTo(after) >= 0;
  }

  private static String peerId(MetadataStore.Node n) throws FsException {
    return Endpoint.parse("node address", n.raftAddress()).peerId();
  }

  private static String peerIdOrNull(MetadataStore.Node n) {
    try {
      return peerId(n);
    } catch (FsException e) {
      return null;
    }
  }
}
