package io.dynamicfs.cluster.blocks;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.block.StoredBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.StringJoiner;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code replicate-R} over the cluster's block nodes: each block on R nodes chosen by rendezvous hashing
 * ({@link NodeSet#writeOrder}), written in parallel, each copy durable on its node before the node answers.
 *
 * <p><b>Writes.</b> The block goes to the first R nodes of the write order at once; a node that fails is
 * replaced by the next one in the order, until R have acknowledged or the candidates run out. The returned
 * {@link StoredBlock}'s {@link Placement} names exactly the nodes that acknowledged, in write order: metadata
 * commits that, not the theoretical top R. Fewer than R but at least {@code minCopies} is a <em>degraded</em>
 * write (warned, counted in {@link #degradedWrites}; the replication manager tops it up later); fewer than
 * {@code minCopies} fails with ENOSPC when every node that refused said ENOSPC, EIO otherwise, naming each
 * node tried and its error. Copies that did land on a failed write are left in place, never deleted: another
 * client may have just written the same (content-addressed) block there and be about to commit it; an
 * unreferenced copy is reclaimed by the nodes' orphan scan.
 *
 * <p><b>Reads</b> try one node at a time in {@link NodeSet#readOrder} (the placement hint first when the
 * caller has it, then rendezvous order, suspects last): ENOENT, EIO or a timeout move on to the next; the
 * bytes are verified against the id by the {@link io.dynamicfs.cluster.transport.RemoteBlockStore}. When none
 * can give the block: EIO naming the block and every node tried.
 *
 * <p>Thread-safe. The nodes' stores belong to whoever built the {@link NodeSet}; {@link #close} only stops this
 * store's own threads.
 */
public final class ReplicatedNodeStore implements BlockStore {
  private static final Logger log = LoggerFactory.getLogger(ReplicatedNodeStore.class);

  private final NodeSet nodes;
  private final int tier;
  private final int copies;
  private final int minCopies;
  private final ExecutorService calls;
  private final boolean ownsCalls;
  private final LongAdder degradedWrites = new LongAdder();
  private final LongAdder failedWrites = new LongAdder();

  private ReplicatedNodeStore(Builder b) {
    this.nodes = b.nodes;
    this.tier = b.tier;
    this.copies = b.copies;
    this.minCopies = b.minCopies < 0 ? defaultMinCopies(b.copies) : b.minCopies;
    this.ownsCalls = b.executor == null;
    this.calls = ownsCalls ? CallPool.create("dfs-replicate", Math.max(4, 4 * b.copies)) : b.executor;
  }

  /** The default {@code minCopies}: min(R, 2). One copy alone is lost with one disk, so it is not accepted unless asked for. */
  public static int defaultMinCopies(int copies) {
    return Math.min(copies, 2);
  }

  /** A {@code replicate-copies} store over {@code nodes}. */
  public static Builder builder(NodeSet nodes, int copies) {
    return new Builder(nodes, copies);
  }

  public int copies() {
    return copies;
  }

  public int minCopies() {
    return minCopies;
  }

  public int tier() {
    return tier;
  }

  /** Writes that succeeded with fewer than R copies since this store was built. */
  public long degradedWrites() {
    return degradedWrites.sum();
  }

  /** Writes that failed (fewer than {@code minCopies} copies) since this store was built. */
  public long failedWrites() {
    return failedWrites.sum();
  }

  /** One node's answer to a PUT: the node's stored block, or why not. */
  private record Attempt(int position, BlockNode node, StoredBlock stored, Throwable error) {}

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    Objects.checkFromIndexSize(0, length, data.length);
    List<BlockNode> order = nodes.writeOrder(id);
    ExecutorCompletionService<Attempt> done = new ExecutorCompletionService<>(calls);
    int next = 0;
    int inFlight = 0;
    while (next < order.size() && inFlight < copies) {
      submitPut(done, next, order.get(next), id, data, length);
      next++;
      inFlight++;
    }
    Map<Integer, Attempt> acked = new TreeMap<>();
    Map<BlockNode, Throwable> failed = new LinkedHashMap<>();
    while (inFlight > 0) {
      Attempt a = take(done, id);
      inFlight--;
      if (a.error() == null) {
        nodes.succeeded(a.node());
        acked.put(a.position(), a);
        continue;
      }
      nodes.failed(a.node(), a.error());
      failed.put(a.node(), a.error());
      log.atDebug().addKeyValue("block", id.toHex()).addKeyValue("node", a.node().number())
          .addKeyValue("error", String.valueOf(a.error())).log("copy not stored; trying the next node");
      if (acked.size() + inFlight < copies && next < order.size()) {
        submitPut(done, next, order.get(next), id, data, length);
        next++;
        inFlight++;
      }
    }
    if (acked.size() < minCopies) {
      failedWrites.increment();
      boolean allFull = !failed.isEmpty() && failed.values().stream()
          .allMatch(e -> e instanceof FsException fe && fe.errno() == Errno.ENOSPC);
      throw FsException.of(allFull ? Errno.ENOSPC : Errno.EIO,
          "block %s stored on %d of %d nodes, replicate-%d needs at least %d (%d live nodes; tried %s)", id,
          acked.size(), order.size(), copies, minCopies, order.size(), describe(failed, acked.values()));
    }
    List<Integer> where = new ArrayList<>(acked.size());
    for (Attempt a : acked.values()) {
      where.add(a.node().number());
    }
    if (acked.size() < copies) {
      degradedWrites.increment();
      log.atWarn().addKeyValue("block", id.toHex()).addKeyValue("copies", acked.size())
          .addKeyValue("wanted", copies).addKeyValue("nodes", where.toString())
          .addKeyValue("failed", describe(failed, List.of())).log("degraded write: fewer copies than wanted");
    }
    StoredBlock first = acked.values().iterator().next().stored();
    return new StoredBlock(id, length, first.storedLength(), first.codec(), new Placement(tier, where));
  }

  private void submitPut(ExecutorCompletionService<Attempt> done, int position, BlockNode node, BlockId id,
      byte[] data, int length) {
    done.submit(() -> {
      try {
        return new Attempt(position, node, node.store().put(id, data, length), null);
      } catch (IOException | RuntimeException e) {
        return new Attempt(position, node, null, e);
      }
    });
  }

  private static <T> T take(ExecutorCompletionService<T> done, BlockId id) throws FsException {
    try {
      Future<T> f = done.take();
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FsException.of(Errno.EIO, "interrupted while writing block %s to its nodes", id);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a node call escaped its own error handling", e.getCause());
    }
  }

  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    return get(id, null, sequential);
  }

  /** {@link #get(BlockId)} trying first the nodes {@code hint} names (the placement metadata recorded). */
  public byte[] get(BlockId id, Placement hint) throws IOException {
    return get(id, hint, false);
  }

  /** The block's verified bytes from the first node in {@link NodeSet#readOrder} that gives them. */
  public byte[] get(BlockId id, Placement hint, boolean sequential) throws IOException {
    List<BlockNode> order = nodes.readOrder(id, hint);
    Map<BlockNode, Throwable> failed = new LinkedHashMap<>();
    for (BlockNode n : order) {
      try {
        byte[] b = n.store().get(id, sequential);
        nodes.succeeded(n);
        if (!failed.isEmpty()) {
          log.atDebug().addKeyValue("block", id.toHex()).addKeyValue("node", n.number())
              .addKeyValue("missed", describe(failed, List.of())).log("block read from a later node");
        }
        return b;
      } catch (IOException | RuntimeException e) {
        nodes.failed(n, e);
        failed.put(n, e);
      }
    }
    throw FsException.of(Errno.EIO, "block %s could not be read from any of %d live nodes (%s)", id, order.size(),
        order.isEmpty() ? "no live nodes" : describe(failed, List.of()));
  }

  /**
   * A range of the block from the first node in {@link NodeSet#readOrder} that serves it (GET_RANGE: the
   * node checks its whole copy and sends the range), so a small random read moves the bytes asked for, not
   * the block. The caches above decide when a block is worth loading whole instead.
   */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    List<BlockNode> order = nodes.readOrder(id, null);
    Map<BlockNode, Throwable> failed = new LinkedHashMap<>();
    for (BlockNode n : order) {
      try {
        int got = n.store().readRange(id, offset, dst, dstOffset, length);
        if (got < 0) {
          return -1; // a node store that cannot serve ranges: the caller reads the block
        }
        nodes.succeeded(n);
        return got;
      } catch (IOException | RuntimeException e) {
        nodes.failed(n, e);
        failed.put(n, e);
      }
    }
    throw FsException.of(Errno.EIO, "range of block %s could not be read from any of %d live nodes (%s)", id,
        order.size(), order.isEmpty() ? "no live nodes" : describe(failed, List.of()));
  }

  /**
   * The first holder's record, its placement naming that node; null when every node tried answered that it
   * does not hold the block. A node that could not answer is not taken for "absent": when no node holds the
   * block and one failed, this throws {@link UncheckedIOException}.
   */
  @Override
  public StoredBlock stat(BlockId id) {
    return stat(id, null);
  }

  /** {@link #stat(BlockId)} asking the hinted nodes first. */
  public StoredBlock stat(BlockId id, Placement hint) {
    List<BlockNode> order = nodes.readOrder(id, hint);
    Map<BlockNode, Throwable> failed = new LinkedHashMap<>();
    for (BlockNode n : order) {
      try {
        StoredBlock sb = n.store().stat(id);
        nodes.succeeded(n);
        if (sb != null) {
          return sb.withPlacement(new Placement(tier, List.of(n.number())));
        }
      } catch (RuntimeException e) {
        nodes.failed(n, e);
        failed.put(n, e);
      }
    }
    if (!failed.isEmpty()) {
      throw new UncheckedIOException(FsException.of(Errno.EIO,
          "cannot tell whether block %s is stored: no node answered that it holds it, and %s", id,
          describe(failed, List.of())));
    }
    return null;
  }

  /**
   * Deletes the block from every live node, in parallel (a copy may sit anywhere: a write falls back down the
   * rendezvous order, and membership changes after it; DELETE of an absent block is a cheap OK). Tries every
   * node, then throws EIO naming those that failed, so a purge can retry.
   */
  @Override
  public void delete(BlockId id) throws IOException {
    List<BlockNode> all = nodes.nodes();
    ExecutorCompletionService<Attempt> done = new ExecutorCompletionService<>(calls);
    for (int i = 0; i < all.size(); i++) {
      int position = i;
      BlockNode n = all.get(i);
      done.submit(() -> {
        try {
          n.store().delete(id);
          return new Attempt(position, n, null, null);
        } catch (IOException | RuntimeException e) {
          return new Attempt(position, n, null, e);
        }
      });
    }
    Map<BlockNode, Throwable> failed = new LinkedHashMap<>();
    for (int i = 0; i < all.size(); i++) {
      Attempt a = take(done, id);
      if (a.error() != null) {
        nodes.failed(a.node(), a.error());
        failed.put(a.node(), a.error());
      }
    }
    if (!failed.isEmpty()) {
      throw FsException.of(Errno.EIO, "block %s not deleted on %d of %d nodes: %s", id, failed.size(), all.size(),
          describe(failed, List.of()));
    }
  }

  /**
   * Every block held by any live node, once, with the placement of the first node listing it. A node that
   * cannot list throws {@link UncheckedIOException}: a partial listing is never passed off as complete.
   */
  @Override
  public void forEach(Consumer<StoredBlock> action) {
    Set<BlockId> seen = new HashSet<>();
    for (BlockNode n : nodes.nodes()) {
      Placement here = new Placement(tier, List.of(n.number()));
      n.store().forEach(sb -> {
        if (seen.add(sb.id())) {
          action.accept(sb.withPlacement(here));
        }
      });
    }
  }

  @Override
  public void forEachId(Consumer<BlockId> action) {
    BlockStore.forEachIdOnce(nodes.nodes().stream().map(BlockNode::store).toList(), action);
  }

  /** Nothing to do: a copy is durable on its node before the node acknowledges it. */
  @Override
  public void sync() {}

  /** The live nodes' figures added up: each block counts once per copy. */
  @Override
  public StoreStats stats() {
    return nodes.stats();
  }

  /** Stops this store's threads (when it made them), after their calls end. The nodes' stores stay open. */
  @Override
  public void close() {
    if (ownsCalls) {
      CallPool.shutdown(calls);
    }
  }

  static String describe(Map<BlockNode, Throwable> failed, java.util.Collection<Attempt> acked) {
    StringJoiner j = new StringJoiner(", ");
    for (Attempt a : acked) {
      j.add(a.node().number() + " ok");
    }
    for (Map.Entry<BlockNode, Throwable> e : failed.entrySet()) {
      Throwable t = e.getValue() instanceof UncheckedIOException u ? u.getCause() : e.getValue();
      String why = t instanceof FsException fe ? fe.getMessage() : t.toString();
      j.add(e.getKey().number() + " " + why);
    }
    return j.toString();
  }

  @Override
  public String toString() {
    return "ReplicatedNodeStore[replicate-" + copies + ", minCopies " + minCopies + ", tier " + tier + "]";
  }

  /** Options, each checked when set (IllegalArgumentException naming it). */
  public static final class Builder {
    private final NodeSet nodes;
    private final int copies;
    private int tier;
    private int minCopies = -1;
    private ExecutorService executor;

    private Builder(NodeSet nodes, int copies) {
      this.nodes = Objects.requireNonNull(nodes, "nodes");
      if (copies < 1 || copies > Placement.MAX_LOCATIONS) {
        throw new IllegalArgumentException("copies " + copies + " outside 1 to " + Placement.MAX_LOCATIONS);
      }
      this.copies = copies;
    }

    /** The tier number the placements name. Default 0. */
    public Builder tier(int t) {
      if (t < 0 || t > 0xFFFF) {
        throw new IllegalArgumentException("tier " + t + " outside 0 to 65535");
      }
      this.tier = t;
      return this;
    }

    /** The fewest copies a write may succeed with (1 to copies). Default {@link #defaultMinCopies}. */
    public Builder minCopies(int n) {
      if (n < 1 || n > copies) {
        throw new IllegalArgumentException("minCopies " + n + " outside 1 to copies (" + copies + ")");
      }
      this.minCopies = n;
      return this;
    }

    /**
     * Where the parallel node calls run; the caller keeps and shuts it down. Default: the store's own pool
     * of 4 × copies threads, stopped by {@link ReplicatedNodeStore#close}.
     */
    public Builder executor(ExecutorService e) {
      this.executor = Objects.requireNonNull(e, "executor");
      return this;
    }

    public ReplicatedNodeStore build() {
      return new ReplicatedNodeStore(this);
    }
  }
}
