package io.dynamicfs.cluster.blocks;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.erasure.ReedSolomon;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code rs-K-M} over the cluster's block nodes: a block's plain bytes are cut into K data shards plus M
 * Reed–Solomon parity shards (core's {@link ReedSolomon}); shard i is a {@link ShardRecord} stored under its
 * derived key on the i-th node of {@link NodeSet#writeOrder}, all K+M in parallel (each node compresses its
 * shard). A shard whose node fails goes to the next unused node of the order. The {@link Placement} lists, in
 * shard order, the node holding each shard, -1 for a shard no node took. At least {@code minShards} (default
 * K+1: one more loss survivable) must be stored or the write fails (EIO, or ENOSPC when every refusal was
 * ENOSPC); fewer than K+M is degraded (warned, counted).
 *
 * <p>A read fetches the K data shards from their nodes (the hint's, else the rendezvous order's) in parallel
 * and needs no decoding when all are good; a missing or bad shard (ENOENT, EIO, failed {@link ShardRecord#parse})
 * makes it fetch the other shards, searching every live node for each, and rebuild. The block is checked
 * against its id before it is returned.
 *
 * <p>Nodes are reached through a {@link ShardStore} per node ({@code shards}): for remote nodes the node's
 * {@code RemoteBlockStore} itself ({@code node -> (ShardStore) node.store()}), whose PUT_SHARD / GET_SHARD
 * frames carry the records and verify them on both sides. Listing ({@link #forEach}) is not offered: the nodes hold shard
 * keys, and which blocks exist is the metadata's to say.
 */
public final class ErasureCodedNodeStore implements BlockStore {
  private static final Logger log = LoggerFactory.getLogger(ErasureCodedNodeStore.class);
  /** The placement entry of a shard that no node stored. */
  public static final int NO_NODE = -1;

  private final NodeSet nodes;
  private final Function<BlockNode, ShardStore> shards;
  private final int tier;
  private final int k;
  private final int m;
  private final int minShards;
  private final ReedSolomon rs;
  private final ExecutorService calls;
  private final boolean ownsCalls;
  private final LongAdder degradedWrites = new LongAdder();
  private final LongAdder rebuiltReads = new LongAdder();

  private ErasureCodedNodeStore(Builder b) {
    this.nodes = b.nodes;
    this.shards = b.shards;
    this.tier = b.tier;
    this.k = b.k;
    this.m = b.m;
    this.minShards = b.minShards < 0 ? Math.min(b.k + 1, b.k + b.m) : b.minShards;
    this.rs = ReedSolomon.create(k, m);
    this.ownsCalls = b.executor == null;
    this.calls = ownsCalls ? CallPool.create("dfs-rs", Math.max(4, 2 * (k + m))) : b.executor;
  }

  public static Builder builder(NodeSet nodes, int k, int m, Function<BlockNode, ShardStore> shards) {
    return new Builder(nodes, k, m, shards);
  }

  public long degradedWrites() {
    return degradedWrites.sum();
  }

  /** Reads that had to decode (a data shard was missing or bad). */
  public long rebuiltReads() {
    return rebuiltReads.sum();
  }

  public int minShards() {
    return minShards;
  }

  private record Attempt(int index, BlockNode node, byte[] record, Throwable error) {}

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    Objects.checkFromIndexSize(0, length, data.length);
    int size = ShardRecord.shardSize(length, k);
    byte[][] records = shardRecords(id, data, length);

    List<BlockNode> order = nodes.writeOrder(id);
    ExecutorCompletionService<Attempt> done = new ExecutorCompletionService<>(calls);
    int next = 0;
    int inFlight = 0;
    for (int i = 0; i < k + m && next < order.size(); i++) {
      submitPut(done, i, order.get(next++), id, records[i]);
      inFlight++;
    }
    int[] where = new int[k + m];
    Arrays.fill(where, NO_NODE);
    int stored = 0;
    Map<BlockNode, Throwable> failed = new LinkedHashMap<>();
    while (inFlight > 0) {
      Attempt a = take(done, id);
      inFlight--;
      if (a.error() == null) {
        nodes.succeeded(a.node());
        where[a.index()] = a.node().number();
        stored++;
        continue;
      }
      nodes.failed(a.node(), a.error());
      failed.put(a.node(), a.error());
      if (next < order.size()) {
        submitPut(done, a.index(), order.get(next++), id, records[a.index()]);
        inFlight++;
      }
    }
    List<Integer> placement = Arrays.stream(where).boxed().toList();
    if (stored < minShards) {
      boolean allFull = !failed.isEmpty() && failed.values().stream()
          .allMatch(e -> e instanceof FsException fe && fe.errno() == Errno.ENOSPC);
      throw FsException.of(allFull ? Errno.ENOSPC : Errno.EIO,
          "block %s: %d of %d shards stored (on %s), rs-%d-%d needs at least %d (%d live nodes; failed: %s)", id,
          stored, k + m, placement, k, m, minShards, order.size(), ReplicatedNodeStore.describe(failed, List.of()));
    }
    if (stored < k + m) {
      degradedWrites.increment();
      log.atWarn().addKeyValue("block", id.toHex()).addKeyValue("shards", stored).addKeyValue("wanted", k + m)
          .addKeyValue("placement", placement.toString()).log("degraded write: fewer shards than wanted");
    }
    return new StoredBlock(id, length, (HEADER_BYTES + size) * stored, Codec.NONE, new Placement(tier, placement));
  }

  private static final int HEADER_BYTES = ShardRecord.HEADER;

  /**
   * The K+M shard records of a block, record i to be kept under {@code ShardRecord.key(id, i, k, m)}: what
   * a write sends, and what a repair re-creates for a lost shard from the block's bytes.
   */
  public byte[][] shardRecords(BlockId id, byte[] data, int length) {
    int size = ShardRecord.shardSize(length, k);
    byte[][] stripe = new byte[k + m][size];
    for (int i = 0; i < k; i++) {
      int from = i * size;
      int n = Math.max(0, Math.min(size, length - from));
      if (n > 0) {
        System.arraycopy(data, from, stripe[i], 0, n);
      }
    }
    rs.encodeParity(stripe, 0, size);
    byte[][] records = new byte[k + m][];
    for (int i = 0; i < k + m; i++) {
      records[i] = ShardRecord.encode(id, i, k, m, length, stripe[i], 0, size);
    }
    return records;
  }

  private void submitPut(ExecutorCompletionService<Attempt> done, int index, BlockNode node, BlockId id,
      byte[] record) {
    BlockId key = ShardRecord.key(id, index, k, m);
    done.submit(() -> {
      try {
        shards.apply(node).putShard(key, record);
        return new Attempt(index, node, null, null);
      } catch (IOException | RuntimeException e) {
        return new Attempt(index, node, null, e);
      }
    });
  }

  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    return get(id, null);
  }

  /** The block, rebuilt from any K good shards; the hint (the placement metadata recorded) says where each is. */
  public byte[] get(BlockId id, Placement hint) throws IOException {
    byte[] b = read(id, hint);
    if (b == null) {
      throw FsException.of(Errno.EIO, "block %s: no live node holds enough of its shards (all answered ENOENT)", id);
    }
    return b;
  }

  /** The block, or null when every node answered (ENOENT) and fewer than K shards exist; EIO for the rest. */
  private byte[] read(BlockId id, Placement hint) throws IOException {
    List<BlockNode> placed = nodes.placementOrder(id);
    BlockNode[] expected = new BlockNode[k + m];
    for (int i = 0; i < k + m; i++) {
      int n = hint != null && hint.locations().size() == k + m ? hint.locations().get(i) : NO_NODE;
      expected[i] = n >= 0 ? nodes.node(n) : null;
      if (expected[i] == null && hint == null && i < placed.size()) {
        expected[i] = placed.get(i);
      }
    }
    byte[][] stripe = new byte[k + m][];
    ShardRecord[] got = new ShardRecord[k + m];
    Map<String, Throwable> failed = new LinkedHashMap<>();
    // 1: the data shards from where they should be, at once
    fetch(id, indexes(0, k), expected, false, got, failed);
    int present = count(got);
    if (present < k) {
      // 2: every other shard, searching all live nodes for each
      rebuiltReads.increment();
      List<Integer> missing = new ArrayList<>();
      for (int i = 0; i < k + m; i++) {
        if (got[i] == null) {
          missing.add(i);
        }
      }
      fetch(id, missing, expected, true, got, failed);
      present = count(got);
    }
    if (present < k && failed.isEmpty()) {
      return null;
    }
    if (present < k) {
      throw FsException.of(Errno.EIO, "block %s: only %d of %d shards readable, rs-%d-%d needs %d (%s)", id, present,
          k + m, k, m, k, failed.isEmpty() ? "no live nodes" : failed.toString());
    }
    int blockLength = -1;
    boolean[] ok = new boolean[k + m];
    for (int i = 0; i < k + m; i++) {
      if (got[i] != null) {
        if (blockLength >= 0 && got[i].blockLength() != blockLength) {
          throw FsException.of(Errno.EIO, "block %s: shards disagree on the block's length", id);
        }
        blockLength = got[i].blockLength();
        stripe[i] = got[i].bytes();
        ok[i] = true;
      }
    }
    int size = ShardRecord.shardSize(blockLength, k);
    rs.reconstruct(stripe, ok, 0, size);
    byte[] out = new byte[blockLength];
    for (int i = 0; i < k; i++) {
      int from = i * size;
      int n = Math.max(0, Math.min(size, blockLength - from));
      if (n > 0) {
        System.arraycopy(stripe[i], 0, out, from, n);
      }
    }
    BlockId actual = BlockId.hash(out, 0, out.length);
    if (!actual.equals(id)) {
      throw FsException.of(Errno.EIO, "block %s: shards decode to bytes that hash to %s", id, actual);
    }
    return out;
  }

  private static List<Integer> indexes(int from, int to) {
    List<Integer> l = new ArrayList<>();
    for (int i = from; i < to; i++) {
      l.add(i);
    }
    return l;
  }

  private static int count(Object[] a) {
    int c = 0;
    for (Object o : a) {
      if (o != null) {
        c++;
      }
    }
    return c;
  }

  /** Fetches the shards {@code wanted} in parallel, each from its expected node and, with {@code search}, from any live node. */
  private void fetch(BlockId id, List<Integer> wanted, BlockNode[] expected, boolean search, ShardRecord[] got,
      Map<String, Throwable> failed) throws FsException {
    ExecutorCompletionService<Attempt> done = new ExecutorCompletionService<>(calls);
    int submitted = 0;
    for (int index : wanted) {
      List<BlockNode> where = new ArrayList<>();
      if (expected[index] != null) {
        where.add(expected[index]);
      }
      if (search) {
        for (BlockNode n : nodes.readOrder(id, null)) {
          if (!where.contains(n)) {
            where.add(n);
          }
        }
      }
      if (where.isEmpty()) {
        continue;
      }
      BlockId key = ShardRecord.key(id, index, k, m);
      done.submit(() -> {
        Attempt last = null;
        for (BlockNode n : where) {
          try {
            byte[] r = shards.apply(n).getShard(key);
            ShardRecord.parse(key, r);
            return new Attempt(index, n, r, null);
          } catch (IOException | RuntimeException e) {
            last = new Attempt(index, n, null, e);
            if (!(e instanceof FsException fe && fe.errno() == Errno.ENOENT)) {
              synchronized (failed) {
                failed.put("shard " + index + " on node " + n.number(), e);
              }
            }
          }
        }
        return last;
      });
      submitted++;
    }
    for (int i = 0; i < submitted; i++) {
      Attempt a = take(done, id);
      if (a.error() == null) {
        got[a.index()] = ShardRecord.parse(ShardRecord.key(id, a.index(), k, m), a.record());
      } else if (a.error() instanceof FsException fe && fe.errno() == Errno.EIO) {
        nodes.failed(a.node(), a.error());
      }
    }
  }

  private static Attempt take(ExecutorCompletionService<Attempt> done, BlockId id) throws FsException {
    try {
      return done.take().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw FsException.of(Errno.EIO, "interrupted while moving the shards of block %s", id);
    } catch (ExecutionException e) {
      throw new IllegalStateException("a shard call escaped its own error handling", e.getCause());
    }
  }

  /**
   * The block's record when K of its shards can be read (this reads and decodes them: costly, meant for checks,
   * not hot paths); null when the nodes answered that fewer than K exist. A node that could not answer is not
   * taken for "absent": UncheckedIOException then.
   */
  @Override
  public StoredBlock stat(BlockId id) {
    try {
      byte[] b = read(id, null);
      return b == null ? null : new StoredBlock(id, b.length, b.length, Codec.NONE, new Placement(tier, List.of()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Deletes every shard of the block from every live node (best effort), then reports the failures (EIO). */
  @Override
  public void delete(BlockId id) throws IOException {
    Map<String, Throwable> failed = new LinkedHashMap<>();
    for (BlockNode n : nodes.nodes()) {
      for (int i = 0; i < k + m; i++) {
        try {
          shards.apply(n).deleteShard(ShardRecord.key(id, i, k, m));
        } catch (IOException | RuntimeException e) {
          failed.put("shard " + i + " on node " + n.number(), e);
        }
      }
    }
    if (!failed.isEmpty()) {
      throw FsException.of(Errno.EIO, "block %s: shards not deleted: %s", id, failed);
    }
  }

  /** Not offered: nodes hold shard keys, not block ids; the metadata lists the blocks of an rs tier. */
  @Override
  public void forEach(Consumer<StoredBlock> action) {
    throw new UnsupportedOperationException("an rs-" + k + "-" + m + " node store cannot list blocks; ask the metadata");
  }

  @Override
  public void sync() {}

  /** The live nodes' figures added up (shards, with their headers and parity). */
  @Override
  public StoreStats stats() {
    return nodes.stats();
  }

  @Override
  public void close() {
    if (ownsCalls) {
      CallPool.shutdown(calls);
    }
  }

  @Override
  public String toString() {
    return "ErasureCodedNodeStore[rs-" + k + "-" + m + ", minShards " + minShards + ", tier " + tier + "]";
  }

  /** Options, each checked when set (IllegalArgumentException naming it). */
  public static final class Builder {
    private final NodeSet nodes;
    private final int k;
    private final int m;
    private final Function<BlockNode, ShardStore> shards;
    private int tier;
    private int minShards = -1;
    private ExecutorService executor;

    private Builder(NodeSet nodes, int k, int m, Function<BlockNode, ShardStore> shards) {
      this.nodes = Objects.requireNonNull(nodes, "nodes");
      this.shards = Objects.requireNonNull(shards, "shards");
      if (k < 1 || m < 1 || k + m > Placement.MAX_LOCATIONS) {
        throw new IllegalArgumentException("rs-" + k + "-" + m + ": K and M must be at least 1, K+M at most "
            + Placement.MAX_LOCATIONS);
      }
      this.k = k;
      this.m = m;
    }

    public Builder tier(int t) {
      if (t < 0 || t > 0xFFFF) {
        throw new IllegalArgumentException("tier " + t + " outside 0 to 65535");
      }
      this.tier = t;
      return this;
    }

    /** The fewest shards a write may succeed with (K to K+M). Default K+1. */
    public Builder minShards(int n) {
      if (n < k || n > k + m) {
        throw new IllegalArgumentException("minShards " + n + " outside K (" + k + ") to K+M (" + (k + m) + ")");
      }
      this.minShards = n;
      return this;
    }

    /** Where the parallel shard calls run; the caller keeps and shuts it down. Default: the store's own pool. */
    public Builder executor(ExecutorService e) {
      this.executor = Objects.requireNonNull(e, "executor");
      return this;
    }

    public ErasureCodedNodeStore build() {
      return new ErasureCodedNodeStore(this);
    }
  }
}
