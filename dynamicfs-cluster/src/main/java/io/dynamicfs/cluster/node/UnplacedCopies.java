package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.Redundancy;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Counts the copies the nodes hold that no block record places on them: space that nothing references,
 * left by writes whose commit never came (a mount killed or cut off between storing blocks and committing
 * them), by a repair whose copy lost its compare-and-set, or a write still in progress at the moment of
 * the count. Nothing is deleted here: each node's {@link OrphanScan} removes such copies once nobody has put
 * or touched them for its grace period; this is what an operator sees meanwhile (`fsck --cluster`), young
 * copies and writes in progress included. A copy of a block waiting in pending deletion is placed (the
 * reclaimer removes it).
 *
 * <p>Replicated clusters only: an rs-K-M node holds shards under keys derived from the block id, which the
 * metadata does not index, so {@link #count} says it did not count them.
 */
public final class UnplacedCopies {
  /** One node's unplaced copies and their stored bytes. */
  public record NodeCount(String nodeId, long copies, long bytes) {}

  /**
   * The whole count; {@code counted} false (rs tiers) means nothing was looked at; {@code unreachable} names
   * the nodes that could not list their copies (not counted).
   */
  public record Report(boolean counted, long copies, long bytes, List<NodeCount> byNode, List<String> unreachable) {}

  private UnplacedCopies() {}

  /** Lists every reachable node's copies and looks each up in {@code store} (a caught-up replica). */
  public static Report count(MetadataStore store, NodeDirectory directory, Redundancy redundancy)
      throws FsException {
    if (!(redundancy instanceof Redundancy.Replicate)) {
      return new Report(false, 0, 0, List.of(), List.of());
    }
    directory.refresh();
    List<NodeCount> byNode = new ArrayList<>();
    List<String> unreachable = new ArrayList<>();
    long copies = 0;
    long bytes = 0;
    for (MetadataStore.Node n : store.nodes()) {
      if (n.state().equals("REMOVED")) {
        continue;
      }
      RemoteBlockStore s = directory.store(n.number());
      if (s == null) {
        unreachable.add(n.nodeId());
        continue;
      }
      long[] count = new long[2];
      try {
        s.forEach(sb -> {
          if (!placedOn(store, sb, n.number())) {
            count[0]++;
            count[1] += sb.storedLength();
          }
        });
      } catch (MetadataReadFailed e) {
        throw e.cause; // the replica failed, not the node
      } catch (UncheckedIOException e) {
        unreachable.add(n.nodeId() + " (" + e.getCause().getMessage() + ")");
        continue;
      }
      if (count[0] > 0) {
        byNode.add(new NodeCount(n.nodeId(), count[0], count[1]));
      }
      copies += count[0];
      bytes += count[1];
    }
    return new Report(true, copies, bytes, byNode, unreachable);
  }

  private static boolean placedOn(MetadataStore store, StoredBlock copy, int node) {
    try {
      BlockRecord r = store.block(copy.id());
      return r != null && r.placement().locations().contains(node);
    } catch (FsException e) {
      throw new MetadataReadFailed(e);
    }
  }

  /** Carries a failed metadata read out of the node's listing callback. */
  private static final class MetadataReadFailed extends RuntimeException {
    final FsException cause;

    MetadataReadFailed(FsException cause) {
      super(cause);
      this.cause = cause;
    }
  }
}
