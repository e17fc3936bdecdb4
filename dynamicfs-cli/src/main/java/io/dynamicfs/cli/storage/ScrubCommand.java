package io.dynamicfs.cli.storage;

import io.dynamicfs.cli.SizeConverter;
import io.dynamicfs.core.storage.Scrubber;
import java.io.IOException;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs scrub MNT|DATA}: verify every copy and shard of every block now, repairing what is bad. */
@Command(name = "scrub", mixinStandardHelpOptions = true,
    description = {"Verify every copy or shard of every block against its checksum and repair what is bad or",
        "missing from the redundancy left (one pass, now). Works on a mount point or an unmounted DATA.",
        "Exit code: 0 everything readable, 1 some blocks are unrepairable (listed by file), 2 cannot run."})
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
  int run() throws IOException {
    Target t = Target.resolve(target);
    if (t.mounted()) {
      throw needsOffline(t, "scrub");
    }
    ProgressLines p = new ProgressLines(System.err, "scrub");
    Scrubber.Report r;
    try (OfflineFilesystem o = OfflineFilesystem.open(t.data())) {
      r = o.fs().scrub(!noRepair, tier, rate, pr -> p.update(pr.blocksDone(), pr.blocksTotal(),
          pr.blocksDone() + "/" + pr.blocksTotal() + " blocks, " + Reports.bytes(pr.bytesDone()) + " read"), () -> false);
    }
    Reports.scrub(System.out, r);
    return r.unrepairable() > 0 ? 1 : 0;
  }
}
