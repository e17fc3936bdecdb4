package io.dynamicfs.cli.storage;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.storage.Scrubber;
import io.dynamicfs.core.storage.StorageLayout;
import io.dynamicfs.core.storage.TierSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs rebuild DEVICE}: restore redundancy onto a replaced, empty device directory. */
@Command(name = "rebuild", mixinStandardHelpOptions = true,
    description = {"Restore redundancy onto a replaced (empty) or returned device directory: every copy or shard",
        "its tier is missing is rebuilt from the others. The filesystem is found from the mounted DynamicFS",
        "whose layout lists DEVICE, or given with --data for an unmounted one."})
public final class RebuildCommand extends StorageCommand {
  @Parameters(index = "0", paramLabel = "DEVICE", description = "The device directory, as listed in the layout.")
  Path device;

  @Option(names = "--data", paramLabel = "DATA", description = "The DATA directory (when it is not mounted).")
  Path data;

  @Override
  int run() throws IOException {
    Path dev = device.toAbsolutePath().normalize();
    Target t = data != null ? Target.resolve(data) : owner(dev);
    if (t.mounted()) {
      throw needsOffline(t, "rebuild");
    }
    ProgressLines p = new ProgressLines(System.err, "rebuild");
    Scrubber.Report r;
    try (OfflineFilesystem o = OfflineFilesystem.open(t.data())) {
      r = o.fs().rebuild(dev, pr -> p.update(pr.blocksDone(), pr.blocksTotal(),
          pr.blocksDone() + "/" + pr.blocksTotal() + " blocks, " + Reports.bytes(pr.bytesDone()) + " read"), () -> false);
    }
    Reports.scrub(System.out, r);
    return r.unrepairable() > 0 ? 1 : 0;
  }

  /** The mounted filesystem whose recorded layout lists this device. */
  private static Target owner(Path dev) throws FsException {
    for (Target.Mount m : Target.mounts()) {
      Path rec = m.data().resolve("storage.yaml");
      if (!Files.exists(rec)) {
        continue;
      }
      StorageLayout l = StorageLayout.read(rec);
      for (TierSpec ts : l.tiers()) {
        if (ts.devices().contains(dev)) {
          return new Target(m.data(), m.mountPoint(), "/");
        }
      }
    }
    throw FsException.of(Errno.EINVAL, "no mounted DynamicFS lists device %s; give --data DATA for an unmounted one",
        dev);
  }
}
