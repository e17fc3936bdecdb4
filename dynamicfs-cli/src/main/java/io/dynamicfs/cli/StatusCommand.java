package io.dynamicfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs status MNT}: what a running mount is and how it is doing. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = {"Show how a mounted DynamicFS is doing: configuration, space, caches, health.",
        "Version, pid, uptime, format, configuration, tiers, space (dedup and compression ratios, dead "
            + "bytes), caches and health, from the mount's daemon through its admin API (needs the daemon's "
            + "user: the token in DATA/run/admin.token)."})
final class StatusCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MNT", description = "The mount point.")
  Path mountPoint;

  @Option(names = "--json", description = "Print the daemon's answer as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    return DaemonCall.run(mountPoint, client -> {
      JsonNode s = client.get("/v1/status");
      if (json) {
        System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(s));
      } else {
        System.out.print(render(s));
      }
      return 0;
    });
  }

  static String render(JsonNode s) {
    StringBuilder b = new StringBuilder();
    JsonNode f = s.path("format");
    JsonNode sp = s.path("space");
    b.append(String.format(Locale.ROOT, "DynamicFS at %s (data %s)%n", s.path("mount_point").asText(),
        s.path("data").asText()));
    b.append(String.format(Locale.ROOT, "  version  %s, pid %d, up %s (since %s)%n", s.path("version").asText(),
        s.path("pid").asLong(), duration(s.path("uptime_seconds").asLong()), s.path("started").asText()));
    b.append(String.format(Locale.ROOT, "  health   %s%n", s.path("health").path("status").asText()));
    for (JsonNode p : s.path("health").path("problems")) {
      b.append("           - ").append(p.asText()).append('\n');
    }
    b.append(String.format(Locale.ROOT, "  format   block size %s, %s, inline up to %s, format %d, uuid %s%n",
        ProgressReporter.bytes(f.path("block_size").asLong()), f.path("compression").asText(),
        ProgressReporter.bytes(f.path("inline_max").asLong()), f.path("format_version").asInt(),
        f.path("uuid").asText()));
    b.append(String.format(Locale.ROOT,
        "  space    %s referenced in %d blocks: %s unique, %s stored (dedup %.2fx, compression %.2fx)%n",
        ProgressReporter.bytes(sp.path("referenced_bytes").asLong()), sp.path("blocks").asLong(),
        ProgressReporter.bytes(sp.path("unique_bytes").asLong()),
        ProgressReporter.bytes(sp.path("stored_bytes").asLong()), sp.path("dedup_ratio").asDouble(),
        sp.path("compression_ratio").asDouble()));
    b.append(String.format(Locale.ROOT, "           segment files %s (%s dead); disk %s available of %s%n",
        ProgressReporter.bytes(sp.path("segment_file_bytes").asLong()),
        ProgressReporter.bytes(sp.path("dead_bytes").asLong()),
        ProgressReporter.bytes(sp.path("disk_available_bytes").asLong()),
        ProgressReporter.bytes(sp.path("disk_total_bytes").asLong())));
    for (JsonNode t : s.path("tiers")) {
      b.append(String.format(Locale.ROOT, "  tier     %s (%s), %d devices%s%n", t.path("name").asText(),
          t.path("redundancy").asText(), t.path("devices").size(), t.path("degraded_writes").asLong() > 0
              ? ", " + t.path("degraded_writes").asLong() + " degraded writes" : ""));
      for (JsonNode d : t.path("devices")) {
        b.append(String.format(Locale.ROOT, "           %-7s %s: %s used, %s free%s%n", d.path("health").asText(),
            d.path("directory").asText(), ProgressReporter.bytes(d.path("used_bytes").asLong()),
            ProgressReporter.bytes(d.path("free_bytes").asLong()),
            d.path("bad_records").asLong() + d.path("repairs").asLong() > 0 ? ", " + d.path("bad_records").asLong()
                + " bad records, " + d.path("repairs").asLong() + " repairs" : ""));
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = s.path("caches").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> c = it.next();
      JsonNode ratio = c.getValue().path("hit_ratio");
      b.append(String.format(Locale.ROOT, "  cache    %s: %d hits, %d misses%s%n", c.getKey(),
          c.getValue().path("hits").asLong(), c.getValue().path("misses").asLong(),
          ratio.isNumber() ? String.format(Locale.ROOT, " (%.1f%% hits)", ratio.asDouble() * 100) : ""));
    }
    b.append("  config  ");
    for (Iterator<Map.Entry<String, JsonNode>> it = s.path("config").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> c = it.next();
      b.append(' ').append(c.getKey()).append('=').append(c.getValue().isTextual() ? c.getValue().asText()
          : c.getValue().toString());
    }
    return b.append('\n').toString();
  }

  static String duration(long seconds) {
    long d = seconds / 86400;
    long h = seconds / 3600 % 24;
    long m = seconds / 60 % 60;
    long s = seconds % 60;
    return d > 0 ? String.format(Locale.ROOT, "%dd %02dh%02dm", d, h, m)
        : String.format(Locale.ROOT, "%02d:%02d:%02d", h, m, s);
  }
}
