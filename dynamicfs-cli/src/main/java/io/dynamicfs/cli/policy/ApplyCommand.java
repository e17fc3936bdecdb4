package io.dynamicfs.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.DaemonCall;
import io.dynamicfs.cli.ProgressReporter;
import io.dynamicfs.cli.admin.AdminClient;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.cli.admin.AdminJson;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code dynamicfs policy apply MNT}: plan now and execute the accepted moves. */
@Command(name = "apply", mixinStandardHelpOptions = true,
    description = {"Plan now on a running mount and execute the moves that pass every safety check, one after "
        + "another through the crash-safe tier move, at the rules' MB/s budget and pausing while the foreground "
        + "is busy; each move and refusal is written to DATA/policy/audit.jsonl. Exit status 1 when a move failed. "
        + "See docs/policy.md."})
public final class ApplyCommand implements Callable<Integer> {
  @Mixin
  OnMount mount;

  @Override
  public Integer call() throws Exception {
    try {
      JsonNode r;
      try (ProgressReporter bar = ProgressReporter.create("policy apply", ProgressReporter.Unit.ITEMS)) {
        r = AdminClient.forMount(mount.mountPoint).stream("/v1/policy/apply", Map.of(), bar);
      }
      System.out.print(mount.json ? AdminJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(r) + "\n"
          : render(r));
      return r.path("failed").asInt() > 0 ? 1 : 0;
    } catch (AdminException e) {
      return DaemonCall.fail(e);
    }
  }

  static String render(JsonNode r) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "Applied at %s: %d moved (%s), %d refused, %d failed, %d stopped, in %.1f s%n",
        r.path("started_at").asText(), r.path("moved").asInt(), EvaluateCommand.bytes(r.path("bytes_moved").asLong()),
        r.path("refused").asInt(), r.path("failed").asInt(), r.path("stopped").asInt(), r.path("millis").asLong() / 1000.0));
    for (JsonNode o : r.path("outcomes")) {
      b.append(String.format(Locale.ROOT, "  %-8s %-7s %s: %s -> %s, %s%n", o.path("outcome").asText(),
          o.path("action").asText(), o.path("path").asText(), o.path("from").asText(), o.path("to").asText(),
          EvaluateCommand.bytes(o.path("moved_bytes").isNumber() ? o.path("moved_bytes").asLong() : o.path("bytes").asLong())));
      for (JsonNode c : o.path("failed_checks")) {
        b.append("           FAIL ").append(c.asText()).append('\n');
      }
      if (o.hasNonNull("error")) {
        b.append("           error: ").append(o.path("error").asText()).append('\n');
      }
    }
    for (JsonNode c : r.path("compacted")) {
      b.append(String.format(Locale.ROOT, "  %-8s compact tier %s%s%n", c.path("outcome").asText(), c.path("tier").asText(),
          c.path("outcome").asText().equals("compacted") ? ": " + EvaluateCommand.bytes(c.path("freed_bytes").asLong())
              + " given back" : c.hasNonNull("error") ? ": " + c.path("error").asText() : ""));
      for (JsonNode f : c.path("failed_checks")) {
        b.append("           FAIL ").append(f.asText()).append('\n');
      }
    }
    JsonNode w = r.path("warmed");
    if (w.path("blocks").asInt() > 0 || w.path("failed").asInt() > 0) {
      b.append(String.format(Locale.ROOT, "  warmed   %d blocks (%s) into the caches%s%s%n", w.path("blocks").asInt(),
          EvaluateCommand.bytes(w.path("bytes").asLong()), w.path("failed").asInt() > 0
              ? ", " + w.path("failed").asInt() + " gone since the plan" : "",
          w.path("stopped").asBoolean() ? " (cut short: the mount is stopping)" : ""));
    }
    return b.toString();
  }
}
