package io.dynamicfs.cli.storage;

import io.dynamicfs.cli.ProgressReporter;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.cli.admin.DynamicFsMounts;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.storage.Scrubber;
import io.dynamicfs.core.storage.StorageLayout;
import io.dynamicfs.core.storage.TierSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs rebuild DEVICE}: restore redundancy onto a replaced, empty device directory. */
@Command(name = "rebuild", mixinStandardHelpOptions = true,
    description = {"Restore redundancy onto a replaced (empty) or returned device directory: every copy or shard",
        "its tier is missing is rebuilt from the others. The filesystem is the mounted DynamicFS whose layout",
        "lists DEVICE, or the unmounted one given with --data."})
public final class RebuildCommand extends StorageCommand {
  @Parameters(index = "0", paramLabel = "DEVICE", description = "The device directory, as listed in the layout.")
  Path device;

  @Option(names = "--data", paramLabel = "DATA", description = "The DATA directory (when it is not mounted).")
  Path data;

  @Override
  int run() throws IOException, AdminException {
    Path dev = device.toAbsolutePath().normalize();
    Target t = data != null ? Target.resolve(data) : owner(dev);
    Scrubber.Report r;
    if (t.mounted()) {
      r = online(t, "rebuild", "/v1/rebuild", Map.of("device", dev.toString()), Scrubber.Report.class);
    } else {
      try (OfflineFilesystem o = OfflineFilesystem.open(t.data()); ProgressReporter p = bar("rebuild")) {
        r = o.fs().rebuild(dev, pr -> p.progress("rebuild", pr.blocksDone(), pr.blocksTotal()), () -> false);
      }
    }
    Reports.scrub(System.out, r);
    return r.unrepairable() > 0 ? 1 : 0;
  }

  /** The mounted filesystem whose recorded layout lists this device. */
  private static Target owner(Path dev) throws IOException {
    for (DynamicFsMounts.Mount m : DynamicFsMounts.list()) {
      Path rec = m.data().resolve(DataDirectory.LAYOUT);
      if (!Files.exists(rec)) {
        continue;
      }
      for (TierSpec ts : StorageLayout.read(rec).tiers()) {
        if (ts.devices().contains(dev)) {
          return new Target(m.data(), m.mountPoint(), "/");
        }
      }
    }
    throw FsException.of(Errno.EINVAL, "no mounted DynamicFS lists device %s; give --data DATA for an unmounted one",
        dev);
  }
}
