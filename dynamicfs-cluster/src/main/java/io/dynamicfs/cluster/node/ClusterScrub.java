package io.dynamicfs.cluster.node;

import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.ByteRate;
import io.dynamicfs.core.storage.Redundancy;
import java.io.IOException;

/**
 * Scrub of a running cluster: every node verifies its copies of the blocks metadata places on it (VERIFY:
 * read and checked on the node, nothing sent), and each missing or corrupt copy on a node that is up is
 * replaced from an intact one by a {@link ReplicationManager} (the same copy-then-compare-and-set the
 * leader runs). A node that does not answer is reported, not repaired: its copies are the leader's to
 * replace once it counts as dead.
 */
public final class ClusterScrub {
  /** Waits until the replica the scrub reads has applied what the cluster committed. */
  @FunctionalInterface
  public interface CatchUp {
    void await() throws FsException;
  }

  /** What was found, what was repaired, and what is still wrong after the repair. */
  public record Report(CopyCheck.Report found, long repaired, long lost, CopyCheck.Report after) {}

  private ClusterScrub() {}

  /**
   * Verifies every copy (every shard of an {@code rs-K-M} cluster); with {@code repair}, replaces the bad
   * copies (rebuilds the bad shards) and checks again.
   */
  public static Report run(MetadataStore replica, RaftMetaClient client, NodeDirectory directory,
      Redundancy redundancy, boolean repair, CatchUp catchUp) throws IOException {
    return run(replica, client, directory, redundancy, repair, catchUp, ByteRate.unlimited());
  }

  /** As above, the copies verified at most at {@code pace} (and so is the check after a repair). */
  public static Report run(MetadataStore replica, RaftMetaClient client, NodeDirectory directory,
      Redundancy redundancy, boolean repair, CatchUp catchUp, ByteRate pace) throws IOException {
    CopyCheck.Report found = CopyCheck.check(replica, directory, redundancy, true, pace);
    if (!repair || !found.atRisk()) {
      return new Report(found, 0, 0, found);
    }
    long repaired = 0;
    long lost = 0;
    try (ReplicationManager m = new ReplicationManager(ReplicationManager.Metadata.of(replica), client, directory,
        ReplicationManager.Settings.DEFAULT, System::nanoTime)) {
      for (CopyCheck.Problem p : found.problems()) {
        if (p.kind() == CopyCheck.Kind.MISSING_COPY || p.kind() == CopyCheck.Kind.CORRUPT_COPY) {
          m.reportBadCopy(p.id(), p.node());
        }
      }
      for (int pass = 0; pass < 10_000; pass++) {
        ReplicationManager.Pass r = m.runOnce();
        catchUp.await();
        repaired += r.repaired();
        if (r.needing() == 0 || r.repaired() + r.stale() == 0) {
          lost = r.lost();
          break;
        }
      }
    }
    return new Report(found, repaired, lost, CopyCheck.check(replica, directory, redundancy, true, pace.again()));
  }
}
