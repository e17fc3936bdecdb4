package io.dynamicfs.cli.storage;

import io.dynamicfs.cli.ProgressReporter;
import io.dynamicfs.cli.SizeConverter;
import io.dynamicfs.cli.admin.AdminException;
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
        "unmounted DATA. Exit code: 0 everything readable, 1 some blocks are unrepairable (listed by file),",
        "2 cannot run."})
public final class ScrubCommand extends StorageCommand {
  @Parameters(index = "0", paramLabel = "MNT|DATA", description = "A mount point or an unmounted DATA directory.")
  Path target;

  @Option(names = "--tier", paramLabel = "NAME", description = "Scrub only this tier.")
  String tier;

  @Option(names = "--no-repair", description = "Only verify and report; write nothing.")
  boolean noRepair;

  @Option(names = "--rate", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "0",
      description = "Read at most SIZE per second (e.g. 50M); 0 = as fast as possible (default).")
  long rate;

  @Override
  int run() throws IOException, AdminException {
    Target t = Target.resolve(target);
    Scrubber.Report r;
    if (t.mounted()) {
      Map<String, Object> body = new HashMap<>();
      body.put("repair", !noRepair);
      body.put("tier", tier);
      body.put("rate", rate);
      r = online(t, "scrub", "/v1/scrub", body, Scrubber.Report.class);
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
