package io.dynamicfs.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.DaemonCall;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code dynamicfs policy status MNT}: the policy engine of a running mount. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = {"Show the policy engine of a running mount: the access tracker (files and blocks tracked, "
        + "accesses recorded and dropped, the ring log, when it was saved), the rules in force, who predicts "
        + "(a model that passed the gate, or the heuristic) and the most accessed files lately."})
public final class PolicyStatusCommand implements Callable<Integer> {
  @Mixin
  OnMount mount;

  @Override
  public Integer call() throws Exception {
    return DaemonCall.run(mount.mountPoint, c -> {
      DaemonCall.print(c.get("/v1/policy/status"), mount.json,
          s -> render(mount.shown(), s));
      return 0;
    });
  }

  static String render(String mnt, JsonNode s) {
    StringBuilder b = new StringBuilder();
    b.append("Policy engine of ").append(mnt).append('\n');
    JsonNode t = s.path("tracker");
    if (s.path("tracking").asBoolean()) {
      b.append(String.format(Locale.ROOT, "  tracking   on: %,d of %,d files and %,d of %,d blocks tracked "
              + "(%,d and %,d evicted as cold)%n", t.path("files").asLong(), t.path("file_capacity").asLong(),
          t.path("extents").asLong(), t.path("extent_capacity").asLong(), t.path("file_evictions").asLong(),
          t.path("extent_evictions").asLong()));
      b.append(String.format(Locale.ROOT, "             %,d reads and writes recorded since mount, %,d dropped "
              + "(queue full)%n", t.path("recorded_since_mount").asLong(), t.path("dropped").asLong()));
      b.append(String.format(Locale.ROOT, "             ring log %,d of %,d accesses (%,d ever); tables saved %s; "
              + "in %s%n", t.path("log_records").asLong(), t.path("log_capacity").asLong(),
          t.path("log_appended").asLong(), t.path("last_saved").isNull() ? "not yet this mount"
              : t.path("last_saved").asText(), t.path("directory").asText()));
      if (!t.path("load_problem").isNull()) {
        b.append("             the saved tables could not be used (started empty): ")
            .append(t.path("load_problem").asText()).append('\n');
      }
    } else {
      b.append("  tracking   off: ").append(s.path("tracking_off").asText()).append('\n');
    }
    JsonNode r = s.path("rules");
    b.append("  rules      ").append(r.path("source").asText()).append(": ")
        .append(r.path("rules").size()).append(r.path("rules").size() == 1 ? " rule" : " rules").append('\n');
    for (JsonNode x : r.path("rules")) {
      b.append(String.format(Locale.ROOT, "             %s (line %d): %s%n", x.path("name").asText(),
          x.path("line").asInt(), x.path("rule").asText()));
    }
    b.append("             moves allowed ").append(r.path("schedule").asText()).append("; budget ")
        .append(r.path("budget").asText()).append('\n');
    r.path("headroom").fields().forEachRemaining(h -> b.append("             headroom ").append(h.getKey())
        .append(": keep ").append(h.getValue().asText()).append(" free\n"));
    r.path("capacity").fields().forEachRemaining(c -> b.append("             capacity ").append(c.getKey())
        .append(": hold at most ").append(c.getValue().asText()).append('\n'));
    b.append("             precedence: ").append(r.path("precedence").asText()).append('\n');
    JsonNode d = s.path("decider");
    b.append(String.format(Locale.ROOT, "  predicts   P(read within %s): %s %s%n",
        ExplainCommand.duration(d.path("horizon_seconds").asLong()), d.path("kind").asText(), d.path("name").asText()));
    if (!d.path("held_out_pr_auc").isNull() && !d.path("held_out_pr_auc").isMissingNode()) {
      b.append("             PR-AUC ").append(d.path("held_out_pr_auc").asText())
          .append(" on the latest held-out window\n");
    }
    if (!d.path("note").isNull()) {
      b.append("             ").append(d.path("note").asText()).append('\n');
    }
    JsonNode tr = s.path("training");
    if (tr.isObject()) {
      b.append(String.format(Locale.ROOT, "  training   windows of %s, now window %d; %,d samples held (%,d labelled); "
              + "%d gate rounds%n", ExplainCommand.duration(tr.path("horizon_seconds").asLong()), tr.path("window").asInt(),
          tr.path("rows").asLong(), tr.path("labelled").asLong(), tr.path("rounds").asInt()));
      JsonNode lr = tr.path("last_round");
      if (lr.isObject()) {
        b.append(String.format(Locale.ROOT, "             last round %s on window %d (%,d training, %,d held-out "
                + "samples):%n             candidate v%d PR-AUC %s, live model %s, best heuristic %s %s -> %s; %s "
                + "decides%n",
            lr.path("at").asText(), lr.path("window").asInt(), lr.path("train_rows").asLong(),
            lr.path("test_rows").asLong(), lr.path("candidate_version").asInt(), lr.path("candidate_pr_auc").asText(),
            lr.path("live_pr_auc").isNull() ? "none" : lr.path("live_pr_auc").asText(), lr.path("best_heuristic").asText(),
            lr.path("best_heuristic_pr_auc").asText(), lr.path("outcome").asText(), lr.path("decider").asText()));
      }
    }
    if (s.path("hottest_files").size() > 0) {
      b.append(String.format(Locale.ROOT, "  hottest    %-40s %9s %9s  %s%n", "path", "count 1h", "accesses",
          "last access"));
      for (JsonNode h : s.path("hottest_files")) {
        b.append(String.format(Locale.ROOT, "             %-40s %9.2f %9d  %s%n", h.path("path").asText(),
            h.path("count1h").asDouble(), h.path("accesses").asLong(), h.path("last_access").asText()));
      }
    }
    b.append("  actions    ").append(s.path("actions").asText()).append('\n');
    JsonNode x = s.path("execution");
    if (x.isObject()) {
      b.append("  executor   ").append(x.path("limits").asText()).append('\n');
      b.append(String.format(Locale.ROOT, "             %d runs; decisions %s; refusals %s; %s moved, %d ping-pongs%n",
          x.path("runs").asLong(), x.path("decisions"), x.path("refusals"),
          EvaluateCommand.bytes(x.path("bytes_moved").asLong()), x.path("ping_pongs").asLong()));
      b.append(String.format(Locale.ROOT, "             back-off: %s, %d pauses, %.1f s; foreground at the last look: "
              + "%.2f ms mean read/write latency, %d in flight%n", x.path("paused").asBoolean() ? "PAUSED now" : "not now",
          x.path("pauses").asLong(), x.path("paused_seconds").asDouble(), x.path("foreground_latency_millis").asDouble(),
          x.path("foreground_in_flight").asLong()));
      if (!x.path("last_run").isNull() && !x.path("last_run").isMissingNode()) {
        b.append("             last run: ").append(x.path("last_run").asText()).append('\n');
      }
      b.append("             audit log: ").append(x.path("audit_log").asText()).append('\n');
    }
    return b.toString();
  }
}
