package io.dynamicfs.cli.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** A finished run as a table for people or as JSON for scripts (scripts/plot-bench reads the JSON). */
record BenchReport(Path dir, String fsType, BenchSettings settings, String eviction, double loadBefore,
    double loadAfter, List<PhaseResult> phases) {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  String table() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "dynamicfs bench %s (%s): %d thread(s); big file %s, io %s; "
            + "%d small files of %s; %d metadata files (per thread); page cache before reads: %s;"
            + " load average %.2f -> %.2f%n",
        dir, fsType, settings.threads(), size(settings.bigFileSize()), size(settings.ioSize()),
        settings.smallFiles(), size(settings.smallFileSize()), settings.metaFiles(),
        eviction.equals("none") ? "kept" : "dropped (" + eviction + ")", loadBefore, loadAfter));
    String header = String.format(Locale.ROOT, "%-12s %9s %11s %9s %10s %11s %10s %10s", "phase", "ops",
        "bytes", "seconds", "MiB/s", "ops/s", "avg ms", "p99 ms");
    sb.append(header).append('\n').append("-".repeat(header.length())).append('\n');
    for (PhaseResult p : phases) {
      sb.append(String.format(Locale.ROOT, "%-12s %9d %11s %9.3f %10s %11.1f %10.3f %10.3f%n", p.phase(), p.ops(),
          p.bytes() == 0 ? "-" : size(p.bytes()), p.seconds(),
          p.bytes() == 0 ? "-" : String.format(Locale.ROOT, "%.1f", p.mibPerSecond()), p.opsPerSecond(),
          p.latencyAvgMillis(), p.latencyPercentileMillis(99)));
    }
    return sb.toString();
  }

  String json() {
    ObjectNode root = JSON.createObjectNode();
    root.put("dir", dir.toString());
    root.put("filesystem", fsType);
    ObjectNode s = root.putObject("settings");
    s.put("threads", settings.threads());
    s.put("big_file_size", settings.bigFileSize());
    s.put("io_size", settings.ioSize());
    s.put("small_file_size", settings.smallFileSize());
    s.put("small_files", settings.smallFiles());
    s.put("meta_files", settings.metaFiles());
    root.put("page_cache_eviction", eviction);
    root.put("load_average_before", loadBefore);
    root.put("load_average_after", loadAfter);
    ArrayNode arr = root.putArray("phases");
    for (PhaseResult p : phases) {
      ObjectNode o = arr.addObject();
      o.put("phase", p.phase());
      o.put("ops", p.ops());
      o.put("bytes", p.bytes());
      o.put("seconds", p.seconds());
      o.put("mib_per_s", p.mibPerSecond());
      o.put("ops_per_s", p.opsPerSecond());
      o.put("latency_avg_ms", p.latencyAvgMillis());
      o.put("latency_p50_ms", p.latencyPercentileMillis(50));
      o.put("latency_p99_ms", p.latencyPercentileMillis(99));
    }
    return root.toPrettyString();
  }

  static String size(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : String.format(Locale.ROOT, v == Math.rint(v) ? "%.0f %s" : "%.1f %s", v, units[u]);
  }
}
