package io.dynamicfs.cluster.blocks;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Placement;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The live block nodes a client places blocks on, and what it has lately seen of their health.
 *
 * <p>Membership is replaced whole by {@link #setNodes} (later fed by the membership the Raft group
 * replicates); each call of {@link #placementOrder}, {@link #writeOrder} or {@link #readOrder} works on one
 * consistent membership. A node that failed a request for a reason that says "unreachable" (timeout, refused
 * or dropped connection: EIO) is <em>suspect</em> for {@code suspectFor}: it keeps its place in the placement
 * order but is tried after every healthy node, so one dead node costs a client one timeout per
 * {@code suspectFor}, not one per block. A success clears it at once.
 *
 * <p>Thread-safe: the membership is an immutable map behind a volatile field, suspicion a concurrent map of
 * deadlines read with the injected ticker.
 */
public final class NodeSet {
  private static final Logger log = LoggerFactory.getLogger(NodeSet.class);

  private final long suspectNanos;
  private final LongSupplier ticker;
  /** The membership, replaced whole, never mutated. */
  private volatile Members members = new Members(Map.of(), new int[0], List.of());
  /** Node number → ticker value until which it is suspect. */
  private final ConcurrentHashMap<Integer, Long> suspectUntil = new ConcurrentHashMap<>();

  /** A set whose failed nodes are suspect for {@code suspectFor}, timed by {@code ticker} (nanoseconds). */
  public NodeSet(Duration suspectFor, LongSupplier ticker) {
    if (suspectFor.isNegative()) {
      throw new IllegalArgumentException("suspectFor " + suspectFor + " is negative");
    }
    this.suspectNanos = suspectFor.toNanos();
    this.ticker = ticker;
  }

  /** A set with suspicion lasting 30 s on {@link System#nanoTime}. */
  public NodeSet() {
    this(Duration.ofSeconds(30), System::nanoTime);
  }

  /** Replaces the membership; node numbers must be distinct. Suspicion of nodes that stay is kept. */
  public void setNodes(Collection<BlockNode> nodes) {
    setNodes(nodes, List.of());
  }

  /**
   * Replaces the membership with {@code writable} nodes, which take new blocks, and {@code readOnly} ones
   * (a draining node: its blocks are moving away), which are read from and deleted on but never placed on.
   * Node numbers must be distinct across both.
   */
  public void setNodes(Collection<BlockNode> writable, Collection<BlockNode> readOnly) {
    Map<Integer, BlockNode> m = new TreeMap<>();
    for (BlockNode n : writable) {
      if (m.put(n.number(), n) != null) {
        throw new IllegalArgumentException("node number " + n.number() + " appears twice");
      }
    }
    int[] nums = m.keySet().stream().mapToInt(Integer::intValue).toArray();
    List<BlockNode> ro = new ArrayList<>();
    for (BlockNode n : readOnly) {
      if (m.put(n.number(), n) != null) {
        throw new IllegalArgumentException("node number " + n.number() + " appears twice");
      }
      ro.add(n);
    }
    ro.sort(java.util.Comparator.comparingInt(BlockNode::number));
    members = new Members(Collections.unmodifiableMap(m), nums, List.copyOf(ro));
    suspectUntil.keySet().retainAll(m.keySet());
  }

  /** Whether node {@code number} is a member that takes no new blocks (draining). */
  public boolean isReadOnly(int number) {
    for (BlockNode n : members.readOnly()) {
      if (n.number() == number) {
        return true;
      }
    }
    return false;
  }

  /** The live nodes (writable and read-only), ascending by number. */
  public List<BlockNode> nodes() {
    return List.copyOf(members.byNumber().values());
  }

  /** The live node with that number, or null. */
  public BlockNode node(int number) {
    return members.byNumber().get(number);
  }

  /** The member nodes' store figures added up (a block counts once per copy or shard it has there). */
  public io.dynamicfs.core.block.StoreStats stats() {
    io.dynamicfs.core.block.StoreStats sum = io.dynamicfs.core.block.StoreStats.EMPTY;
    for (BlockNode n : nodes()) {
      sum = sum.plus(n.store().stats());
    }
    return sum;
  }

  /** The number of members, writable and read-only. */
  public int size() {
    return members.byNumber().size();
  }

  /**
   * The writable nodes in rendezvous order for {@code id}, health ignored: where the block belongs.
   * Read-only (draining) nodes are not in it.
   */
  public List<BlockNode> placementOrder(BlockId id) {
    return placementOrder(id, members);
  }

  private static List<BlockNode> placementOrder(BlockId id, Members m) {
    List<BlockNode> out = new ArrayList<>(m.numbers().length);
    for (int n : Rendezvous.order(id, m.numbers())) {
      out.add(m.byNumber().get(n));
    }
    return out;
  }

  /** {@link #placementOrder} with suspect nodes moved after the healthy ones (each group keeps its order). */
  public List<BlockNode> writeOrder(BlockId id) {
    return healthyFirst(placementOrder(id));
  }

  /**
   * The order to look for a block in: the live nodes {@code hint} names (in its order; -1 entries and nodes no
   * longer live are skipped), then the rest in rendezvous order, then read-only nodes; suspect nodes after
   * healthy ones.
   */
  public List<BlockNode> readOrder(BlockId id, Placement hint) {
    Members m = members;
    List<BlockNode> placed = placementOrder(id, m);
    if (!m.readOnly().isEmpty()) {
      placed.addAll(m.readOnly());
    }
    if (hint == null || hint.locations().isEmpty()) {
      return healthyFirst(placed);
    }
    Set<BlockNode> ordered = new LinkedHashSet<>();
    for (int n : hint.locations()) {
      BlockNode node = n < 0 ? null : m.byNumber().get(n);
      if (node != null) {
        ordered.add(node);
      }
    }
    ordered.addAll(placed);
    return healthyFirst(new ArrayList<>(ordered));
  }

  /** Whether the node failed as unreachable within the last {@code suspectFor}. */
  public boolean isSuspect(int number) {
    Long until = suspectUntil.get(number);
    if (until == null) {
      return false;
    }
    if (ticker.getAsLong() - until >= 0) {
      suspectUntil.remove(number, until);
      return false;
    }
    return true;
  }

  /**
   * Records a failed request. Unreachable (FsException EIO, or anything that is not an FsException: an
   * unchecked wrapper, a bug) makes the node suspect; an answer with another errno (ENOENT, ENOSPC, EINVAL…)
   * came from a working node and does not.
   */
  public void failed(BlockNode node, Throwable cause) {
    Throwable t = cause instanceof UncheckedIOException u ? u.getCause() : cause;
    if (t instanceof FsException fe && fe.errno() != Errno.EIO) {
      return;
    }
    Long before = suspectUntil.put(node.number(), ticker.getAsLong() + suspectNanos);
    if (before == null) {
      log.atWarn().addKeyValue("node", node.number()).addKeyValue("address", node.address().toString())
          .addKeyValue("error", String.valueOf(t)).log("block node suspect: tried last for a while");
    }
  }

  /** Records a successful request: the node is no longer suspect. */
  public void succeeded(BlockNode node) {
    if (suspectUntil.remove(node.number()) != null) {
      log.atInfo().addKeyValue("node", node.number()).log("block node answers again");
    }
  }

  private List<BlockNode> healthyFirst(List<BlockNode> order) {
    if (suspectUntil.isEmpty()) {
      return order;
    }
    List<BlockNode> healthy = new ArrayList<>(order.size());
    List<BlockNode> suspect = new ArrayList<>();
    for (BlockNode n : order) {
      (isSuspect(n.number()) ? suspect : healthy).add(n);
    }
    healthy.addAll(suspect);
    return healthy;
  }

  /**
   * Number → node (ascending, every member), the writable numbers as an array for {@link Rendezvous#order},
   * and the read-only members.
   */
  private record Members(Map<Integer, BlockNode> byNumber, int[] numbers, List<BlockNode> readOnly) {}
}
