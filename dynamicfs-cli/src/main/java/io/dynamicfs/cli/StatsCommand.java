package io.dynamicfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs stats MNT}: a live view of a mount, like top. */
@Command(name = "stats", mixinStandardHelpOptions = true,
    description = {"Live view of a mounted DynamicFS, like top: ops/s, throughput, latency, hit ratios.",
        "Refreshed every interval: operations per second, read/write throughput, errors, latency (mean and "
            + "p99 per operation) and cache hit ratios over the last interval. Ctrl-C to stop."})
final class StatsCommand implements Callable<Integer> {
  private static final String CLEAR = "\033[H\033[2J";

  @Parameters(index = "0", paramLabel = "MNT", description = "The mount point.")
  Path mountPoint;

  @Option(names = "--interval", paramLabel = "SECONDS", defaultValue = "1",
      description = "Seconds between refreshes (default ${DEFAULT-VALUE}).")
  double interval;

  @Option(names = "--once", description = "Print one view (over one interval) and exit.")
  boolean once;

  @Option(names = "--count", paramLabel = "N", description = "Print N views and exit (default: until Ctrl-C).")
  Integer count;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (!(interval >= 0.05 && interval <= 3600)) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--interval must be 0.05-3600 seconds");
    }
    if (count != null && count < 1) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--count must be at least 1");
    }
    int views = once ? 1 : count == null ? Integer.MAX_VALUE : count;
    boolean terminal = System.console() != null;
    return DaemonCall.run(mountPoint, client -> {
      JsonNode before = client.get("/v1/stats");
      for (int i = 0; i < views; i++) {
        Thread.sleep((long) (interval * 1000));
        JsonNode now = client.get("/v1/stats");
        String view = render(mountPoint.toAbsolutePath().normalize().toString(), before, now);
        System.out.print(terminal && !once ? CLEAR + view : view + (i + 1 < views ? "\n" : ""));
        System.out.flush();
        before = now;
      }
      return 0;
    });
  }

  /** One view: rates between two snapshots of GET /v1/stats. */
  static String render(String mnt, JsonNode a, JsonNode b) {
    double secs = Math.max(1e-3, (b.path("time_millis").asLong() - a.path("time_millis").asLong()) / 1000.0);
    StringBuilder out = new StringBuilder();
    out.append(String.format(Locale.ROOT, "dynamicfs stats %s  interval %.1f s  up %s%n", mnt, secs,
        StatusCommand.duration((long) b.path("uptime_seconds").asDouble())));
    double totalOps = 0;
    double totalErrors = 0;
    List<Object[]> active = new ArrayList<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = b.path("ops").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode was = a.path("ops").path(e.getKey());
      double n = e.getValue().path("count").asDouble() - was.path("count").asDouble();
      double err = e.getValue().path("errors").asDouble() - was.path("errors").asDouble();
      double time = e.getValue().path("seconds").asDouble() - was.path("seconds").asDouble();
      totalOps += n;
      totalErrors += err;
      if (n > 0) {
        active.add(new Object[] {e.getKey(), n, err, time, p99(was.path("buckets"), e.getValue().path("buckets"), n)});
      }
    }
    out.append(String.format(Locale.ROOT, "  ops/s %10.1f   read %10s/s   write %10s/s   errors/s %.1f%n",
        totalOps / secs, ProgressReporter.bytes(delta(a, b, "bytes_read") / secs),
        ProgressReporter.bytes(delta(a, b, "bytes_written") / secs), totalErrors / secs));
    for (Iterator<Map.Entry<String, JsonNode>> it = b.path("caches").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> c = it.next();
      JsonNode was = a.path("caches").path(c.getKey());
      double hits = c.getValue().path("hits").asDouble() - was.path("hits").asDouble();
      double misses = c.getValue().path("misses").asDouble() - was.path("misses").asDouble();
      out.append(String.format(Locale.ROOT, "  cache %-4s hit ratio %6s   lookups/s %.1f%n", c.getKey(),
          hits + misses == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * hits / (hits + misses)),
          (hits + misses) / secs));
    }
    JsonNode raft = b.path("raft");
    if (raft.has("applied_index")) {
      double applied = raft.path("applied_index").asDouble();
      out.append(String.format(Locale.ROOT, "  cluster replica applied %.0f, behind the commit index by %.0f, "
              + "%.1f entries/s, term %.0f%n", applied, Math.max(0, raft.path("commit_index").asDouble() - applied),
          (applied - a.path("raft").path("applied_index").asDouble(applied)) / secs, raft.path("term").asDouble()));
    }
    out.append(String.format(Locale.ROOT, "  %-12s %10s %10s %10s %10s%n", "op", "ops/s", "mean ms", "p99 ms",
        "errors/s"));
    active.sort(Comparator.comparingDouble((Object[] r) -> -(double) r[1]));
    for (Object[] r : active) {
      double n = (double) r[1];
      double p99 = (double) r[4];
      out.append(String.format(Locale.ROOT, "  %-12s %10.1f %10.3f %10s %10.1f%n", r[0], n / secs,
          1000 * (double) r[3] / n, Double.isNaN(p99) ? ">10000" : String.format(Locale.ROOT, "%.3f", 1000 * p99),
          (double) r[2] / secs));
    }
    if (active.isEmpty()) {
      out.append("  (no operations in this interval)\n");
    }
    return out.toString();
  }

  private static double delta(JsonNode a, JsonNode b, String field) {
    return b.path(field).asDouble() - a.path(field).asDouble();
  }

  /**
   * The 99th percentile over the interval, as the upper bound of the first bucket whose (cumulative) count
   * grew by at least 99% of the operations; NaN when it lies past the last bucket.
   */
  static double p99(JsonNode before, JsonNode after, double n) {
    for (int i = 0; i < after.size(); i++) {
      double le = after.get(i).get(0).asDouble();
      double was = i < before.size() ? before.get(i).get(1).asDouble() : 0;
      if (after.get(i).get(1).asDouble() - was >= 0.99 * n) {
        return le;
      }
    }
    return Double.NaN;
  }
}
