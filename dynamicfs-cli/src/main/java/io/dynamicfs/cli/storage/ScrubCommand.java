package io.dynamicfs.cli.storage;

import io.dynamicfs.cli.ProgressReporter;
import io.dynamicfs.cli.SizeConverter;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.cli.admin.ClusterScrubJson;
import io.dynamicfs.core.storage.Scrubber;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs scrub MNT|DATA}: verify every copy and shard of every block now, repairing what is bad. */
@Command(name = "scrub", mixinStandardHelpOptions = true,
    description = {"Verify every copy or shard of every block against its checksum and repair what is bad or",
        "missing from the redundancy left (one pass, now). Works on a mount point (through its daemon) or an",
        "unmounted DATA; with --cluster (or on a cluster mount), on a running cluster: every node verifies",
        "its own copies and each missing or corrupt one is copied again from an intact one. Exit code: 0",
        "everything readable (after repair), 1 some blocks are unrepairable (listed by file) or, on a cluster,",
        "still at risk, 2 cannot run."})
public final class ScrubCommand extends StorageCommand {
  @Parameters(index = "0", arity = "0..1", paramLabel = "MNT|DATA",
      description = "A mount point or an unmounted DATA directory.")
  Path target;

  @Option(names = "--cluster", paramLabel = "HOST:PORT[,HOST:PORT...]", description = "Scrub this cluster instead.")
  String cluster;

  @Option(names = "--token-file", paramLabel = "FILE", description = "The cluster's token (default $DYNAMICFS_TOKEN_FILE).")
  Path tokenFile;

  @Option(names = "--tier", paramLabel = "NAME", description = "Scrub only this tier.")
  String tier;

  @Option(names = "--no-repair", description = "Only verify and report; write nothing.")
  boolean noRepair;

  @Option(names = "--rate", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "0",
      description = "Read at most SIZE per second (e.g. 50M); 0 = as fast as possible (default).")
  long rate;

  @Override
  int run() throws IOException, AdminException {
    if ((cluster == null) == (target == null)) {
      throw new io.dynamicfs.core.api.FsException(io.dynamicfs.core.api.Errno.EINVAL,
          "give MNT|DATA or --cluster HOST:PORT, one of them");
    }
    if (cluster != null) {
      return ClusterScrubRun.run(cluster, tokenFile, !noRepair, rate);
    }
    Target t = Target.resolve(target);
    Scrubber.Report r;
    if (t.mounted()) {
      Map<String, Object> body = new HashMap<>();
      body.put("repair", !noRepair);
      body.put("tier", tier);
      body.put("rate", rate);
      @SuppressWarnings("unchecked")
      Map<String, Object> answer = online(t, "scrub", "/v1/scrub", body, Map.class);
      if (Boolean.TRUE.equals(answer.get("cluster"))) { // a cluster mount scrubs the cluster
        System.out.print(ClusterScrubJson.render(answer));
        return Boolean.TRUE.equals(answer.get("at_risk")) ? 1 : 0;
      }
      r = io.dynamicfs.cli.admin.AdminJson.mapper().convertValue(answer, Scrubber.Report.class);
    } else {
      try (OfflineFilesystem o = OfflineFilesystem.open(t.data()); ProgressReporter p = bar("scrub")) {
        r = o.fs().scrub(!noRepair, tier, rate, pr -> p.progress("scrub", pr.blocksDone(), pr.blocksTotal()),
            () -> false);
      }
    }
    Reports.scrub(System.out, r);
    return r.unrepairable() > 0 ? 1 : 0;
  }
}
