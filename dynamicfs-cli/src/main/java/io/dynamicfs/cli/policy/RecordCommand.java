package io.dynamicfs.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.DaemonCall;
import io.dynamicfs.cli.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dynamicfs policy record MNT --out FILE}: a mount's recent accesses as a trace file. */
@Command(name = "record", mixinStandardHelpOptions = true,
    description = {"Write the accesses a running mount's tracker logged (its ring log: the last million block "
        + "accesses at most) over the last --since as a trace file, for 'dynamicfs policy evaluate --trace FILE' to "
        + "replay through the model and the baselines. The file ends in .dfstrace (or .dfstrace.gz, compressed). "
        + "See docs/policy.md."})
public final class RecordCommand implements Callable<Integer> {
  @Mixin
  OnMount mount;

  @Option(names = "--out", paramLabel = "FILE", required = true,
      description = "Where to write the trace; must end in .dfstrace or .dfstrace.gz and not exist yet.")
  Path out;

  @Option(names = "--since", paramLabel = "DURATION", defaultValue = "24h",
      description = "How far back: a number with s, m, h or d (default ${DEFAULT-VALUE}).")
  String since;

  @Override
  public Integer call() throws Exception {
    String name = out.getFileName() == null ? "" : out.getFileName().toString();
    boolean gzip = name.endsWith(".dfstrace.gz");
    if (!gzip && !name.endsWith(".dfstrace")) {
      System.err.println("dynamicfs: --out must end in .dfstrace or .dfstrace.gz (what 'policy evaluate' reads): " + out);
      return Main.EXIT_USAGE;
    }
    if (Files.exists(out)) {
      System.err.println("dynamicfs: " + out + " exists; give a new file");
      return Main.EXIT_USAGE;
    }
    Long seconds = SimulateCommand.seconds(since);
    if (seconds == null) {
      return Main.EXIT_USAGE;
    }
    return DaemonCall.run(mount.mountPoint, c -> {
      JsonNode r = c.post("/v1/policy/record", Map.of("since_seconds", seconds));
      Path written = Path.of(r.path("file").asText());
      try {
        if (gzip) {
          try (var in = Files.newInputStream(written);
               var z = new java.util.zip.GZIPOutputStream(Files.newOutputStream(out), 1 << 16)) {
            in.transferTo(z);
          }
        } else {
          Files.copy(written, out, StandardCopyOption.COPY_ATTRIBUTES);
        }
      } finally {
        Files.deleteIfExists(written);
      }
      ((com.fasterxml.jackson.databind.node.ObjectNode) r).put("file", out.toAbsolutePath().toString());
      DaemonCall.print(r, mount.json, x -> String.format(Locale.ROOT, "recorded %,d accesses (%,d writes)%s to %s%n",
          x.path("accesses").asLong(), x.path("writes").asLong(), x.path("first").isNull() ? ""
              : " from " + x.path("first").asText() + " to " + x.path("last").asText(), out));
      return 0;
    });
  }
}
