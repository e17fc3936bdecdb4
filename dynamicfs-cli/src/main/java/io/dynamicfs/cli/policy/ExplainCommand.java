package io.dynamicfs.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.DaemonCall;
import io.dynamicfs.cli.Main;
import io.dynamicfs.cli.admin.AdminClient;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.cli.admin.AdminJson;
import io.dynamicfs.cli.admin.DynamicFsMounts;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs policy explain PATH}: why a file of a running mount is where it is. */
@Command(name = "explain", mixinStandardHelpOptions = true,
    description = {"Explain a file of a running mount: where its blocks are (tier per block, as extents), its "
        + "access figures (last access, decayed counts per half-life, bytes, sequential share) and those of its "
        + "blocks, the prediction P(read within the horizon) with the features that drove it (or the heuristic "
        + "while no model passed the gate), the rules that matched and what they decide."})
public final class ExplainCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "PATH", description = "A file in a mounted DynamicFS.")
  Path path;

  @Option(names = "--json", description = "Print the daemon's answer as JSON.")
  boolean json;

  @Option(names = "--blocks", paramLabel = "N", defaultValue = "16",
      description = "Tracked blocks to list in the text output (default ${DEFAULT-VALUE}; --json has up to 256).")
  int blocks;

  @Override
  public Integer call() throws Exception {
    Path abs = path.toAbsolutePath().normalize();
    Optional<DynamicFsMounts.Mount> m = DynamicFsMounts.containing(abs);
    if (m.isEmpty()) {
      System.err.println("dynamicfs: " + abs + " is not in a mounted DynamicFS");
      return Main.EXIT_USAGE;
    }
    String inner = "/" + m.get().mountPoint().relativize(abs).toString().replace('\\', '/');
    try {
      JsonNode e = AdminClient.forMount(m.get().mountPoint()).post("/v1/policy/explain", Map.of("path", inner));
      System.out.print(json ? AdminJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(e) + "\n"
          : render(e, blocks));
      return 0;
    } catch (AdminException e) {
      return DaemonCall.fail(e);
    }
  }

  static String render(JsonNode e, int maxBlocks) {
    StringBuilder b = new StringBuilder();
    long bs = e.path("block_size").asLong();
    JsonNode p = e.path("placement");
    b.append(String.format(Locale.ROOT, "%s (inode %d, %s, %d blocks of %s)%n", e.path("path").asText(),
        e.path("ino").asLong(), EvaluateCommand.bytes(e.path("size").asLong()), p.path("blocks").asLong(),
        EvaluateCommand.bytes(bs)));
    b.append(String.format(Locale.ROOT, "  placement  %d stored, %d inline, %d holes%n", p.path("stored_blocks").asLong(),
        p.path("inline_blocks").asLong(), p.path("hole_blocks").asLong()));
    for (JsonNode x : p.path("extents")) {
      long first = x.path("first_block").asLong();
      long last = x.path("last_block").asLong();
      b.append(String.format(Locale.ROOT, "             %-16s %-10s %s%n",
          first == last ? "block " + first : "blocks " + first + "-" + last, x.path("location").asText(),
          EvaluateCommand.bytes(x.path("bytes").asLong())));
    }
    if (p.path("extents_truncated").asBoolean()) {
      b.append("             ... (more runs: --json has the first 1024)\n");
    }
    b.append("  access     ").append(access(e.path("access"))).append('\n');
    JsonNode blocks = e.path("blocks");
    if (blocks.size() > 0) {
      b.append(String.format(Locale.ROOT, "  blocks     %d tracked%n", e.path("blocks_tracked").asInt()));
      b.append(String.format(Locale.ROOT, "             %8s %-10s %8s %6s %8s %8s %8s %8s%n", "block", "where",
          "accesses", "seq", "1m", "1h", "1d", "score"));
      int shown = 0;
      for (JsonNode x : blocks) {
        if (shown++ >= maxBlocks) {
          b.append("             ... (--blocks N or --json for more)\n");
          break;
        }
        JsonNode a = x.path("access");
        JsonNode c = a.path("counters");
        b.append(String.format(Locale.ROOT, "             %8d %-10s %8d %6.2f %8.2f %8.2f %8.2f %8.3f%n",
            x.path("index").asLong(), x.path("location").asText(), a.path("accesses").asLong(),
            a.path("sequential_ratio").asDouble(), c.path(0).path("value").asDouble(), c.path(1).path("value").asDouble(),
            c.path(2).path("value").asDouble(), x.path("probability").isNull() ? x.path("score").asDouble()
                : x.path("probability").asDouble()));
      }
    }
    JsonNode pr = e.path("prediction");
    b.append(String.format(Locale.ROOT, "  prediction P(read within %s) by %s: %s%s%n",
        duration(pr.path("horizon_seconds").asLong()), pr.path("decider").asText(),
        pr.path("probability").isNull() ? "score " + num(pr.path("score").asDouble())
            : num(pr.path("probability").asDouble()),
        pr.path("block").isNull() ? "" : " (block " + pr.path("block").asLong() + ", the file's hottest)"));
    for (JsonNode c : pr.path("contributions")) {
      b.append(String.format(Locale.ROOT, "             %-20s = %8s%s%n", c.path("feature").asText(),
          num(c.path("value").asDouble()), c.path("contribution").isNull() ? ""
              : String.format(Locale.ROOT, "   contributes %+.3f to the log-odds", c.path("contribution").asDouble())));
    }
    if (!pr.path("note").isNull()) {
      b.append("             ").append(pr.path("note").asText()).append('\n');
    }
    JsonNode r = e.path("rules");
    b.append("  rules      ").append(r.path("decision").asText()).append('\n');
    for (JsonNode x : r.path("matches")) {
      b.append(String.format(Locale.ROOT, "             %s '%s' (line %d): %s%s%n", x.path("decides").asBoolean() ? "*"
              : "-", x.path("name").asText(), x.path("line").asInt(), x.path("rule").asText(),
          x.path("applies").asBoolean() ? "" : " (condition not met now)"));
    }
    b.append("  decisions  ").append(e.path("decisions").asText()).append('\n');
    return b.toString();
  }

  private static String access(JsonNode a) {
    if (!a.path("tracked").asBoolean()) {
      return "no access recorded (never read or written since tracking began, or evicted as cold)";
    }
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "last %s (%s ago), first %s%n", a.path("last_access").asText(),
        duration((long) a.path("seconds_since_last_access").asDouble()), a.path("first_access").asText()));
    b.append(String.format(Locale.ROOT, "             %,d accesses (%,d writes), %s, sequential share %.2f%n",
        a.path("accesses").asLong(), a.path("writes").asLong(), EvaluateCommand.bytes(a.path("bytes").asLong()),
        a.path("sequential_ratio").asDouble()));
    b.append("             decayed counts:");
    for (JsonNode c : a.path("counters")) {
      b.append(String.format(Locale.ROOT, " %s %.2f", c.path("half_life").asText(), c.path("value").asDouble()));
    }
    b.append(" (an access counts 1, halved every half-life since)");
    return b.toString();
  }

  private static String num(double v) {
    return String.format(Locale.ROOT, "%.3f", v);
  }

  static String duration(long seconds) {
    if (seconds % 86400 == 0 && seconds > 0) {
      return seconds / 86400 + "d";
    }
    if (seconds % 3600 == 0 && seconds > 0) {
      return seconds / 3600 + "h";
    }
    if (seconds >= 3600) {
      return String.format(Locale.ROOT, "%dh%02dm", seconds / 3600, seconds / 60 % 60);
    }
    if (seconds >= 60) {
      return String.format(Locale.ROOT, "%dm%02ds", seconds / 60, seconds % 60);
    }
    return seconds + "s";
  }
}
