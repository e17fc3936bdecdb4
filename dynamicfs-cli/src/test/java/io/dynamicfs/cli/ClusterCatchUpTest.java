package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A metadata follower killed with SIGKILL, its metadata deleted (its node identity kept: DATA/cluster),
 * restarted with {@code cluster-join --data}: the leader has purged the log it missed (checkpoints every 40
 * entries), so it must install the leader's RocksDB checkpoint, and afterwards it holds the same records as
 * the others and the cluster checks clean.
 */
class ClusterCatchUpTest {
  private static final Pattern SEGMENT = Pattern.compile("log_(?:inprogress_)?(\\d+)(?:-(\\d+))?");
  private static final int SNAPSHOT_EVERY = 40;

  @TempDir
  Path tmp;

  @Test
  void wipedFollower_restartedEmpty_installsTheLeadersCheckpoint_andHoldsTheSameRecords() throws Exception {
    try (ClusterFixture cluster = ClusterFixture.start(tmp, 3, "replicate-2", "--snapshot-every",
        Integer.toString(SNAPSHOT_EVERY))) {
      Daemon mount = cluster.mount(tmp.resolve("ma"), "balanced");
      Random rnd = new Random(11);
      Map<Path, byte[]> written = new LinkedHashMap<>();
      writeFiles(mount.mnt.resolve("before"), 20, rnd, written);

      String leader = cluster.leader("n1");
      String follower = cluster.nodes.keySet().stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
      cluster.kill9(follower);
      Path raft = cluster.data.get(follower).resolve("raft");
      long followerHad = appliedIndex(raft);

      writeFiles(mount.mnt.resolve("while-down"), 250, rnd, written);
      Files.move(mount.mnt.resolve("before"), mount.mnt.resolve("while-down/moved"));
      Map<Path, byte[]> moved = new LinkedHashMap<>();
      written.forEach((p, c) -> moved.put(p.toString().contains("/before/")
          ? mount.mnt.resolve("while-down/moved").resolve(p.getFileName()) : p, c));

      long leaderLogStart = logStart(cluster.data.get(leader).resolve("raft"));
      assertTrue(leaderLogStart > followerHad + 1, "the leader's log starts at " + leaderLogStart
          + ": it still holds what the follower lacks after " + followerHad + ", so no checkpoint is needed");

      // the wipe: the metadata (Raft log and RocksDB) goes, the node's identity and blocks stay
      deleteTree(raft);
      Path nodeLog = cluster.data.get(follower).resolve("logs/dynamicfs.log");
      long logBefore = Files.size(nodeLog);
      cluster.restartNode(follower);

      long commit = cluster.status(leader).get("commit_index").asLong();
      JsonNode st = awaitCaughtUp(cluster, leader, follower, commit);
      assertTrue(memberCommit(st, follower) >= commit, st.toString());
      String since = Files.readString(nodeLog, StandardCharsets.UTF_8).substring((int) logBefore);
      assertTrue(since.contains("installed metadata checkpoint"), "no checkpoint installed:\n" + tail(since));
      assertTrue(logStart(raft) > followerHad + 1, "the wiped node's log starts at " + logStart(raft)
          + ", so it replayed entries instead of installing a checkpoint");

      // the cluster works on with the wiped node: the others' files read back through a new mount
      Daemon other = cluster.mount(tmp.resolve("mb"), "safe");
      for (Map.Entry<Path, byte[]> e : moved.entrySet()) {
        Path through = other.mnt.resolve(mount.mnt.relativize(e.getKey()).toString());
        assertArrayEquals(e.getValue(), Files.readAllBytes(through), through.toString());
      }
      cluster.unmount(other);
      cluster.unmount(mount);
      cluster.assertFsckClean();

      // once quiet, the wiped node holds record for record what the others hold
      awaitSameCommit(cluster);
      for (String n : new ArrayList<>(cluster.nodes.keySet())) {
        cluster.stopNode(n);
      }
      List<String> reference = records(cluster.data.get(leader).resolve("raft"));
      assertTrue(reference.size() > 250, "records: " + reference.size());
      for (String n : cluster.data.keySet()) {
        List<String> r = records(cluster.data.get(n).resolve("raft"));
        if (!reference.equals(r)) {
          assertEquals(String.join("\n", reference), String.join("\n", r), n + " differs from the leader " + leader);
        }
      }
    }
  }

