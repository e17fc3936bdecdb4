package io.dynamicfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs gc MNT}: reports, and with --apply reclaims, garbage in the block store. */
@Command(name = "gc", mixinStandardHelpOptions = true,
    description = {"Report (and with --apply reclaim) unreferenced blocks and dead space.",
        "Unreferenced blocks and the dead space in segment files of a mounted DynamicFS, and how much can be "
            + "reclaimed. A dry run unless --apply: then unreferenced blocks are deleted and segments at least "
            + "--min-dead dead are compacted (live records copied and verified, then the file deleted)."})
final class GcCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MNT", description = "The mount point.")
  Path mountPoint;

  @Option(names = "--apply", description = "Reclaim the space (default: only report).")
  boolean apply;

  @Option(names = {"-n", "--dry-run"}, description = "Only report (the default).")
  boolean dryRun;

  @Option(names = "--min-dead", paramLabel = "PERCENT", defaultValue = "10",
      description = "Compact segments at least this dead (1-100, default ${DEFAULT-VALUE}).")
  double minDeadPercent;

  @Option(names = "--json", description = "Print the report as JSON.")
  boolean json;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (apply && dryRun) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--apply and --dry-run exclude each other");
    }
    if (!(minDeadPercent >= 1 && minDeadPercent <= 100)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--min-dead must be 1-100 (percent)");
    }
    return DaemonCall.run(mountPoint, client -> {
      JsonNode r;
      try (ProgressReporter bar = ProgressReporter.create("gc", ProgressReporter.Unit.ITEMS)) {
        r = client.stream("/v1/gc", Map.of("apply", apply, "min_dead", minDeadPercent / 100), bar);
      }
      if (json) {
        System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r));
        return 0;
      }
      System.out.print(render(mountPoint.toAbsolutePath().normalize(), r, minDeadPercent));
      return 0;
    });
  }

  static String render(Path mnt, JsonNode r, double minDeadPercent) {
    StringBuilder b = new StringBuilder();
    boolean applied = r.path("applied").asBoolean();
    if (r.path("cluster").asBoolean()) {
      b.append(String.format(Locale.ROOT, "gc %s (cluster%s)%n", mnt,
          applied ? "" : "; dry run: nothing changed; --apply reclaims"));
      b.append(String.format(Locale.ROOT, "  pending deletion     %d blocks, %d past the grace period%n",
          r.path("pending_blocks").asLong(), r.path("due_blocks").asLong()));
      if (applied) {
        b.append(String.format(Locale.ROOT, "  reclaimed            %d blocks purged, %d copies deleted on the nodes%n",
            r.path("purged_blocks").asLong(), r.path("deleted_copies").asLong()));
      }
      return b.toString();
    }
    b.append(String.format(Locale.ROOT, "gc %s%s%n", mnt,
        applied ? "" : " (dry run: nothing changed; --apply reclaims)"));
    b.append(String.format(Locale.ROOT, "  pending deletion     %d blocks (the reclaimer deletes them within a second)%n",
        r.path("pending_blocks").asLong()));
    b.append(String.format(Locale.ROOT, "  unreferenced blocks  %d (%s)%n", r.path("unreferenced_blocks").asLong(),
        ProgressReporter.bytes(r.path("unreferenced_bytes").asLong())));
    b.append(String.format(Locale.ROOT, "  segment files        %d, %s, of which dead %s%n",
        r.path("segments").asInt(), ProgressReporter.bytes(r.path("segment_bytes").asLong()),
        ProgressReporter.bytes(r.path("dead_bytes").asLong())));
    b.append(String.format(Locale.ROOT, "  reclaimable          %s in %d sealed segments at least %.0f%% dead%n",
        ProgressReporter.bytes(r.path("reclaimable_bytes").asLong() + r.path("unreferenced_bytes").asLong()),
        r.path("reclaimable_segments").asInt(), minDeadPercent));
    if (applied) {
      b.append(String.format(Locale.ROOT, "  reclaimed            %d blocks deleted, %s of segment files freed%n",
          r.path("deleted_blocks").asLong(), ProgressReporter.bytes(r.path("freed_bytes").asLong())));
    }
    return b.toString();
  }
}
