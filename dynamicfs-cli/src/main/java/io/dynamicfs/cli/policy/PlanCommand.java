package io.dynamicfs.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.DaemonCall;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dynamicfs policy plan MNT}: the moves the engine would make now; none is executed. */
@Command(name = "plan", mixinStandardHelpOptions = true,
    description = {"Show the moves of files between tiers the policy engine would make now on a running mount, "
        + "and for each the safety checks it passed or failed: schedule, budget, free space and headroom, open "
        + "files, minimum residency, cooldown, hysteresis and benefit >= 1.5x cost. Hard rules decide first, "
        + "then preferences, then the ranking (the model, or the heuristic). Nothing is executed. See "
        + "docs/policy.md."})
public final class PlanCommand implements Callable<Integer> {
  @Mixin
  OnMount mount;

  @Option(names = "--checks", description = "List every check of every proposal (default: the failed ones).")
  boolean allChecks;

  @Override
  public Integer call() throws Exception {
    return DaemonCall.run(mount.mountPoint, c -> {
      DaemonCall.print(c.get("/v1/policy/plan"), mount.json,
          p -> render(mount.shown(), p, allChecks));
      return 0;
    });
  }

  static String render(String mnt, JsonNode p, boolean allChecks) {
    StringBuilder b = new StringBuilder();
    int refused = 0;
    for (JsonNode x : p.path("proposals")) {
      refused += x.path("refused").asBoolean() ? 1 : 0;
    }
    b.append(String.format(Locale.ROOT, "Plan for %s at %s (ranking by %s): %d moves proposed, %d refused; %d files "
            + "considered, %d held where they are%n", mnt, p.path("generated_at").asText(), p.path("decider").asText(),
        p.path("proposals").size() - refused, refused, p.path("files_considered").asInt(), p.path("files_held").asInt()));
    for (JsonNode t : p.path("tiers")) {
      b.append(String.format(Locale.ROOT, "  tier %-10s %s free of %s, headroom %s%n", t.path("name").asText(),
          EvaluateCommand.bytes(t.path("free_bytes").asLong()), EvaluateCommand.bytes(t.path("capacity_bytes").asLong()),
          EvaluateCommand.bytes(t.path("headroom_bytes").asLong())));
    }
    for (JsonNode x : p.path("proposals")) {
      b.append(String.format(Locale.ROOT, "  %-7s %-7s %s: %s -> %s, %s%n", x.path("refused").asBoolean() ? "REFUSED"
              : "ok", x.path("action").asText(), x.path("path").asText(), x.path("from").asText(), x.path("to").asText(),
          EvaluateCommand.bytes(x.path("bytes").asLong())));
      b.append("            why: ").append(x.path("reason").asText()).append('\n');
      for (JsonNode c : x.path("checks")) {
        if (allChecks || !c.path("ok").asBoolean()) {
          b.append(String.format(Locale.ROOT, "            %s %-10s %s%n", c.path("ok").asBoolean() ? "ok  " : "FAIL",
              c.path("name").asText(), c.path("detail").asText()));
        }
      }
    }
    for (JsonNode c : p.path("compactions")) {
      b.append(String.format(Locale.ROOT, "  %-7s compact tier %s: %d segments under %.0f%% live, %s to give back, %s to "
              + "copy%n", c.path("refused").asBoolean() ? "REFUSED" : "ok", c.path("tier").asText(),
          c.path("segments").asInt(), 100 * c.path("live_below").asDouble(),
          EvaluateCommand.bytes(c.path("reclaim_bytes").asLong()), EvaluateCommand.bytes(c.path("copy_bytes").asLong())));
      for (JsonNode k : c.path("checks")) {
        if (allChecks || !k.path("ok").asBoolean()) {
          b.append(String.format(Locale.ROOT, "            %s %-10s %s%n", k.path("ok").asBoolean() ? "ok  " : "FAIL",
              k.path("name").asText(), k.path("detail").asText()));
        }
      }
    }
    JsonNode w = p.path("warm");
    if (w.isObject()) {
      if (!w.path("note").isNull() && !w.path("note").isMissingNode()) {
        b.append("  warm    nothing: ").append(w.path("note").asText()).append('\n');
      } else {
        b.append(String.format(Locale.ROOT, "  warm    %d blocks of %d files (%s) into the caches, of %d that qualify "
                + "(budget %s: half the cache of %s)%n", w.path("blocks").asInt(), w.path("files").asInt(),
            EvaluateCommand.bytes(w.path("bytes").asLong()), w.path("eligible").asInt(),
            EvaluateCommand.bytes(w.path("budget_bytes").asLong()), EvaluateCommand.bytes(w.path("cache_bytes").asLong())));
        b.append("            why: ").append(w.path("rule").asText()).append('\n');
        if (w.path("paths").size() > 0) {
          java.util.List<String> paths = new java.util.ArrayList<>();
          w.path("paths").forEach(x -> paths.add(x.asText()));
          b.append("            files: ").append(String.join(", ", paths)).append('\n');
        }
      }
    }
    for (JsonNode n : p.path("notes")) {
      b.append("  note: ").append(n.asText()).append('\n');
    }
    return b.toString();
  }
}
