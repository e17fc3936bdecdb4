package io.dynamicfs.cli.storage;

import io.dynamicfs.cli.TokenFiles;
import io.dynamicfs.cli.admin.ClusterScrubJson;
import io.dynamicfs.cluster.mount.ClusterMounts;
import io.dynamicfs.cluster.node.ClusterScrub;
import io.dynamicfs.cluster.node.ClusterToken;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.core.storage.ByteRate;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code dynamicfs scrub --cluster HOST:PORT}: a {@link ClusterScrub} over a caught-up listener replica. */
final class ClusterScrubRun {
  private ClusterScrubRun() {}

  static int run(String cluster, Path tokenFile, boolean repair, long bytesPerSecond) throws IOException {
    List<Endpoint> peers = new ArrayList<>();
    for (String p : cluster.split(",")) {
      peers.add(Endpoint.parse("--cluster", p.trim()));
    }
    ClusterToken token = ClusterToken.read(TokenFiles.resolve(tokenFile));
    try (ClusterMounts c = ClusterMounts.connect(token, peers, "127.0.0.1", true)) {
      ClusterScrub.Report r = ClusterScrub.run(c.replica(), c.meta(), c.nodeDirectory(), c.redundancy(), repair,
          c::catchUp, new ByteRate(bytesPerSecond));
      System.out.print(ClusterScrubJson.render(ClusterScrubJson.of(r, repair)));
      return r.after().atRisk() ? 1 : 0;
    }
  }
}
