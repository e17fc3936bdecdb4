package io.dynamicfs.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.DaemonCall;
import io.dynamicfs.cli.Durations;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dynamicfs policy simulate MNT [--since 24h]}: the plan as it would run, executing nothing. */
@Command(name = "simulate", mixinStandardHelpOptions = true,
    description = {"Show what the current plan would do on a running mount, executing nothing: the moves and bytes, "
        + "how long they would take (at the rules' MB/s, else the rate of past moves), the bytes the promoted files "
        + "are expected to be read in the next hour, and the reads of the last --since replayed from the mount's "
        + "access log against the placement now and after the plan (the fast tier's byte hit ratio either way). "
        + "See docs/policy.md."})
public final class SimulateCommand implements Callable<Integer> {

  @Mixin
  OnMount mount;

  @Option(names = "--since", paramLabel = "DURATION", defaultValue = "24h",
      description = "How far back to replay the reads: a number with s, m, h or d (default ${DEFAULT-VALUE}).")
  String since;

  @Override
  public Integer call() throws Exception {
    Long seconds = seconds(since);
    if (seconds == null) {
      return io.dynamicfs.cli.Main.EXIT_USAGE;
    }
    return DaemonCall.run(mount.mountPoint, c -> {
      DaemonCall.print(c.post("/v1/policy/simulate", Map.of("since_seconds", seconds)), mount.json,
          r -> render(mount.shown(), r));
      return 0;
    });
  }

  /** {@code --since} in seconds, or null after saying on stderr why it is not a duration. */
  static Long seconds(String since) {
    long seconds;
    try {
      seconds = Durations.parse(since).toSeconds();
    } catch (IllegalArgumentException e) {
      seconds = 0;
    }
    if (seconds > 0) {
      return seconds;
    }
    System.err.println("dynamicfs: --since must be a number with s, m, h or d (e.g. 24h), not '" + since + "'");
    return null;
  }

  static String render(String mnt, JsonNode s) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "Simulation for %s at %s (ranking by %s), nothing executed%n", mnt,
        s.path("generated_at").asText(), s.path("decider").asText()));
    b.append(String.format(Locale.ROOT, "  moves      %d would run (%s: %s up to the fast tier, %s down), %d refused%n",
        s.path("moves").asInt(), EvaluateCommand.bytes(s.path("bytes_to_move").asLong()),
        EvaluateCommand.bytes(s.path("bytes_to_promote").asLong()), EvaluateCommand.bytes(s.path("bytes_to_demote").asLong()),
        s.path("refused").asInt()));
    JsonNode sec = s.path("estimated_seconds");
    b.append(String.format(Locale.ROOT, "  time       %s (%s)%n", sec.isNumber() ? ExplainCommand.duration(
        (long) Math.ceil(sec.asDouble())) : "unknown", s.path("estimate_basis").asText()));
    b.append(String.format(Locale.ROOT, "  benefit    %s expected to be read from the promoted files in the next hour%n",
        EvaluateCommand.bytes(s.path("expected_bytes_next_hour").asLong())));
    JsonNode r = s.path("replay");
    if (r.isObject()) {
      b.append(String.format(Locale.ROOT, "  replay     reads since %s (log from %s): %d reads, %s%n",
          r.path("from").asText(), r.path("log_from").asText("-"), r.path("reads").asLong(),
          EvaluateCommand.bytes(r.path("bytes").asLong())));
      b.append(String.format(Locale.ROOT, "             fast-tier byte hit ratio: now %s, after the plan %s%n",
          ratio(r.path("hit_ratio_now")), ratio(r.path("hit_ratio_after"))));
    }
    for (JsonNode x : s.path("proposals")) {
      b.append(String.format(Locale.ROOT, "  %-7s %-7s %s: %s -> %s, %s%n", x.path("refused").asBoolean() ? "REFUSED"
              : "would", x.path("action").asText(), x.path("path").asText(), x.path("from").asText(),
          x.path("to").asText(), EvaluateCommand.bytes(x.path("bytes").asLong())));
    }
    for (JsonNode n : s.path("notes")) {
      b.append("  note: ").append(n.asText()).append('\n');
    }
    return b.toString();
  }

  private static String ratio(JsonNode n) {
    return n.isNumber() ? String.format(Locale.ROOT, "%.3f", n.asDouble()) : "-";
  }
}
