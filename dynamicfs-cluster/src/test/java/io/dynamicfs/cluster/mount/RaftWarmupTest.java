package io.dynamicfs.cluster.mount;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static io.dynamicfs.cluster.node.ClusterTests.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metadata warm-up over three real nodes: its no-ops are logged and answered, and every replica's records
 * but the applied position are as before; a cluster without a majority does not hold the mount's start past
 * the budget.
 */
class RaftWarmupTest {
  private static final ClusterNode.Options OPTIONS = new ClusterNode.Options(Duration.ofSeconds(60),
      Duration.ofSeconds(60), 1 << 20);
  /** The records that move with every applied entry, a no-op's included. */
  private static final Set<String> POSITION = Set.of("applied-index", "applied-term", "batch-progress");

  @TempDir Path tmp;
  private final List<ClusterNode> nodes = new ArrayList<>();
  private ClusterMounts mount;

  @AfterEach
  void closeAll() throws Exception {
    if (mount != null) {
      mount.close();
    }
    for (ClusterNode n : nodes) {
      n.close();
    }
  }

  private ClusterMounts start() throws Exception {
    return start(RaftMetaClient.DEFAULT_NO_LEADER_TIMEOUT);
  }

  private ClusterMounts start(Duration noLeaderTimeout) throws Exception {
    Endpoint e1 = freeEndpoint();
    nodes.add(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, OPTIONS));
    nodes.add(ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, nodes.get(0).token(), OPTIONS));
    nodes.add(ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, nodes.get(0).token(), OPTIONS));
    mount = ClusterMounts.connect(nodes.get(0).token(), nodes.stream().map(n -> n.file().listen()).toList(),
        "127.0.0.1", false, noLeaderTimeout);
    return mount;
  }

  private static List<String> recordsButPosition(MetadataStore store) throws FsException {
    List<String> out = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    store.forEachRecord((family, key, value) -> {
      if (!POSITION.contains(new String(key, StandardCharsets.ISO_8859_1))) {
        out.add(family + " " + hex.formatHex(key) + " " + hex.formatHex(value));
      }
    });
    return out;
  }

  @Test
  void noOpsAreLoggedAndAnswered_andChangeNothingButTheAppliedPosition() throws Exception {
    ClusterMounts c = start();
    c.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "kept", FileType.REGULAR.bits() | 0644, 0, 0, true, 0,
        null, 1)).orThrow();
    c.catchUp();
    List<String> before = recordsButPosition(c.replica());
    long indexBefore = c.replica().appliedIndex();

    long answered = RaftWarmup.run(c, Duration.ofSeconds(2));

    c.catchUp();
    assertTrue(answered > 0, "no no-op answered within 2 s");
    long entries = c.replica().appliedIndex() - indexBefore;
    assertTrue(entries >= answered, entries + " entries applied for " + answered + " answered no-ops");
    assertEquals(before, recordsButPosition(c.replica()), "the mount's replica changed");
    long last = c.replica().appliedIndex();
    for (ClusterNode n : nodes) {
      var sm = n.raft().stateMachine();
      waitFor(Duration.ofSeconds(10), () -> sm.appliedIndex() >= last);
      assertEquals(before, sm.read(RaftWarmupTest::recordsButPosition), n.file().nodeId() + "'s records changed");
    }
  }

  @Test
  void aClusterWithoutAMajority_doesNotHoldTheStartPastTheBudget() throws Exception {
    ClusterMounts c = start(Duration.ofSeconds(3)); // so that leaving the group at the end gives up soon
    nodes.remove(2).close();
    nodes.remove(1).close();
    long t0 = System.nanoTime();
    long answered = RaftWarmup.run(c, Duration.ofSeconds(1));
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertEquals(0, answered, "no-ops answered without a majority");
    // the budget, then at most the wait for what was sent (5 s), and some slack for a loaded machine
    assertTrue(ms < 9_000, "the warm-up took " + ms + " ms without a majority");
  }
}
