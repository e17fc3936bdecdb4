package io.dynamicfs.cli.storage;

import io.dynamicfs.core.engine.TierMove;
import io.dynamicfs.core.storage.Tier;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs tier status|move}. */
@Command(name = "tier", mixinStandardHelpOptions = true,
    description = "Show storage tiers and devices, or move files between tiers.",
    subcommands = {TierCommand.Status.class, TierCommand.Move.class})
public final class TierCommand implements Runnable {
  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (status, move)");
  }

  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Per tier and device: health, capacity, free and used space, records, bad records found, repairs.")
  static final class Status extends StorageCommand {
    @Parameters(index = "0", paramLabel = "MNT|DATA", description = "A mount point or an unmounted DATA directory.")
    Path target;

    @Override
    int run() throws IOException {
      Target t = Target.resolve(target);
      if (t.mounted()) {
        throw needsOffline(t, "tier status");
      }
      List<Tier.Status> st;
      try (OfflineFilesystem o = OfflineFilesystem.open(t.data())) {
        st = o.fs().storage().tiers().stream().map(Tier::status).toList();
      }
      Reports.tiers(System.out, st);
      return 0;
    }
  }

  @Command(name = "move", mixinStandardHelpOptions = true,
      description = {"Move a file or a whole tree to another tier (copy, verify, switch metadata, release the old",
          "copy; crash-safe, dedup preserved). PATH is a path in a mounted DynamicFS, or, with --data, a path",
          "from the root of an unmounted one."})
  static final class Move extends StorageCommand {
    @Parameters(index = "0", paramLabel = "PATH", description = "File or directory to move.")
    Path path;

    @Option(names = "--to", required = true, paramLabel = "TIER", description = "The tier to move to.")
    String to;

    @Option(names = "--data", paramLabel = "DATA", description = "An unmounted DATA directory; PATH is then from its root.")
    Path data;

    @Override
    int run() throws IOException {
      Target t = data != null ? Target.resolve(data) : Target.resolve(path);
      String inner = data != null ? "/" + path.toString() : t.inner();
      if (t.mounted()) {
        throw needsOffline(t, "tier move");
      }
      ProgressLines p = new ProgressLines(System.err, "tier move");
      TierMove.Result r;
      try (OfflineFilesystem o = OfflineFilesystem.open(t.data())) {
        long ino = o.lookup(inner);
        r = o.fs().moveToTier(ino, to, pr -> p.update(pr.blocksDone(), pr.blocksTotal(),
            Reports.bytes(pr.bytesMoved()) + " moved"));
      }
      Reports.move(System.out, to, r);
      return 0;
    }
  }
}
