package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Four node processes on 127.0.0.1 (replicate-2; n1-n3 metadata voters, n4 blocks only, a node counted dead
 * after 3 s unreachable) and a cluster mount: {@code cluster leave} of a voter drains its blocks (every block
 * then has two intact copies on the other nodes, fsck counts them), removes it from the group and its
 * process stops itself; the files read back identical through a fresh mount. Then n4 is killed with SIGKILL:
 * the leader copies its blocks to the others and fsck is clean again. Bad leaves get one line and exit 2.
 */
class ClusterLeaveCliTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path tmp;
  private final List<Daemon> running = new ArrayList<>();

  @AfterEach
  void stopAll() throws Exception {
    for (int i = running.size() - 1; i >= 0; i--) {
      running.get(i).close();
    }
  }

  private Daemon start(List<String> args, Path mnt, String heap) throws Exception {
    Daemon d = Daemon.startWith(args, mnt, tmp, heap);
    running.add(d);
    return d;
  }

  private Daemon mount(Path mnt, String peers, Path token) throws Exception {
    Files.createDirectories(mnt);
    return start(List.of("mount", "--cluster", peers, "--token-file", token.toString(), "--cache-memory", "32M",
        "--fuse-preset", "safe", mnt.toString()), mnt, "-Xmx384m");
  }

  private static JsonNode status(String peer, Path token) throws IOException {
    CliRun.Result r = CliRun.run("cluster", "status", "--peer", peer, "--token-file", token.toString(), "--json");
    assertEquals(0, r.code(), r.toString());
    return JSON.readTree(r.out());
  }

  private static JsonNode member(JsonNode status, String nodeId) {
    for (JsonNode m : status.get("members")) {
      if (m.get("node_id").asText().equals(nodeId)) {
        return m;
      }
    }
    throw new AssertionError(nodeId + " not in " + status);
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

  /** Every file reads back identical through {@code mount}; a failed read says what the mount and leader logged. */
  private void assertFilesReadBack(Daemon mount, Map<String, byte[]> files, Path leaderLog) {
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      byte[] got;
      try {
        got = Files.readAllBytes(mount.mnt.resolve(e.getKey()));
      } catch (IOException failed) {
        throw new AssertionError("reading " + e.getKey() + " failed: " + failed + mount.diagnostics(leaderLog, 60),
            failed);
      }
      assertArrayEquals(e.getValue(), got, e.getKey());
    }
  }

  @Test
  void leaveThenKill_everyBlockKeepsTwoCopies_filesReadBack_fsckClean() throws Exception {
    Map<String, String> addr = new LinkedHashMap<>();
    Map<String, Daemon> nodes = new LinkedHashMap<>();
    for (String n : List.of("n1", "n2", "n3", "n4")) {
      addr.put(n, "127.0.0.1:" + ClusterFixture.freePortPair());
    }
    nodes.put("n1", start(List.of("cluster-init", "--node-id", "n1", "--data", tmp.resolve("n1").toString(),
        "--listen", addr.get("n1"), "--redundancy", "replicate-2", "--dead-node-after", "3"), null, "-Xmx256m"));
    Path token = tmp.resolve("n1").resolve("cluster/token");
    for (String n : List.of("n2", "n3", "n4")) {
      nodes.put(n, start(List.of("cluster-join", "--node-id", n, "--data", tmp.resolve(n).toString(), "--listen",
          addr.get(n), "--peer", addr.get("n1"), "--token-file", token.toString(), "--dead-node-after", "3"), null,
          "-Xmx256m"));
    }
    String peers = String.join(",", addr.values());
    Path ma = tmp.resolve("ma");
    mount(ma, peers, token);
    Random rnd = new Random(7);
    Map<String, byte[]> files = new LinkedHashMap<>();
    for (int i = 0; i < 16; i++) {
      byte[] c = new byte[1 + rnd.nextInt(2_500_000)];
      rnd.nextBytes(c);
      writeSynced(ma.resolve("f" + i), c);
      files.put("f" + i, c);
    }
    CliRun.Result fsck = CliRun.run("fsck", "-q", "--cluster", peers, "--token-file", token.toString());
    assertEquals(0, fsck.code(), fsck.toString());
    assertTrue(fsck.out().contains("fsck copies: clean"), fsck.out());

    // bad leaves: an unknown node; nothing changes
    CliRun.Result bad = CliRun.run("cluster", "leave", "--peer", addr.get("n1"), "--node-id", "n9", "--token-file",
        token.toString());
    assertEquals(2, bad.code(), bad.toString());
    assertTrue(bad.err().contains("no node 'n9'") && bad.err().strip().lines().count() == 1, bad.err());

    // a voter that does not lead leaves, asked through the leader
    String leader = status(addr.get("n1"), token).get("leader").asText();
    String leaving = List.of("n1", "n2", "n3").stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
    CliRun.Result leave = CliRun.run("cluster", "leave", "--peer", addr.get(leader), "--node-id", leaving,
        "--token-file", token.toString());
    assertEquals(0, leave.code(), leave.toString());
    assertTrue(leave.out().contains("block(s) left to move") && leave.out().contains("has left the cluster"),
        leave.out());
    Daemon gone = nodes.remove(leaving);
    long leftAt = System.nanoTime();
    if (!gone.process.waitFor(60, TimeUnit.SECONDS)) {
      // before the daemon is killed in stopAll: what the node logged last, and where its threads are
      String why = gone.diagnostics(tmp.resolve(leaving).resolve("logs/dynamicfs.log"), 60);
      throw new AssertionError("the node that left (" + leaving + ") did not stop itself in 60 s" + why);
    }
    System.out.printf("ClusterLeaveCliTest: %s stopped %d ms after cluster leave returned%n", leaving,
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - leftAt));
    assertEquals(0, gone.process.exitValue());
    JsonNode st = status(addr.get(leader), token);
    assertEquals("removed", member(st, leaving).get("state").asText(), st.toString());
    assertEquals("removed", member(st, leaving).get("role").asText(), st.toString());
    addr.remove(leaving);
    peers = String.join(",", addr.values());
    fsck = CliRun.run("fsck", "-q", "--cluster", peers, "--token-file", token.toString());
    assertEquals(0, fsck.code(), fsck.toString());
    assertTrue(fsck.out().contains("fsck copies: clean"), fsck.out());
    Path leaderLog = tmp.resolve(leader).resolve("logs/dynamicfs.log");
    Daemon mb = mount(tmp.resolve("mb"), peers, token);
    assertFilesReadBack(mb, files, leaderLog);
    CliRun.Result again = CliRun.run("cluster", "leave", "--peer", addr.get(leader), "--node-id", leaving,
        "--token-file", token.toString());
    assertEquals(0, again.code(), again.toString());
    assertTrue(again.out().contains("had already left"), again.out());

    // n4 dies for good: after the dead timeout the leader copies its blocks to the two voters left
    nodes.get("n4").process.destroyForcibly();
    assertTrue(nodes.get("n4").process.waitFor(30, TimeUnit.SECONDS));
    String survivor = addr.keySet().stream().filter(n -> !n.equals("n4") && !n.equals(leader)).findFirst()
        .orElseThrow();
    CliRun.Result tooFew = CliRun.run("cluster", "leave", "--peer", addr.get(leader), "--node-id", survivor,
        "--token-file", token.toString());
    assertEquals(2, tooFew.code(), tooFew.toString());
    assertTrue(tooFew.err().contains("cannot leave"), tooFew.err());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    do {
      Thread.sleep(2000);
      fsck = CliRun.run("fsck", "-q", "--fast", "--cluster", addr.get(leader), "--token-file", token.toString());
    } while (fsck.code() != 0 && System.nanoTime() < deadline);
    assertEquals(0, fsck.code(), fsck.toString());
    assertFilesReadBack(mb, files, leaderLog);
    fsck = CliRun.run("fsck", "-q", "--cluster", addr.get(leader), "--token-file", token.toString());
    assertEquals(0, fsck.code(), fsck.toString());
    assertTrue(fsck.out().contains("fsck copies: clean"), fsck.out());
    CliRun.Result scrub = CliRun.run("scrub", "--cluster", addr.get(leader), "--token-file", token.toString());
    assertEquals(0, scrub.code(), scrub.toString());
    assertTrue(scrub.out().contains("corrupt 0, missing 0"), scrub.out());
  }
}
