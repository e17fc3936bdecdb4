package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.blocks.BlockNode;
import io.dynamicfs.cluster.blocks.ErasureCodedNodeStore;
import io.dynamicfs.cluster.blocks.NodeStores;
import io.dynamicfs.cluster.blocks.ShardRecord;
import io.dynamicfs.cluster.blocks.ShardStore;
import io.dynamicfs.cluster.raft.MetadataStateMachine;
import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import io.dynamicfs.core.storage.Redundancy;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's replication manager: brings every referenced block back to the copies its tier wants, on
 * nodes that can keep them. Run by the leader only ({@link #runOnce}, one pass per duty period).
 *
 * <p>A copy is <em>bad</em> when the node its placement names is DRAINING (leaving), REMOVED or unknown,
 * has not answered for longer than {@code deadAfter} (its first failed probe starts the clock, kept by this
 * leader; a new leader starts over, which only delays repair), or was reported corrupt by a scrub
 * ({@link #reportBadCopy}). A block whose good copies are fewer than R, or whose placement names a bad
 * copy, is repaired: a good copy is read (the transport checks it against the id; a DRAINING node or a
 * bad-but-reachable node is read from last), written to nodes chosen by rendezvous among ACTIVE,
 * reachable nodes that do not hold a good copy (each durable when it answers), and only then is the new
 * placement (good copies + new ones) committed with {@link MetaOp.ReplaceBlockPlacement}, a
 * compare-and-set on the placement read at the start: a block freed, moved or repaired meanwhile fails
 * with EAGAIN and its new copy is left to garbage collection. A corrupt copy is deleted on its node before
 * that node is written again (a node keeps the first copy of an id it has).
 *
 * <p>Rate: at most {@code maxPerPass} blocks a pass, most endangered (fewest good copies) first, copied
 * by a pool of {@code threads} threads. Only {@code replicate-R} tiers are repaired (a cluster's blocks
 * are replicated; rebuilding an rs shard on another node is not done yet).
 */
public final class ReplicationManager implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(ReplicationManager.class);

  /** How long a node may be unreachable before its copies count as lost, and how fast to repair. */
  public record Settings(Duration deadAfter, int maxPerPass, int threads) {
    public static final Settings DEFAULT = new Settings(Duration.ofMinutes(10), 64, 2);

    public Settings {
      if (deadAfter.isNegative() || maxPerPass < 1 || threads < 1) {
        throw new IllegalArgumentException("replication settings: deadAfter " + deadAfter + " must not be negative, "
            + "maxPerPass " + maxPerPass + " and threads " + threads + " at least 1");
      }
    }

    public Settings withDeadAfter(Duration d) {
      return new Settings(d, maxPerPass, threads);
    }
  }

  /** What one pass found and did. */
  public record Pass(int blocks, int needing, int repaired, int stale, int failed, int lost) {
    static final Pass IDLE = new Pass(0, 0, 0, 0, 0, 0);
  }

  /**
   * Reads of the metadata replica the manager works from (a node's state machine, or the replica of a
   * scrub run from the command line); {@code MetadataStateMachine::read} is one.
   */
  public interface Metadata {
    <T> T read(MetadataStateMachine.StoreReader<T> reader) throws FsException;

    /** A plain store (a caught-up listener replica that is not swapped while in use). */
    static Metadata of(MetadataStore store) {
      return new Metadata() {
        @Override
        public <T> T read(MetadataStateMachine.StoreReader<T> reader) throws FsException {
          return reader.read(store);
        }
      };
    }
  }

  /** A copy of a block on a node, reported bad by a scrub. */
  record Copy(BlockId id, int node) {}

  private final Metadata metadata;
  private final RaftMetaClient client;
  private final NodeDirectory directory;
  private final Settings settings;
  private final LongSupplier ticker;
  private final ExecutorService copiers;
  /** Node number → ticker value of the first failed probe of its current outage (this leader's view). */
  private final Map<Integer, Long> unreachableSince = new ConcurrentHashMap<>();
  private final Set<Copy> badCopies = ConcurrentHashMap.newKeySet();
  private final LongAdder repaired = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder lost = new LongAdder();
  // @GuardedBy("this"): made on the first rs-K-M repair, closed with the manager
  private ErasureCodedNodeStore shards;

  public ReplicationManager(Metadata metadata, RaftMetaClient client, NodeDirectory directory,
      Settings settings, LongSupplier ticker) {
    this.metadata = metadata;
    this.client = client;
    this.directory = directory;
    this.settings = settings;
    this.ticker = ticker;
    ThreadPoolExecutor pool = new ThreadPoolExecutor(settings.threads(), settings.threads(), 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), r -> {
          Thread t = new Thread(r, "dfs-replication");
          t.setDaemon(true);
          return t;
        });
    pool.allowCoreThreadTimeOut(true);
    this.copiers = pool;
  }

  /** Blocks repaired (new placement committed) since start. */
  public long repaired() {
    return repaired.sum();
  }

  /** Repairs that failed (no target took a copy, or the commit failed) since start. */
  public long failed() {
    return failed.sum();
  }

  /** Repairs that found no readable good copy anywhere since start. */
  public long lost() {
    return lost.sum();
  }

  /** Records that {@code node}'s copy of {@code id} is corrupt: the next pass replaces it. */
  public void reportBadCopy(BlockId id, int node) {
    badCopies.add(new Copy(id, node));
  }

  /** Forgets what this leader knew of node outages (on losing the leadership). */
  public void reset() {
    unreachableSince.clear();
  }

  /** The nodes this leader currently counts as dead (unreachable longer than {@code deadAfter}). */
  public Set<Integer> deadNodes() {
    Set<Integer> dead = new java.util.TreeSet<>();
    long now = ticker.getAsLong();
    unreachableSince.forEach((n, since) -> {
      if (now - since >= settings.deadAfter().toNanos()) {
        dead.add(n);
      }
    });
    return dead;
  }

  /** How long each node this leader found unreachable has not answered (reachable nodes are absent). */
  public Map<Integer, Duration> outages() {
    Map<Integer, Duration> out = new java.util.TreeMap<>();
    long now = ticker.getAsLong();
    unreachableSince.forEach((n, since) -> out.put(n, Duration.ofNanos(now - since)));
    return out;
  }

  /** One pass: probe the nodes, find the blocks that need copies, repair up to {@code maxPerPass} of them. */
  public Pass runOnce() throws IOException {
    MetaOp.SetClusterConfig config = metadata.read(MetadataStore::clusterConfig);
    if (config == null) {
      return Pass.IDLE;
    }
    Redundancy redundancy = Redundancy.parse(config.redundancy());
    Redundancy.ReedSolomon rs = redundancy instanceof Redundancy.ReedSolomon r ? r : null;
    int copies = rs != null ? rs.data() + rs.parity() : ((Redundancy.Replicate) redundancy).copies();
    directory.refresh();
    List<MetadataStore.Node> table = metadata.read(MetadataStore::nodes);
    View view = probe(table);
    List<Need> needs = new ArrayList<>();
    int[] blocks = {0};
    metadata.<Void>read(s -> {
      s.forEachBlock((id, r) -> {
        blocks[0]++;
        if (r.refs() > 0) {
          Need n = rs != null ? needShards(id, r, rs, view) : need(id, r, copies, view);
          if (n != null) {
            needs.add(n);
          }
        }
      });
      return null;
    });
    if (needs.isEmpty()) {
      return new Pass(blocks[0], 0, 0, 0, 0, 0);
    }
    needs.sort(Comparator.comparingInt((Need n) -> n.good().size()).thenComparing(n -> n.id().toHex()));
    List<Future<Outcome>> running = new ArrayList<>();
    for (Need n : needs.subList(0, Math.min(needs.size(), settings.maxPerPass()))) {
      running.add(copiers.submit(() -> rs != null ? repairShards(n, rs, view) : repair(n, copies, view)));
    }
    int done = 0;
    int stale = 0;
    int fail = 0;
    int gone = 0;
    for (Future<Outcome> f : running) {
      Outcome o;
      try {
        o = f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FsException(Errno.EIO, "interrupted while repairing blocks");
      } catch (ExecutionException e) {
        log.atWarn().addKeyValue("error", String.valueOf(e.getCause())).log("block repair failed");
        o = Outcome.FAILED;
      }
      switch (o) {
        case REPAIRED -> done++;
        case STALE -> stale++;
        case FAILED -> fail++;
        case LOST -> gone++;
      }
    }
    Pass p = new Pass(blocks[0], needs.size(), done, stale, fail, gone);
    log.atInfo().addKeyValue("blocks", p.blocks()).addKeyValue("needing", p.needing())
        .addKeyValue("repaired", p.repaired()).addKeyValue("stale", p.stale()).addKeyValue("failed", p.failed())
        .addKeyValue("lost", p.lost()).log("replication pass");
    return p;
  }

  // ---- what is bad -----------------------------------------------------------------------------------

  /** The nodes as this pass sees them: which may hold good copies, which may take new ones. */
  private record View(Set<Integer> holders, Set<Integer> targets, Set<Integer> readable) {}

  private View probe(List<MetadataStore.Node> table) {
    long now = ticker.getAsLong();
    Set<Integer> holders = new java.util.HashSet<>();
    Set<Integer> targets = new java.util.HashSet<>();
    Set<Integer> readable = new java.util.HashSet<>();
    Set<Integer> known = new java.util.HashSet<>();
    for (MetadataStore.Node n : table) {
      known.add(n.number());
      if (n.state().equals("REMOVED")) {
        unreachableSince.remove(n.number());
        continue;
      }
      RemoteBlockStore store = directory.store(n.number());
      boolean up = false;
      if (store != null) {
        try {
          store.nodeStats();
          up = true;
        } catch (IOException | RuntimeException e) {
          log.atDebug().addKeyValue("node", n.nodeId()).addKeyValue("error", String.valueOf(e)).log("node probe failed");
        }
      }
      if (up) {
        if (unreachableSince.remove(n.number()) != null) {
          log.atInfo().addKeyValue("node", n.nodeId()).log("node answers again");
        }
        readable.add(n.number());
      } else if (unreachableSince.putIfAbsent(n.number(), now) == null) {
        log.atWarn().addKeyValue("node", n.nodeId()).addKeyValue("dead_after_s", settings.deadAfter().toSeconds())
            .log("node unreachable; its copies count as lost if it stays away");
      }
      boolean dead = !up && now - unreachableSince.get(n.number()) >= settings.deadAfter().toNanos();
      if (n.state().equals("ACTIVE") && !dead) {
        holders.add(n.number());
        if (up) {
          targets.add(n.number());
        }
      }
    }
    unreachableSince.keySet().retainAll(known);
    return new View(holders, targets, readable);
  }

  /**
   * A block to repair: its record's placement, the locations of its good copies in placement order, and the
   * bad ones (for an rs-K-M block: the indexes of its bad shards).
   */
  private record Need(BlockId id, BlockRecord record, List<Integer> good, List<Integer> bad) {}

  /** An rs-K-M block needs repair when a shard has no node, or a node that is not a good holder. */
  private Need needShards(BlockId id, BlockRecord r, Redundancy.ReedSolomon rs, View view) {
    List<Integer> locs = r.placement().locations();
    List<Integer> good = new ArrayList<>();
    List<Integer> bad = new ArrayList<>();
    for (int i = 0; i < rs.data() + rs.parity(); i++) {
      int loc = i < locs.size() ? locs.get(i) : ErasureCodedNodeStore.NO_NODE;
      if (loc >= 0 && view.holders().contains(loc) && !badCopies.contains(new Copy(id, loc)) && !good.contains(loc)) {
        good.add(loc);
      } else {
        bad.add(i);
      }
    }
    return bad.isEmpty() ? null : new Need(id, r, good, bad);
  }

  private Need need(BlockId id, BlockRecord r, int copies, View view) {
    List<Integer> good = new ArrayList<>();
    List<Integer> bad = new ArrayList<>();
    for (int loc : r.placement().locations()) {
      if (loc >= 0 && view.holders().contains(loc) && !badCopies.contains(new Copy(id, loc)) && !good.contains(loc)) {
        good.add(loc);
      } else {
        bad.add(loc);
      }
    }
    if (good.size() >= copies && bad.isEmpty()) {
      return null;
    }
    return new Need(id, r, good, bad);
  }

  // ---- repairing one block ---------------------------------------------------------------------------

  private enum Outcome { REPAIRED, STALE, FAILED, LOST }

  private Outcome repair(Need n, int copies, View view) throws IOException {
    BlockId id = n.id();
    List<Integer> keep = new ArrayList<>(n.good().subList(0, Math.min(n.good().size(), copies)));
    List<Integer> added = new ArrayList<>();
    if (keep.size() < copies) {
      byte[] data = read(n, view);
      if (data == null) {
        lost.increment();
        log.atError().addKeyValue("block", id.toHex()).addKeyValue("placement", n.record().placement().toString())
            .log("block has no readable copy left; it cannot be repaired");
        return Outcome.LOST;
      }
      for (BlockNode target : directory.nodes().placementOrder(id)) {
        if (keep.size() + added.size() >= copies) {
          break;
        }
        int t = target.number();
        if (keep.contains(t) || !view.targets().contains(t)) {
          continue;
        }
        try {
          if (badCopies.contains(new Copy(id, t)) || n.bad().contains(t)) {
            target.store().delete(id); // a node keeps the first copy of an id: drop a corrupt one first
          }
          target.store().put(id, data, data.length); // durable on the node when it answers
          added.add(t);
        } catch (IOException | RuntimeException e) {
          log.atWarn().addKeyValue("block", id.toHex()).addKeyValue("node", t).addKeyValue("error", String.valueOf(e))
              .log("copy to a node failed; trying the next");
        }
      }
      if (added.isEmpty()) {
        failed.increment();
        log.atWarn().addKeyValue("block", id.toHex()).addKeyValue("good", keep.size()).addKeyValue("copies", copies)
            .log("no node took a new copy of the block; retried next pass");
        return Outcome.FAILED;
      }
    }
    List<Integer> locations = new ArrayList<>(keep);
    locations.addAll(added);
    Placement before = n.record().placement();
    return commit(id, before, new Placement(before.tier(), locations), "copied_to", added);
  }

  /** Commits a repaired placement if the block still has {@code before}; STALE when it changed meanwhile. */
  private Outcome commit(BlockId id, Placement before, Placement after, String what, List<Integer> changed)
      throws FsException {
    OpApplier.Result r = client.submit(new MetaOp.ReplaceBlockPlacement(id, before, after));
    if (!r.ok()) {
      if (r.errno() == Errno.EAGAIN) {
        log.atInfo().addKeyValue("block", id.toHex()).addKeyValue("error", r.message())
            .log("block changed while it was repaired; its new copies are left for garbage collection");
        return Outcome.STALE;
      }
      failed.increment();
      log.atWarn().addKeyValue("block", id.toHex()).addKeyValue("error", r.message()).log("repair commit failed");
      return Outcome.FAILED;
    }
    for (int loc : before.locations()) {
      badCopies.remove(new Copy(id, loc));
    }
    repaired.increment();
    log.atInfo().addKeyValue("block", id.toHex()).addKeyValue("from", before.locations().toString())
        .addKeyValue("to", after.locations().toString()).addKeyValue(what, changed.toString()).log("block repaired");
    return Outcome.REPAIRED;
  }

  /**
   * Rebuilds each bad shard of an rs-K-M block: decodes the block from any K intact shards (the store reads
   * the placement's nodes, a draining one included, and checks every shard record), re-encodes it, puts
   * each missing shard on a live node that holds no other shard of the block (a corrupt one is deleted
   * first), then commits the new placement with compare-and-set, as for copies.
   */
  private Outcome repairShards(Need n, Redundancy.ReedSolomon rs, View view) throws IOException {
    BlockId id = n.id();
    int k = rs.data();
    int m = rs.parity();
    Placement before = n.record().placement();
    ErasureCodedNodeStore ec = shardStore(rs);
    byte[] data;
    try {
      data = ec.get(id, before);
    } catch (IOException | RuntimeException e) {
      lost.increment();
      log.atError().addKeyValue("block", id.toHex()).addKeyValue("placement", before.toString())
          .addKeyValue("error", String.valueOf(e)).log("block has fewer than K readable shards; it cannot be repaired");
      return Outcome.LOST;
    }
    byte[][] records = ec.shardRecords(id, data, data.length);
    List<Integer> locations = new ArrayList<>();
    for (int i = 0; i < k + m; i++) {
      locations.add(i < before.locations().size() ? before.locations().get(i) : ErasureCodedNodeStore.NO_NODE);
    }
    Set<Integer> used = new java.util.HashSet<>(n.good());
    List<Integer> rebuilt = new ArrayList<>();
    for (int shard : n.bad()) {
      BlockId key = ShardRecord.key(id, shard, k, m);
      int old = locations.get(shard);
      for (BlockNode target : directory.nodes().placementOrder(id)) {
        int t = target.number();
        if (used.contains(t) || !view.targets().contains(t)) {
          continue;
        }
        try {
          ShardStore to = (ShardStore) target.store();
          if (t == old) {
            to.deleteShard(key); // a node keeps the first record under a key: drop the bad one first
          }
          to.putShard(key, records[shard]); // durable on the node when it answers
          locations.set(shard, t);
          used.add(t);
          rebuilt.add(shard);
          break;
        } catch (IOException | RuntimeException e) {
          log.atWarn().addKeyValue("block", id.toHex()).addKeyValue("shard", shard).addKeyValue("node", t)
              .addKeyValue("error", String.valueOf(e)).log("shard to a node failed; trying the next");
        }
      }
    }
    if (rebuilt.isEmpty()) {
      failed.increment();
      log.atWarn().addKeyValue("block", id.toHex()).addKeyValue("bad_shards", n.bad().toString())
          .log("no node took a rebuilt shard of the block; retried next pass");
      return Outcome.FAILED;
    }
    return commit(id, before, new Placement(before.tier(), locations), "rebuilt_shards", rebuilt);
  }

  /** One rs-K-M store over the directory's nodes, for decoding blocks under repair. */
  private synchronized ErasureCodedNodeStore shardStore(Redundancy.ReedSolomon rs) {
    if (shards == null) {
      shards = (ErasureCodedNodeStore) NodeStores.open(rs, directory.nodes());
    }
    return shards;
  }

  /**
   * The block's bytes from a good copy, else from another node its placement names that answers (a draining
   * node), else from any node that answers (a copy metadata never recorded, e.g. a degraded write's first
   * try); null when none has it intact. Copies reported corrupt are not read.
   */
  private byte[] read(Need n, View view) {
    Set<Integer> order = new LinkedHashSet<>(n.good());
    for (int loc : n.bad()) {
      if (loc >= 0 && view.readable().contains(loc)) {
        order.add(loc);
      }
    }
    for (BlockNode b : directory.nodes().readOrder(n.id(), null)) {
      if (view.readable().contains(b.number())) {
        order.add(b.number());
      }
    }
    order.removeIf(loc -> badCopies.contains(new Copy(n.id(), loc)));
    Map<Integer, String> errors = new HashMap<>();
    for (int loc : order) {
      RemoteBlockStore s = directory.store(loc);
      if (s == null) {
        continue;
      }
      try {
        return s.get(n.id()); // checked against the id by the transport
      } catch (IOException | RuntimeException e) {
        errors.put(loc, String.valueOf(e.getMessage()));
      }
    }
    if (!errors.isEmpty()) {
      log.atWarn().addKeyValue("block", n.id().toHex()).addKeyValue("errors", errors.toString())
          .log("no node gave a good copy");
    }
    return null;
  }

  @Override
  public void close() {
    synchronized (this) {
      if (shards != null) {
        shards.close();
      }
    }
    copiers.shutdownNow();
    try {
      copiers.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
