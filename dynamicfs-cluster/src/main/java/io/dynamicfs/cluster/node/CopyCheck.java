package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.blocks.ShardRecord;
import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.ByteRate;
import io.dynamicfs.core.storage.Redundancy;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Counts the copies of every referenced block of a cluster, as its metadata places them, on the nodes
 * themselves: each copy is asked for (HAS) or, with {@code verify}, checked by its node (VERIFY: the node
 * reads it and checks CRC and hash locally). Reports a block with fewer intact copies than R
 * (under-replicated), a placement naming a node the cluster does not know or has REMOVED, a copy missing or
 * corrupt on the node that should hold it, and a node that cannot be asked (asked once: its copies count
 * as not intact). Any of these puts data at risk.
 */
public final class CopyCheck {
  /** What is wrong with a block's copies. */
  public enum Kind { UNDER_REPLICATED, UNKNOWN_NODE, REMOVED_NODE, MISSING_COPY, CORRUPT_COPY, UNREACHABLE_NODE }

  /** One finding; {@code node} is the node number concerned, -1 for the block as a whole. */
  public record Problem(Kind kind, BlockId id, int node, String detail) {
    @Override
    public String toString() {
      return "block " + id.toHex() + ": " + kind.name().toLowerCase(Locale.ROOT).replace('_', ' ')
          + (node >= 0 ? " (node " + node + ")" : "") + (detail.isEmpty() ? "" : ": " + detail);
    }
  }

  /** The whole count: blocks and copies looked at, intact copies, and the findings. */
  public record Report(long blocks, long copies, long intact, List<Problem> problems) {
    public boolean atRisk() {
      return !problems.isEmpty();
    }

    public long count(Kind k) {
      return problems.stream().filter(p -> p.kind() == k).count();
    }
  }

  /** Block records read from the replica at a time. */
  static final int BATCH = 4096;

  private CopyCheck() {}

  /**
   * Checks every referenced block of {@code store} against the nodes {@code directory} reaches, wanting
   * {@code copies} intact copies of each.
   */
  public static Report check(MetadataStore store, NodeDirectory directory, int copies, boolean verify)
      throws FsException {
    return check(store, directory, new Redundancy.Replicate(copies), verify);
  }

  /**
   * As {@link #check(MetadataStore, NodeDirectory, int, boolean)} for the cluster's redundancy: R whole
   * copies under the block's id, or for {@code rs-K-M} the K+M shards, shard i under its own key on the
   * placement's i-th node (a block with fewer than K intact shards cannot be read back).
   */
  public static Report check(MetadataStore store, NodeDirectory directory, Redundancy redundancy, boolean verify)
      throws FsException {
    return check(store, directory, redundancy, verify, ByteRate.unlimited());
  }

  /**
   * As {@link #check(MetadataStore, NodeDirectory, Redundancy, boolean)}, the copies verified at most at
   * {@code pace} (stored bytes a node reads for each, its shard's share for {@code rs-K-M}): a scheduled
   * scrub must not take the disks from the foreground.
   */
  public static Report check(MetadataStore store, NodeDirectory directory, Redundancy redundancy, boolean verify,
      ByteRate pace) throws FsException {
    return check(store, directory, redundancy, verify, pace, BATCH);
  }

  /** As above, reading {@code batch} block records from the replica at a time. */
  static Report check(MetadataStore store, NodeDirectory directory, Redundancy redundancy, boolean verify,
      ByteRate pace, int batch) throws FsException {
    long paced = 0;
    Redundancy.ReedSolomon rs = redundancy instanceof Redundancy.ReedSolomon r ? r : null;
    int copies = rs != null ? rs.data() + rs.parity() : ((Redundancy.Replicate) redundancy).copies();
    directory.refresh();
    Map<Integer, MetadataStore.Node> table = new HashMap<>();
    for (MetadataStore.Node n : store.nodes()) {
      table.put(n.number(), n);
    }
    Map<Integer, String> unreachable = new HashMap<>();
    List<Problem> problems = new ArrayList<>();
    long[] counts = new long[3];
    List<Map.Entry<BlockId, BlockRecord>> records = new ArrayList<>();
    // a batch of records at a time: a cluster's every block would not fit a node's heap, and the replica
    // must not stay held (against a checkpoint install) while the nodes are asked
    for (BlockId after = null; ; ) {
      records.clear();
      after = store.forEachBlockAfter(after, batch, (id, r) -> {
        if (r.refs() > 0) {
          records.add(Map.entry(id, r));
        }
      });
      if (after == null) {
        break;
      }
      for (Map.Entry<BlockId, BlockRecord> e : records) {
        BlockId id = e.getKey();
        counts[0]++;
        int intact = 0;
        List<Integer> placed = e.getValue().placement().locations();
        List<Integer> locations = rs != null ? placed : new ArrayList<>(new LinkedHashSet<>(placed));
        for (int shard = 0; shard < locations.size(); shard++) {
          int loc = locations.get(shard);
          if (loc < 0) {
            continue;
          }
          BlockId key = rs != null ? ShardRecord.key(id, shard, rs.data(), rs.parity()) : id;
          counts[1]++;
          MetadataStore.Node node = table.get(loc);
          if (node == null) {
            problems.add(new Problem(Kind.UNKNOWN_NODE, id, loc, "the cluster has no such node"));
            continue;
          }
          if (node.state().equals("REMOVED")) {
            problems.add(new Problem(Kind.REMOVED_NODE, id, loc, "node '" + node.nodeId() + "' has left the cluster"));
            continue;
          }
          if (unreachable.containsKey(loc)) {
            continue;
          }
          RemoteBlockStore s = directory.store(loc);
          RemoteBlockStore.CopyState state;
          try {
            if (s == null) {
              throw new IOException("no connection to its block address " + node.blockAddress());
            }
            state = verify ? s.verify(key) : s.stat(key) != null ? RemoteBlockStore.CopyState.INTACT
                : RemoteBlockStore.CopyState.ABSENT;
          } catch (IOException | RuntimeException x) {
            String why = String.valueOf(x.getMessage());
            unreachable.put(loc, why);
            problems.add(new Problem(Kind.UNREACHABLE_NODE, id, loc, "node '" + node.nodeId()
                + "' does not answer, its copies are not counted: " + why));
            continue;
          }
          if (verify && pace.limited()) {
            paced += rs != null ? e.getValue().storedLength() / rs.data() : e.getValue().storedLength();
            if (!pace.awaitTotal(paced)) {
              throw new FsException(Errno.EIO, "interrupted while checking copies");
            }
          }
          switch (state) {
            case INTACT -> intact++;
            case ABSENT -> problems.add(new Problem(Kind.MISSING_COPY, id, loc, "node '" + node.nodeId()
                + "' does not hold it"));
            case CORRUPT -> problems.add(new Problem(Kind.CORRUPT_COPY, id, loc, "node '" + node.nodeId()
                + "' holds a damaged copy"));
          }
        }
        counts[2] += intact;
        if (intact < copies) {
          problems.add(new Problem(Kind.UNDER_REPLICATED, id, -1, intact + " intact of " + copies
              + (rs != null ? " shards (" + rs.data() + " needed to read)" : " copies")));
        }
      }
    }
    return new Report(counts[0], counts[1], counts[2], problems);
  }
}
