package io.dynamicfs.cli.storage;

import io.dynamicfs.cli.TokenFiles;
import io.dynamicfs.cluster.mount.ClusterMounts;
import io.dynamicfs.cluster.node.ClusterScrub;
import io.dynamicfs.cluster.node.ClusterToken;
import io.dynamicfs.cluster.node.CopyCheck;
import io.dynamicfs.cluster.node.Endpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code dynamicfs scrub --cluster HOST:PORT}: a {@link ClusterScrub} over a caught-up listener replica. */
final class ClusterScrubRun {
  private ClusterScrubRun() {}

  static int run(String cluster, Path tokenFile, boolean repair) throws IOException {
    List<Endpoint> peers = new ArrayList<>();
    for (String p : cluster.split(",")) {
      peers.add(Endpoint.parse("--cluster", p.trim()));
    }
    ClusterToken token = ClusterToken.read(TokenFiles.resolve(tokenFile));
    try (ClusterMounts c = ClusterMounts.connect(token, peers, "127.0.0.1")) {
      ClusterScrub.Report r = ClusterScrub.run(c.replica(), c.meta(), c.nodeDirectory(), c.redundancy(), repair,
          c::catchUp);
      CopyCheck.Report f = r.found();
      System.out.printf(Locale.ROOT, "scrub: %d blocks, %d copies verified on their nodes, %d intact%n", f.blocks(),
          f.copies(), f.intact());
      System.out.printf(Locale.ROOT, "  corrupt %d, missing %d, under-replicated %d, repaired %d, unrepairable %d%n",
          f.count(CopyCheck.Kind.CORRUPT_COPY), f.count(CopyCheck.Kind.MISSING_COPY),
          f.count(CopyCheck.Kind.UNDER_REPLICATED), r.repaired(), r.lost());
      for (CopyCheck.Problem p : r.after().problems()) {
        System.out.println("  " + (repair ? "still " : "") + p);
      }
      return r.after().atRisk() ? 1 : 0;
    }
  }
}
