package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real cluster of three node processes on 127.0.0.1 (cluster-init, cluster-join), mounted twice with
 * {@code mount --cluster}: files written and fsync'd through one mount read back identical through the
 * other, also across a SIGKILL of the metadata leader in the middle of a write storm; the killed node
 * restarted with {@code cluster-join --data} catches up; bad input gets one line and exit code 2.
 */
class ClusterCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  private final List<Daemon> running = new ArrayList<>();

  @AfterEach
  void stopAll() throws Exception {
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
  }

  private Daemon node(List<String> args) throws Exception {
    Daemon d = Daemon.startWith(args, null, tmp, "-Xmx384m");
    running.add(d);
    return d;
  }

  private Daemon mount(Path mnt, String peers, Path token, String preset) throws Exception {
    Files.createDirectories(mnt);
    Daemon d = Daemon.startWith(List.of("mount", "--cluster", peers, "--token-file", token.toString(),
        "--cache-memory", "64M", "--fuse-preset", preset, mnt.toString()), mnt, tmp, "-Xmx512m");
    running.add(d);
    return d;
  }

  private JsonNode status(String peer, Path token) throws IOException {
    CliRun.Result r = CliRun.run("cluster", "status", "--peer", peer, "--token-file", token.toString(), "--json");
    assertEquals(0, r.code(), r.toString());
    return JSON.readTree(r.out());
  }

  private static void writeSynced(Path file, byte[] content) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(content);
      while (b.hasRemaining()) {
        ch.write(b);
      }
      ch.force(true);
    }
  }

  @Test
  void threeNodesTwoMounts_leaderKilledDuringWrites_noAcknowledgedWriteLost() throws Exception {
    int p1 = ClusterFixture.freePortPair();
    int p2 = ClusterFixture.freePortPair();
    int p3 = ClusterFixture.freePortPair();
    String a1 = "127.0.0.1:" + p1;
    String a2 = "127.0.0.1:" + p2;
    String a3 = "127.0.0.1:" + p3;
    Map<String, Path> data = new HashMap<>();
    Map<String, Daemon> nodes = new HashMap<>();
    data.put("n1", tmp.resolve("n1"));
    data.put("n2", tmp.resolve("n2"));
    data.put("n3", tmp.resolve("n3"));
    nodes.put("n1", node(List.of("cluster-init", "--node-id", "n1", "--data", data.get("n1").toString(),
        "--listen", a1, "--redundancy", "replicate-2")));
    Path token = data.get("n1").resolve("cluster/token");
    assertTrue(Files.exists(token));
    JsonNode run = JSON.readTree(data.get("n1").resolve("run/node.json").toFile());
    assertEquals("n1", run.get("node_id").asText());
    assertEquals(a1, run.get("listen").asText());
    assertTrue(run.get("pid").asLong() > 0);
    nodes.put("n2", node(List.of("cluster-join", "--node-id", "n2", "--data", data.get("n2").toString(),
        "--listen", a2, "--peer", a1, "--token-file", token.toString())));
    nodes.put("n3", node(List.of("cluster-join", "--node-id", "n3", "--data", data.get("n3").toString(),
        "--listen", a3, "--peer", a2, "--token-file", token.toString())));

    JsonNode st = status(a3, token);
    assertEquals(3, st.get("members").size(), st.toString());
    for (JsonNode m : st.get("members")) {
      assertTrue(m.has("node_id") && m.has("role") && m.has("health"), m.toString());
    }
    String peers = a1 + "," + a2 + "," + a3;
    Path ma = tmp.resolve("ma");
    Path mb = tmp.resolve("mb");
    mount(ma, peers, token, "balanced");
    // B with the safe preset: no attribute kept by time, so what A closed is read whole at once (with the
    // default preset B's kernel may keep a size it looked up for up to 1 s)
    mount(mb, peers, token, "safe");
    JsonNode withMounts = status(a1, token);
    assertEquals(2, withMounts.get("mounts").size(), "both mounts' replicas are listed: " + withMounts);

    // randomised operations through mount A compared with a plain directory, then the tree seen through B
    Path reference = Files.createDirectories(tmp.resolve("reference"));
    Path diffRoot = Files.createDirectories(ma.resolve("diff"));
    long seed = System.nanoTime();
    System.err.println("ClusterCliTest differential seed=" + seed);
    io.dynamicfs.fuse.FsDifferential diff = new io.dynamicfs.fuse.FsDifferential(diffRoot, reference, seed);
    diff.run(1500, 100);
    writeSynced(ma.resolve("marker"), new byte[] {1});
    assertArrayEquals(new byte[] {1}, Files.readAllBytes(mb.resolve("marker"))); // B's open waits for A's ops
    new io.dynamicfs.fuse.FsDifferential(mb.resolve("diff"), reference, seed).compareTrees();

    // a write storm on mount A; the leader is killed with SIGKILL in the middle of it
    Random rnd = new Random(42);
    int files = 24;
    List<byte[]> contents = new ArrayList<>();
    for (int i = 0; i < files; i++) {
      byte[] c = new byte[50_000 + rnd.nextInt(1_500_000)];
      rnd.nextBytes(c);
      contents.add(c);
    }
    AtomicInteger acknowledged = new AtomicInteger();
    List<Throwable> failures = new ArrayList<>();
    Thread writer = new Thread(() -> {
      try {
        for (int i = 0; i < files; i++) {
          writeSynced(ma.resolve("f" + i), contents.get(i));
          acknowledged.incrementAndGet();
        }
      } catch (Throwable t) {
        synchronized (failures) {
          failures.add(t);
        }
      }
    });
    writer.start();
    while (acknowledged.get() < 6 && writer.isAlive()) {
      Thread.sleep(20);
    }
    String leader = status(a1, token).get("leader").asText();
    assertTrue(nodes.containsKey(leader), "leader " + leader);
    nodes.get(leader).process.destroyForcibly();
    nodes.get(leader).process.waitFor();
    writer.join(240_000);
    assertTrue(failures.isEmpty(), () -> "writes failed across the failover: " + failures);
    assertEquals(files, acknowledged.get());

    // every acknowledged (fsync'd, closed) file reads back whole through the other mount
    for (int i = 0; i < files; i++) {
      assertArrayEquals(contents.get(i), Files.readAllBytes(mb.resolve("f" + i)), "f" + i);
    }
    String newLeader = null;
    for (String n : List.of("n1", "n2", "n3")) {
      if (!n.equals(leader)) {
        newLeader = status(n.equals("n1") ? a1 : n.equals("n2") ? a2 : a3, token).get("leader").asText();
        break;
      }
    }
    assertNotEquals(leader, newLeader, "a new leader was elected");

    // the killed node restarts from its DATA and catches up
    node(List.of("cluster-join", "--data", data.get(leader).toString()));
    long deadline = System.nanoTime() + 60_000_000_000L;
    JsonNode after;
    do {
      Thread.sleep(500);
      after = status(a1, token);
    } while (!allHealthy(after) && System.nanoTime() < deadline);
    assertTrue(allHealthy(after), after.toString());

    // fsck of the cluster: a caught-up replica's metadata against the blocks the nodes hold, verified
    CliRun.Result fsck = CliRun.run("fsck", "-q", "--cluster", peers, "--token-file", token.toString());
    assertEquals(0, fsck.code(), fsck.toString());
    assertTrue(fsck.out().contains("fsck: clean") && !fsck.out().contains(" 0 bytes verified"), fsck.out());

    // bad input: another cluster's token, a node id in use, a DATA that is already a node
    Path foreign = tmp.resolve("foreign.token");
    io.dynamicfs.cluster.node.ClusterToken.generate().write(foreign);
    CliRun.Result r = CliRun.run("cluster", "status", "--peer", a1, "--token-file", foreign.toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("not a node of cluster"), r.err());
    r = CliRun.run("cluster-join", "--foreground", "--node-id", "n2", "--data", tmp.resolve("n9").toString(),
        "--listen", "127.0.0.1:" + ClusterFixture.freePortPair(), "--peer", a1, "--token-file", token.toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("already in use"), r.err());
    r = CliRun.run("cluster-init", "--foreground", "--node-id", "x", "--data", data.get("n2").toString(),
        "--listen", "127.0.0.1:" + ClusterFixture.freePortPair());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("already node 'n2'"), r.err());
    r = CliRun.run("cluster-init", "--node-id", "x", "--data", tmp.resolve("bad").toString(), "--listen", "nohost");
    assertEquals(2, r.code(), r.toString());
  }

  private static boolean allHealthy(JsonNode st) {
    for (JsonNode m : st.get("members")) {
      if (!m.get("health").asText().equals("healthy")) {
        return false;
      }
    }
    return st.get("members").size() == 3 && !st.get("leader").isNull();
  }
}
