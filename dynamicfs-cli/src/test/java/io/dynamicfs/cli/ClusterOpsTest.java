package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * status, stats, gc and the metrics of a cluster mount and of its nodes, on three node processes: the mount's
 * status carries the cluster (leader, commit index, its replica's lag, every node's blocks and space), gc asks
 * the leader about blocks pending deletion and reclaims them once past the grace, a node's DATA answers
 * status, nodes and mounts serve their Raft and block-server figures as Prometheus metrics, and the mount's
 * policy executor warms its cache with the blocks read.
 */
class ClusterOpsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int GRACE_SECONDS = 15;

  @TempDir
  Path tmp;

  @Test
  void statusStatsGcAndMetrics_onAClusterMountAndItsNodes() throws Exception {
    try (ClusterFixture cluster = ClusterFixture.start(tmp, 3, "replicate-2", "--reclaim-grace",
        Integer.toString(GRACE_SECONDS))) {
      Daemon mount = cluster.mount(tmp.resolve("ma"), "balanced");
      Path mnt = mount.mnt;

      JsonNode st = json(CliRun.run("status", mnt.toString(), "--json"));
      JsonNode c = st.path("cluster");
      assertTrue(cluster.nodes.containsKey(c.path("leader").asText()), c.toString());
      assertEquals(3, c.path("members").size(), c.toString());
      for (JsonNode m : c.path("members")) {
        assertEquals("healthy", m.path("health").asText(), m.toString());
      }
      assertTrue(c.path("replica").path("applied_index").asLong() > 0, c.toString());
      assertTrue(c.path("commit_index").asLong() >= c.path("replica").path("applied_index").asLong()
          - c.path("replica").path("lag_entries").asLong(), c.toString());
      assertEquals("ok", st.path("health").path("status").asText(), st.path("health").toString());

      // three files of one block each: the nodes hold two copies of each (replicate-2)
      Random rnd = new Random(5);
      for (int i = 0; i < 3; i++) {
        byte[] b = new byte[1 << 20];
        rnd.nextBytes(b);
        writeSynced(mnt.resolve("f" + i), b);
      }
      st = json(CliRun.run("status", mnt.toString(), "--json"));
      assertEquals(3, st.path("space").path("blocks").asLong(), st.path("space").toString());
      // The engine's periodic commit (every 5 s) may store a file's block while it is half written (more
      // likely on a loaded machine); that superseded block waits in pending deletion with its two copies.
      long superseded = json(CliRun.run("gc", mnt.toString(), "--json")).path("pending_blocks").asLong();
      assertEquals(2 * (3 + superseded), st.path("cluster").path("node_blocks").asLong(),
          superseded + " superseded blocks; " + st.path("cluster"));
      CliRun.Result text = CliRun.run("status", mnt.toString());
      assertEquals(0, text.code(), text.toString());
      assertTrue(text.out().contains("leader " + st.path("cluster").path("leader").asText()), text.out());

      CliRun.Result stats = CliRun.run("stats", mnt.toString(), "--once", "--interval", "0.2");
      assertEquals(0, stats.code(), stats.toString());
      assertTrue(stats.out().contains("cluster replica applied"), stats.out());

      // scrub of the mount scrubs the cluster: every copy verified on its node
      CliRun.Result scrub = CliRun.run("scrub", mnt.toString());
      assertEquals(0, scrub.code(), scrub.toString());
      assertTrue(scrub.out().contains("scrub: 3 blocks, 6 copies verified on their nodes, 6 intact"), scrub.out());
      assertTrue(scrub.out().contains("corrupt 0, missing 0, under-replicated 0, repaired 0, unrepairable 0"),
          scrub.out());

      // the policy on a cluster mount warms its cache (the nodes hold the tiers: no moves, no compaction here);
      // the kernel's page cache is dropped between the reads so that both reach the mount's tracker
      for (int r = 0; r < 2; r++) {
        Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "3");
        for (int i = 0; i < 3; i++) {
          Files.readAllBytes(mnt.resolve("f" + i));
        }
      }
      JsonNode warm = json(CliRun.run("policy", "plan", "--json", mnt.toString())).path("warm");
      assertEquals(3, warm.path("blocks").asInt(), warm.toString());
      JsonNode applied = json(CliRun.run("policy", "apply", "--json", mnt.toString()));
      assertEquals(0, applied.path("proposals").asInt(), applied.toString());
      assertEquals(3, applied.path("warmed").path("blocks").asInt(), applied.toString());
      assertTrue(Files.readString(stateDirOf(mnt).resolve("policy/audit.jsonl")).contains("\"action\":\"warm\""));

      // gc: deleted files' blocks wait in pending deletion; the leader counts them, purges them after the grace
      for (int i = 0; i < 3; i++) {
        Files.delete(mnt.resolve("f" + i));
      }
      JsonNode dry = json(CliRun.run("gc", mnt.toString(), "--json"));
      assertEquals(3 + superseded, dry.path("pending_blocks").asLong(), dry.toString());
      // (a superseded block may be past its grace by now; the deleted files' blocks are not)
      assertTrue(dry.path("due_blocks").asLong() <= superseded, "within the grace: " + dry);
      assertEquals(0, dry.path("purged_blocks").asLong(), dry.toString());
      JsonNode early = json(CliRun.run("gc", mnt.toString(), "--apply", "--json"));
      assertTrue(early.path("purged_blocks").asLong() <= superseded, "nothing is purged within the grace: " + early);
      Thread.sleep(GRACE_SECONDS * 1000L + 1000);
      JsonNode purged = json(CliRun.run("gc", mnt.toString(), "--apply", "--json"));
      assertEquals(0, purged.path("pending_blocks").asLong() - purged.path("purged_blocks").asLong(),
          "past the grace every pending block is purged (by this gc or by the leader's own round): " + purged);
      CliRun.Result gcText = CliRun.run("gc", mnt.toString());
      assertTrue(gcText.out().contains("pending deletion     0 blocks"), gcText.out());
      st = json(CliRun.run("status", mnt.toString(), "--json"));
      assertEquals(0, st.path("cluster").path("node_blocks").asLong(), "copies left: " + st.path("cluster"));

      // a node's DATA answers status; nodes and the mount serve metrics
      String leader = cluster.leader("n1");
      for (String n : cluster.nodes.keySet()) {
        JsonNode ns = json(CliRun.run("status", cluster.data.get(n).toString(), "--json"));
        assertEquals(n, ns.path("node_id").asText(), ns.toString());
        assertEquals(n.equals(leader) ? "leader" : "follower", ns.path("raft").path("role").asText(), ns.toString());
        assertTrue(ns.path("raft").path("commit_index").asLong() > 0, ns.toString());
        assertTrue(ns.path("block_server").path("requests").asLong() > 0, ns.toString());
        String metrics = scrape(cluster.data.get(n));
        assertEquals(n.equals(leader) ? 1.0 : 0.0, metric(metrics, "dfs_raft_role{role=\"leader\"}"), n);
        assertTrue(metric(metrics, "dfs_raft_commit_index") > 0, n);
        assertTrue(metric(metrics, "dfs_block_server_requests_total") > 0, n);
        assertTrue(metric(metrics, "dfs_node_store_free_bytes") > 0, n);
        // the orphan scan's counters (on by default; its first scan comes an hour after the start)
        assertEquals(0.0, metric(metrics, "dfs_orphan_scan_removed_total"), n);
        assertEquals(0.0, metric(metrics, "dfs_orphan_scan_freed_bytes_total"), n);
        // every node is a metadata voter here, and no node died: nothing was repaired or lost
        assertEquals(0.0, metric(metrics, "dfs_replication_repaired_total"), n);
        assertEquals(0.0, metric(metrics, "dfs_replication_lost_total"), n);
      }
      CliRun.Result nodeText = CliRun.run("status", cluster.data.get(leader).toString());
      assertTrue(nodeText.out().contains("raft     leader"), nodeText.out());
      Path state = stateDirOf(mnt);
      String mountMetrics = scrape(state);
      assertEquals(1.0, metric(mountMetrics, "dfs_raft_role{role=\"listener\"}"), "the mount's replica listens");
      assertTrue(metric(mountMetrics, "dfs_raft_applied_index") > 0);

      CliRun.Result notOne = CliRun.run("status", tmp.resolve("nothing").toString());
      assertEquals(2, notOne.code(), notOne.toString());
      cluster.unmount(mount);
      cluster.assertFsckClean();
    }
  }

  private static JsonNode json(CliRun.Result r) throws IOException {
    assertEquals(0, r.code(), r.toString());
    return JSON.readTree(r.out());
  }

  private static void writeSynced(Path file, byte[] content) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
  }

  /** GET /metrics of the daemon whose admin files are in {@code dir}/run. */
  private static String scrape(Path dir) throws Exception {
    JsonNode info = JSON.readTree(Files.readString(dir.resolve("run/admin.json")));
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(info.path("url").asText() + "/metrics")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return r.body();
  }

  /** The value of the first sample whose name and labels start with {@code prefix}. */
  private static double metric(String text, String prefix) {
    String name = prefix.contains("{") ? prefix.substring(0, prefix.indexOf('{')) : prefix;
    String labels = prefix.contains("{") ? prefix.substring(prefix.indexOf('{') + 1, prefix.length() - 1) : null;
    Pattern p = Pattern.compile("^" + Pattern.quote(name) + "(\\{[^}]*\\})? (\\S+)$", Pattern.MULTILINE);
    Matcher m = p.matcher(text);
    while (m.find()) {
      if (labels == null || (m.group(1) != null && m.group(1).contains(labels))) {
        return Double.parseDouble(m.group(2));
      }
    }
    throw new AssertionError("no sample " + prefix + " in:\n" + text);
  }

  /** The mount's state directory, from its fsname in /proc/self/mounts. */
  private static Path stateDirOf(Path mnt) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
      String[] f = line.split(" ");
      if (f.length > 1 && f[1].equals(mnt.toString()) && f[0].startsWith("dynamicfs:")) {
        return Path.of(f[0].substring("dynamicfs:".length()));
      }
    }
    throw new AssertionError(mnt + " is not mounted");
  }
}
