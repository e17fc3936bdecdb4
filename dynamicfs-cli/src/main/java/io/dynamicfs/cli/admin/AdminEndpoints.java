package io.dynamicfs.cli.admin;

import io.dynamicfs.core.api.StatFs;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.engine.SpaceUsage;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.storage.Device;
import io.dynamicfs.core.storage.Tier;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The built-in admin endpoints of a mount. Each is one line in {@link #register}; add new ones there.
 *
 * <table>
 *   <caption>Endpoints</caption>
 *   <tr><th>route</th><th>answer</th></tr>
 *   <tr><td>GET /v1/status</td><td>version, pid, uptime, DATA, mount point, format, configuration, space
 *       (disk, blocks, unique/stored/referenced bytes, dedup and compression ratios, dead bytes), tiers,
 *       caches (hits, misses, hit ratio), health (ok or degraded, with the problems)</td></tr>
 *   <tr><td>GET /v1/stats</td><td>cumulative counters now ({@link StatsSnapshot}): per operation count,
 *       errors, seconds and latency histogram; bytes read/written; cache hits/misses</td></tr>
 *   <tr><td>POST /v1/warmup</td><td>streaming; body {@code {"paths": ["dir/file", …]}} relative to the
 *       mount root; result: files, blocks, bytes, inline files</td></tr>
 *   <tr><td>POST /v1/gc</td><td>streaming; body {@code {"apply": false, "min_dead": 0.1}}; result: the
 *       engine's garbage report (dry run unless apply)</td></tr>
 *   <tr><td>GET /v1/tiers</td><td>per tier and device: health, capacity, free, used, records, bad records,
 *       repairs, degraded writes</td></tr>
 *   <tr><td>POST /v1/scrub</td><td>streaming; body {@code {"repair": true, "tier": null, "rate": 0}}; result:
 *       the scrub report</td></tr>
 *   <tr><td>POST /v1/tier/move</td><td>streaming; body {@code {"path": "dir/file", "to": "slow"}}; result: files,
 *       blocks, blocks moved, bytes moved</td></tr>
 *   <tr><td>POST /v1/rebuild</td><td>streaming; body {@code {"device": "/disk3/dfs"}}; result: the scrub report
 *       of the device's tier</td></tr>
 *   <tr><td>GET /v1/policy/status</td><td>the policy engine: tracker figures (or why tracking is off), rules in
 *       force, who predicts, the hottest files</td></tr>
 *   <tr><td>POST /v1/policy/explain</td><td>body {@code {"path": "dir/file"}}: where the file's blocks are, its
 *       access figures, the prediction and what drove it, the rules that matched</td></tr>
 *   <tr><td>GET /v1/policy/plan</td><td>the moves the engine would make now, each with its safety checks (none is
 *       executed)</td></tr>
 *   <tr><td>POST /v1/policy/simulate</td><td>body {@code {"since_seconds": 86400}}: the plan as it would run, its
 *       bytes, time and expected benefit, the reads of that window replayed against the placement before and
 *       after (nothing is executed)</td></tr>
 *   <tr><td>POST /v1/policy/record</td><td>body {@code {"since_seconds": 86400}}: writes the ring log's accesses
 *       of that window as a trace file ({@code .dfstrace}) in the policy directory; answers its path and
 *       counts</td></tr>
 *   <tr><td>POST /v1/policy/reload</td><td>reads the rules file again (the mount's {@code --policy-rules}, or
 *       DATA/policy/rules.yaml); one that does not validate is refused with its line and reason, and the rules in
 *       force stay</td></tr>
 *   <tr><td>POST /v1/policy/apply</td><td>streaming: plans now and executes the accepted moves, auditing each
 *       move and refusal; result: the run (moved, refused, failed, bytes, each outcome)</td></tr>
 *   <tr><td>GET /v1/routes</td><td>this list</td></tr>
 * </table>
 */
public final class AdminEndpoints {
  private AdminEndpoints() {}

  public static AdminRoutes register(AdminRoutes routes, DaemonContext ctx) {
    return routes
        .get("/v1/status", "Configuration, space, caches, health, uptime, version", req -> status(ctx))
        .get("/v1/stats", "Cumulative operation, byte and cache counters (for rates)",
            req -> StatsSnapshot.take(ctx.registry(), ctx.startedMillis()))
        .stream("/v1/warmup", "Pull files into the caches: {\"paths\": [...]} relative to the mount root",
            (req, progress) -> new Warmup(ctx.fs()).run(paths(req), progress))
        .stream("/v1/gc", "Report (and with \"apply\": true reclaim) unreferenced blocks and dead segment space",
            (req, progress) -> ctx.cluster() != null ? ctx.cluster().gc(req.bool("apply", false))
                : ctx.fs().collectGarbage(req.bool("apply", false), deadFraction(req), progress))
        .get("/v1/tiers", "Tiers and devices: health, capacity, free, used, records, bad records, repairs",
            req -> tiers(ctx).stream().map(Tier::status).toList())
        .stream("/v1/scrub", "Verify every copy and shard; repair unless {\"repair\": false}; {\"tier\", \"rate\"}",
            (req, progress) -> ctx.cluster() != null ? ctx.cluster().scrub(req.bool("repair", true), (long) req.number("rate", 0))
                : ctx.fs().scrub(req.bool("repair", true), text(req, "tier"), (long) req.number("rate", 0),
                    p -> progress.progress("scrub", p.blocksDone(), p.blocksTotal()), () -> false))
        .stream("/v1/tier/move", "Move a file or tree to a tier: {\"path\": relative to the mount root, \"to\": tier}",
            (req, progress) -> ctx.fs().moveToTier(ctx.fs().resolve(required(req, "path")),
                required(req, "to"), p -> progress.progress("move", p.blocksDone(), p.blocksTotal())))
        .stream("/v1/rebuild", "Restore redundancy onto a replaced device: {\"device\": directory}",
            (req, progress) -> ctx.fs().rebuild(java.nio.file.Path.of(required(req, "device")),
                p -> progress.progress("rebuild", p.blocksDone(), p.blocksTotal()), () -> false))
        .get("/v1/policy/status", "The policy engine: tracker, rules in force, who predicts, hottest files",
            req -> ctx.policy().status())
        .get("/v1/policy/plan", "The moves the engine would make now, each with its safety checks (none is executed)",
            req -> ctx.policy().plan())
        .post("/v1/policy/explain", "Why a file is where it is: {\"path\": relative to the mount root}",
            req -> ctx.policy().explain(required(req, "path")))
        .post("/v1/policy/simulate", "The plan as it would run, executing nothing: {\"since_seconds\": replay window}",
            req -> ctx.policy().simulate(java.time.Duration.ofSeconds((long) req.number("since_seconds", 86_400))))
        .post("/v1/policy/record", "Write the ring log's accesses of the last {\"since_seconds\"} as a .dfstrace file",
            req -> ctx.policy().record(java.time.Duration.ofSeconds((long) req.number("since_seconds", 86_400))))
        .post("/v1/policy/reload", "Read the rules file again; one that does not validate changes nothing",
            req -> ctx.policy().reloadRules())
        .stream("/v1/policy/apply", "Plan now and execute the accepted moves (each audited)",
            (req, progress) -> ctx.policy().apply(progress));
  }

  private static String text(AdminRequest req, String name) {
    com.fasterxml.jackson.databind.JsonNode n = req.body().path(name);
    return n.isTextual() && !n.asText().isEmpty() ? n.asText() : null;
  }

  private static String required(AdminRequest req, String name) throws AdminException {
    String v = text(req, name);
    if (v == null) {
      throw new AdminException(400, "give \"" + name + "\" in the request body");
    }
    return v;
  }

  private static List<String> paths(AdminRequest req) throws AdminException {
    List<String> out = new ArrayList<>();
    if (!req.body().path("paths").isArray() || req.body().path("paths").isEmpty()) {
      throw new AdminException(400, "give {\"paths\": [...]}: paths relative to the mount root");
    }
    req.body().get("paths").forEach(n -> out.add(n.asText()));
    return out;
  }

  private static double deadFraction(AdminRequest req) throws AdminException {
    double f = req.number("min_dead", 0.1);
    if (!(f > 0 && f <= 1)) {
      throw new AdminException(400, "min_dead must be a fraction in (0, 1], got " + f);
    }
    return f;
  }

  static Map<String, Object> status(DaemonContext ctx) throws IOException {
    Map<String, Object> s = new LinkedHashMap<>();
    long now = System.currentTimeMillis();
    s.put("version", ctx.version());
    s.put("pid", ProcessHandle.current().pid());
    s.put("started", Instant.ofEpochMilli(ctx.startedMillis()).toString());
    s.put("uptime_seconds", (now - ctx.startedMillis()) / 1000);
    s.put("data", ctx.dataRoot().toString());
    s.put("mount_point", ctx.mountPoint().toString());
    FormatOptions f = ctx.fs().format();
    Map<String, Object> format = new LinkedHashMap<>();
    format.put("format_version", DataDirectory.FORMAT_VERSION);
    format.put("block_size", f.blockSize());
    format.put("compression", f.codec().toString().toLowerCase(java.util.Locale.ROOT));
    format.put("inline_max", f.inlineMax());
    format.put("uuid", ctx.uuid());
    s.put("format", format);
    s.put("config", ctx.config());

    StatFs disk = ctx.fs().statfs();
    StoreStats store = ctx.fs().storeStats();
    SpaceUsage usage = ctx.engineMetrics().usage(0); // an operator asks now: scan now (scrapes use the TTL)
    long dead = ctx.fs().segmentUsage().stream().mapToLong(u -> u.deadBytes()).sum();
    Map<String, Object> space = new LinkedHashMap<>();
    space.put("disk_total_bytes", disk.totalBytes());
    space.put("disk_available_bytes", disk.availableBytes());
    // distinct blocks from the metadata: the store counts every copy and shard of a redundant tier
    space.put("blocks", usage.blocks());
    space.put("unique_bytes", usage.uniqueBytes());
    space.put("stored_bytes", usage.storedBytes());
    space.put("segment_file_bytes", store.fileBytes());
    space.put("dead_bytes", dead);
    space.put("referenced_bytes", usage.referencedBytes());
    space.put("dedup_ratio", round(usage.dedupRatio()));
    space.put("compression_ratio", round(usage.compressionRatio()));
    s.put("space", space);

    s.put("tiers", tiers(ctx).stream().map(Tier::status).toList());

    Map<String, Object> caches = new LinkedHashMap<>();
    StatsSnapshot.Snapshot snap = StatsSnapshot.take(ctx.registry(), ctx.startedMillis());
    snap.caches().forEach((level, c) -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("hits", (long) c.hits());
      m.put("misses", (long) c.misses());
      m.put("hit_ratio", c.hits() + c.misses() == 0 ? null : round(c.hits() / (c.hits() + c.misses())));
      caches.put(level, m);
    });
    s.put("caches", caches);
    Map<String, Object> health = health(ctx, disk, store, dead);
    if (ctx.cluster() != null) {
      Map<String, Object> cluster;
      try {
        cluster = ctx.cluster().status();
      } catch (IOException e) {
        cluster = Map.of("error", String.valueOf(e.getMessage()));
      }
      s.put("cluster", cluster);
      clusterHealth(cluster, health);
    }
    s.put("health", health);
    return s;
  }

  /** ok, or degraded with the reasons: I/O errors served, a nearly full disk, mostly dead segments. */
  static Map<String, Object> health(DaemonContext ctx, StatFs disk, StoreStats store, long dead) {
    List<String> problems = new ArrayList<>();
    long eio = 0;
    for (Counter c : ctx.registry().find("dfs.fs.op.errors").tag("errno", "EIO").counters()) {
      eio += (long) c.count();
    }
    if (eio > 0) {
      problems.add(eio + " operations failed with EIO since mount (see the log: corrupt or unreadable data?)");
    }
    for (Tier t : tiers(ctx)) {
      for (Device d : t.devices()) {
        if (d.health() != Device.Health.ONLINE) {
          problems.add("tier '" + t.name() + "' device " + d.directory() + " is " + d.health().name().toLowerCase(
              java.util.Locale.ROOT) + (d.problem() == null ? "" : ": " + d.problem()));
        }
      }
      if (t.degradedWrites() > 0) {
        problems.add("tier '" + t.name() + "' took " + t.degradedWrites()
            + " degraded writes: run 'dynamicfs scrub' once its devices are back");
      }
    }
    if (disk.totalBytes() > 0 && disk.availableBytes() < disk.totalBytes() / 20) {
      problems.add("less than 5% of the disk under DATA is available");
    }
    if (store.fileBytes() > (64L << 20) && dead * 2 > store.fileBytes()) {
      problems.add("more than half of the segment bytes are dead: run 'dynamicfs gc --apply'");
    }
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("status", problems.isEmpty() ? "ok" : "degraded");
    h.put("problems", problems);
    return h;
  }

  /** Adds a cluster mount's problems: no answer from the cluster, a member not healthy. */
  @SuppressWarnings("unchecked")
  static void clusterHealth(Map<String, Object> cluster, Map<String, Object> health) {
    List<String> problems = new ArrayList<>((List<String>) health.get("problems"));
    if (cluster.containsKey("error")) {
      problems.add("the cluster did not answer: " + cluster.get("error"));
    }
    for (Map<String, Object> m : (List<Map<String, Object>>) cluster.getOrDefault("members", List.of())) {
      if (!"healthy".equals(m.get("health"))) {
        problems.add("node '" + m.get("node_id") + "' is " + m.get("health"));
      }
    }
    if (cluster.containsKey("members") && cluster.get("leader") == null) {
      problems.add("the metadata group has no leader");
    }
    health.put("status", problems.isEmpty() ? "ok" : "degraded");
    health.put("problems", problems);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** The mount's local tiers; none on a cluster mount (the nodes hold the blocks). */
  private static List<Tier> tiers(DaemonContext ctx) {
    return ctx.fs().storage() == null ? List.of() : ctx.fs().storage().tiers();
  }
}
