package io.dynamicfs.cli.storage;

import com.fasterxml.jackson.core.type.TypeReference;
import io.dynamicfs.cli.ProgressReporter;
import io.dynamicfs.cli.admin.AdminClient;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.cli.admin.AdminJson;
import io.dynamicfs.core.engine.TierMove;
import io.dynamicfs.core.storage.Tier;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
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

    @Option(names = "--json", description = "Print the figures as JSON.")
    boolean json;

    @Override
    int run() throws IOException, AdminException {
      Target t = Target.resolve(target);
      List<Tier.Status> st;
      if (t.mounted()) {
        st = AdminJson.mapper().convertValue(AdminClient.forMount(t.mountPoint()).get("/v1/tiers"),
            new TypeReference<List<Tier.Status>>() { });
      } else {
        try (OfflineFilesystem o = OfflineFilesystem.open(t.data())) {
          st = o.fs().storage().tiers().stream().map(Tier::status).toList();
        }
      }
      if (json) {
        System.out.println(AdminJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(st));
      } else {
        Reports.tiers(System.out, st);
      }
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
    int run() throws IOException, AdminException {
      Target t = data != null ? Target.resolve(data) : Target.resolve(path);
      String inner = data != null ? "/" + path.toString() : t.inner();
      TierMove.Result r;
      if (t.mounted()) {
        r = online(t, "tier move", "/v1/tier/move", Map.of("path", inner, "to", to), TierMove.Result.class);
      } else {
        try (OfflineFilesystem o = OfflineFilesystem.open(t.data()); ProgressReporter p = bar("tier move")) {
          r = o.fs().moveToTier(o.fs().resolve(inner), to, pr -> p.progress("move", pr.blocksDone(), pr.blocksTotal()));
        }
      }
      Reports.move(System.out, to, r);
      return 0;
    }
  }
}
