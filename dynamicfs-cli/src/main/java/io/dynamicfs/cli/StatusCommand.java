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
  @Parameters(index = "0", paramLabel = "MNT", description = "The mount point (or a cluster node's DATA).")
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
    if (s.has("node_id")) {
      return renderNode(s);
    }
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
    JsonNode cl = s.path("cluster");
    if (cl.has("members")) {
      JsonNode r = cl.path("replica");
      b.append(String.format(Locale.ROOT, "  cluster  %s: leader %s, term %d, commit index %d; this mount's replica "
              + "applied %d (%d behind)%n", cl.path("cluster_id").asText(), cl.path("leader").asText("none"),
          cl.path("term").asLong(), cl.path("commit_index").asLong(), r.path("applied_index").asLong(),
          r.path("lag_entries").asLong()));
      b.append(String.format(Locale.ROOT, "           nodes hold %d block copies, %s used, %s free%n",
          cl.path("node_blocks").asLong(), ProgressReporter.bytes(cl.path("node_used_bytes").asLong()),
          ProgressReporter.bytes(cl.path("node_free_bytes").asLong())));
      for (JsonNode m : cl.path("members")) {
        b.append(String.format(Locale.ROOT, "           %-9s %-8s %s: commit %d, %d blocks, %s used, %s free%n",
            m.path("health").asText(), m.path("role").asText(), m.path("node_id").asText(),
            m.path("commit_index").asLong(), m.path("blocks").asLong(),
            ProgressReporter.bytes(m.path("used_bytes").asLong()), ProgressReporter.bytes(m.path("free_bytes").asLong())));
      }
    } else if (cl.has("error")) {
      b.append("  cluster  no answer: ").append(cl.path("error").asText()).append('\n');
    }
    b.append("  config  ");
    for (Iterator<Map.Entry<String, JsonNode>> it = s.path("config").fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> c = it.next();
      b.append(' ').append(c.getKey()).append('=').append(c.getValue().isTextual() ? c.getValue().asText()
          : c.getValue().toString());
    }
    return b.append('\n').toString();
  }

  /** A cluster node's status (its DATA was given instead of a mount point). */
  static String renderNode(JsonNode s) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "DynamicFS cluster node %s of cluster %s (data %s)%n",
        s.path("node_id").asText(), s.path("cluster_id").asText(), s.path("data").asText()));
    b.append(String.format(Locale.ROOT, "  version  %s, pid %d, up %s, listens on %s%n", s.path("version").asText(),
        s.path("pid").asLong(), duration(s.path("uptime_seconds").asLong()), s.path("listen").asText()));
    JsonNode r = s.path("raft");
    if (r.isObject()) {
      b.append(String.format(Locale.ROOT, "  raft     %s, term %d, commit index %d, applied %d%n",
          r.path("role").asText(), r.path("term").asLong(), r.path("commit_index").asLong(),
          r.path("applied_index").asLong()));
    } else {
      b.append("  raft     none (a block-only node)\n");
    }
    JsonNode st = s.path("store");
    b.append(String.format(Locale.ROOT, "  store    %d blocks, %s in segment files, %s free%n",
        st.path("blocks").asLong(), ProgressReporter.bytes(st.path("file_bytes").asLong()),
        ProgressReporter.bytes(st.path("free_bytes").asLong())));
    JsonNode bs = s.path("block_server");
    b.append(String.format(Locale.ROOT, "  blocks   %d requests (%d errors), %s received, %s sent%n",
        bs.path("requests").asLong(), bs.path("errors").asLong(),
        ProgressReporter.bytes(bs.path("received_bytes").asLong()),
        ProgressReporter.bytes(bs.path("sent_bytes").asLong())));
    return b.toString();
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