  @Test
  void snapshotEveryBelowOne_isRefusedWithOneLine() {
    CliRun.Result r = CliRun.run("cluster-init", "--foreground", "--node-id", "x", "--data",
        tmp.resolve("bad").toString(), "--listen", "127.0.0.1:1", "--snapshot-every", "0");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("--snapshot-every must be at least 1"), r.err());
    assertTrue(!Files.exists(tmp.resolve("bad/cluster/token")), "nothing made");
  }

  private static void writeFiles(Path dir, int count, Random rnd, Map<Path, byte[]> written) throws IOException {
    Files.createDirectories(dir);
    for (int i = 0; i < count; i++) {
      byte[] c = new byte[1 + rnd.nextInt(i % 10 == 0 ? 300_000 : 3_000)];
      rnd.nextBytes(c);
      Path f = dir.resolve("f" + i);
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(c);
        while (b.hasRemaining()) {
          ch.write(b);
        }
        ch.force(true);
      }
      written.put(f, c);
    }
  }

  private static JsonNode awaitCaughtUp(ClusterFixture cluster, String leader, String follower, long commit)
      throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    JsonNode st;
    do {
      Thread.sleep(500);
      st = cluster.status(leader);
    } while (memberCommit(st, follower) < commit && System.nanoTime() < deadline);
    return st;
  }

  /** Waits until every member reports the leader's commit index twice in a row (nothing in flight). */
  private static void awaitSameCommit(ClusterFixture cluster) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    String leader = cluster.leader("n1");
    long last = -1;
    while (System.nanoTime() < deadline) {
      JsonNode st = cluster.status(leader);
      long c = st.get("commit_index").asLong();
      boolean all = true;
      for (JsonNode m : st.get("members")) {
        all &= m.get("commit_index").asLong() == c;
      }
      if (all && c == last) {
        return;
      }
      last = all ? c : -1;
      Thread.sleep(300);
    }
    throw new AssertionError("members did not agree on a commit index in 60 s: " + cluster.status(leader));
  }

  private static long memberCommit(JsonNode st, String node) {
    for (JsonNode m : st.get("members")) {
      if (m.get("node_id").asText().equals(node)) {
        return m.get("commit_index").asLong();
      }
    }
    return -1;
  }

  /** The metadata RocksDB under a node's raft directory. */
  private static Path db(Path raft) throws IOException {
    try (Stream<Path> groups = Files.list(raft)) {
      return groups.filter(Files::isDirectory).map(g -> g.resolve("sm/db")).filter(Files::isDirectory).findFirst()
          .orElseThrow(() -> new AssertionError("no metadata store under " + raft));
    }
  }

  private static long appliedIndex(Path raft) throws IOException {
    try (MetadataStore s = MetadataStore.open(db(raft), 1 << 20)) {
      return s.appliedIndex();
    }
  }

  /** Every record but the applied position (the stores stopped one after another). */
  private static List<String> records(Path raft) throws IOException {
    List<String> out = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    List<byte[]> position = List.of("applied-index".getBytes(StandardCharsets.US_ASCII),
        "applied-term".getBytes(StandardCharsets.US_ASCII));
    try (MetadataStore s = MetadataStore.open(db(raft), 1 << 20)) {
      s.forEachRecord((family, key, value) -> {
        if (position.stream().noneMatch(p -> Arrays.equals(p, key))) {
          out.add(family + " " + hex.formatHex(key) + " " + hex.formatHex(value));
        }
      });
    }
    return out;
  }

  /** The first index a node's Raft log still holds (its oldest segment's start). */
  private static long logStart(Path raft) throws IOException {
    long min = Long.MAX_VALUE;
    try (Stream<Path> files = Files.walk(raft)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (!p.getParent().getFileName().toString().equals("current")) {
          continue;
        }
        Matcher m = SEGMENT.matcher(p.getFileName().toString());
        if (m.matches()) {
          min = Math.min(min, Long.parseLong(m.group(1)));
        }
      }
    }
    return min;
  }

  private static String tail(String s) {
    return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
  }

  private static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : (Iterable<Path>) s.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.delete(x);
      }
    }
  }
}
