package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real cluster for a test: node processes on 127.0.0.1 started with cluster-init and cluster-join (small
 * heaps), mounts of it started with {@code mount --cluster}, and the checks that need the running cluster.
 * {@link #close} stops mounts first, then nodes, and detaches every mount point, also after a failure.
 */
final class ClusterFixture implements AutoCloseable {
  static final String NODE_HEAP = "-Xmx256m";
  static final String MOUNT_HEAP = "-Xmx384m";
  private static final ObjectMapper JSON = new ObjectMapper();

  final Path work;
  final Map<String, String> addresses = new LinkedHashMap<>();
  final Map<String, Path> data = new LinkedHashMap<>();
  final Map<String, Daemon> nodes = new LinkedHashMap<>();
  private final List<Daemon> mounts = new ArrayList<>();
  Path token;
  List<String> nodeExtra = List.of();

  private ClusterFixture(Path work) {
    this.work = work;
  }

  /** Nodes n1..n{count}: n1 with cluster-init, the others joining it; {@code nodeExtra} given to every node. */
  static ClusterFixture start(Path work, int count, String redundancy, String... nodeExtra) throws Exception {
    ClusterFixture c = new ClusterFixture(work);
    c.nodeExtra = List.of(nodeExtra);
    try {
      for (int i = 1; i <= count; i++) {
        String id = "n" + i;
        c.addresses.put(id, "127.0.0.1:" + freePortPair());
        c.data.put(id, work.resolve(id));
        if (i == 1) {
          c.startNode(id, List.of("cluster-init", "--node-id", id, "--data", c.data.get(id).toString(), "--listen",
              c.addresses.get(id), "--redundancy", redundancy));
          c.token = c.data.get(id).resolve("cluster/token");
        } else {
          c.startNode(id, List.of("cluster-join", "--node-id", id, "--data", c.data.get(id).toString(), "--listen",
              c.addresses.get(id), "--peer", c.addresses.get("n1"), "--token-file", c.token.toString()));
        }
      }
    } catch (Exception | AssertionError e) {
      c.close();
      throw e;
    }
    return c;
  }

  /** Starts node {@code id} with {@code args} and the fixture's extra node options. */
  Daemon startNode(String id, List<String> args) throws Exception {
    List<String> all = new ArrayList<>(args);
    all.addAll(nodeExtra);
    Daemon d = Daemon.startWith(all, null, work, NODE_HEAP);
    nodes.put(id, d);
    return d;
  }

  /** Starts node {@code id} again from its DATA: {@code cluster-join --data DIR}. */
  Daemon restartNode(String id) throws Exception {
    return startNode(id, List.of("cluster-join", "--data", data.get(id).toString()));
  }

  /** SIGTERM to node {@code id}: a clean stop. */
  void stopNode(String id) throws Exception {
    Daemon d = nodes.remove(id);
    d.terminate();
  }

  /** The node id the cluster reports as leader (asking {@code via}). */
  String leader(String via) throws IOException {
    return status(via).get("leader").asText();
  }

  /** SIGKILL of node {@code id}. */
  void kill9(String id) throws Exception {
    Daemon d = nodes.remove(id);
    d.process.destroyForcibly();
    d.process.waitFor();
  }

  String peers() {
    return String.join(",", addresses.values());
  }

  /** {@code mount --cluster} of every node at {@code mnt} with {@code preset} and {@code extra}, in its own JVM. */
  Daemon mount(Path mnt, String preset, String... extra) throws Exception {
    Files.createDirectories(mnt);
    List<String> args = new ArrayList<>(List.of("mount", "--cluster", peers(), "--token-file", token.toString(),
        "--cache-memory", "64M", "--fuse-preset", preset, mnt.toString()));
    args.addAll(List.of(extra));
    Daemon d = Daemon.startWith(args, mnt, work, MOUNT_HEAP);
    mounts.add(d);
    return d;
  }

  /** {@code dynamicfs umount}: the mount must go and its daemon exit 0 (it leaves the group on the way). */
  void unmount(Daemon d) throws Exception {
    mounts.remove(d);
    CliRun.Result r = CliRun.run("umount", d.mnt.toString());
    try {
      assertEquals(0, r.code(), r.toString());
      assertTrue(d.process.waitFor(120, TimeUnit.SECONDS), "cluster mount did not exit after umount");
      int rc = d.process.exitValue();
      assertEquals(0, rc, () -> "cluster mount exited " + rc + ": " + output(d));
    } finally {
      d.close();
    }
  }

  JsonNode status(String id) throws IOException {
    CliRun.Result r = CliRun.run("cluster", "status", "--peer", addresses.get(id), "--token-file", token.toString(),
        "--json");
    assertEquals(0, r.code(), r.toString());
    return JSON.readTree(r.out());
  }

  /** fsck --cluster (blocks read and verified) must report the cluster clean. */
  void assertFsckClean() {
    CliRun.Result fsck = CliRun.run("fsck", "-q", "--cluster", peers(), "--token-file", token.toString());
    assertEquals(0, fsck.code(), fsck.toString());
    assertTrue(fsck.out().contains("fsck: clean"), fsck.out());
  }

  private static String output(Daemon d) {
    try {
      return d.output();
    } catch (IOException e) {
      return "(no output: " + e + ")";
    }
  }

  static int freePortPair() throws IOException {
    for (int i = 0; i < 50; i++) {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      try (ServerSocket next = new ServerSocket(port + 1)) {
        return port;
      } catch (IOException busy) {
        // another
      }
    }
    throw new IOException("no free port pair");
  }

  @Override
  public void close() throws Exception {
    Exception failure = null;
    List<Daemon> all = new ArrayList<>(mounts);
    List<Daemon> ns = new ArrayList<>(nodes.values());
    java.util.Collections.reverse(ns);
    all.addAll(ns);
    mounts.clear();
    nodes.clear();
    for (Daemon d : all) {
      try {
        d.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
