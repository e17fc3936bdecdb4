package io.dynamicfs.cluster.node;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.blocks.ReplicatedNodeStore;
import io.dynamicfs.cluster.mount.ClusterMounts;
import io.dynamicfs.cluster.raft.MetaQuery;
import io.dynamicfs.cluster.transport.StoredCopies;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.storage.ByteRate;
import io.dynamicfs.core.storage.Redundancy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Copy counting (fsck of a cluster) and scrub of a cluster over three real nodes (replicate-2): copies
 * damaged on disk, deleted on their node, or placed on a node that left are each reported; scrub replaces
 * the damaged and missing ones from intact copies and the count is clean afterwards.
 */
class ClusterScrubTest {
  /** Duties (and so the leader's own repairs) once a minute: within the test only the scrub repairs. */
  private static final ClusterNode.Options QUIET = new ClusterNode.Options(Duration.ofSeconds(60),
      Duration.ofSeconds(60), 1 << 20);

  @TempDir Path tmp;
  private final Map<String, ClusterNode> nodes = new LinkedHashMap<>();
  private final List<AutoCloseable> open = new ArrayList<>();
  private final Map<BlockId, byte[]> written = new HashMap<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    for (ClusterNode n : nodes.values()) {
      n.close();
    }
  }

  private ClusterMounts connect() throws Exception {
    ClusterMounts c = ClusterMounts.connect(nodes.get("n1").token(),
        nodes.values().stream().map(n -> n.file().listen()).toList(), "127.0.0.1");
    open.add(c);
    return c;
  }

  /** Nodes n1 (cluster-init, replicate-2), n2 and n3 (joined) with {@code options}, and a connection to them. */
  private ClusterMounts startThreeNodes(ClusterNode.Options options) throws Exception {
    Endpoint e1 = freeEndpoint();
    nodes.put("n1", ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, options));
    for (String id : List.of("n2", "n3")) {
      nodes.put(id, ClusterNode.join(tmp.resolve(id), id, freeEndpoint(), e1, nodes.get("n1").token(), options));
    }
    return connect();
  }

  /** Creates file {@code name} in the root whose one block is {@code sb} ({@code length} bytes), as stored. */
  private static void commitFile(ClusterMounts c, String name, StoredBlock sb, int length) throws Exception {
    long ino = c.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, name, FileType.REGULAR.bits() | 0644,
        0, 0, true, 0, null, 1)).orThrow().ino();
    c.meta().submit(new MetaOp.CommitBlocks(ino, length, -1, 2, 2, List.of(MetaOp.ChunkChange.stored(0, sb.id(),
        length, sb.storedLength(), sb.codec(), sb.placement())))).orThrow();
  }

  @Test
  void unplacedCopies_storedButNeverCommitted_areCountedPerNode_committedOnesAreNot() throws Exception {
    ClusterMounts c = startThreeNodes(QUIET);
    Random random = new Random(9);
    Map<String, Long> expectedCopies = new HashMap<>();
    long expectedBytes = 0;
    List<StoredBlock> orphans = new ArrayList<>();
    Map<Integer, String> names = new HashMap<>();
    for (MetadataStore.Node n : c.replica().nodes()) {
      names.put(n.number(), n.nodeId());
    }
    try (ReplicatedNodeStore store = ReplicatedNodeStore.builder(c.nodeDirectory().nodes(), 2).build()) {
      for (int i = 0; i < 8; i++) {
        byte[] data = new byte[1000 + random.nextInt(40_000)];
        random.nextBytes(data);
        BlockId id = BlockId.hash(data, 0, data.length);
        StoredBlock sb = store.put(id, data, data.length);
        if (i % 3 == 0) { // stored on two nodes, never committed: what a mount killed before its commit leaves
          orphans.add(sb);
          for (int node : sb.placement().locations()) {
            expectedCopies.merge(names.get(node), 1L, Long::sum);
            expectedBytes += sb.storedLength();
          }
          continue;
        }
        commitFile(c, "u" + i, sb, data.length);
      }
    }
    c.catchUp();
    UnplacedCopies.Report r = UnplacedCopies.count(c.replica(), c.nodeDirectory(), new Redundancy.Replicate(2));
    assertTrue(r.counted());
    assertEquals(List.of(), r.unreachable());
    assertEquals(2L * orphans.size(), r.copies());
    assertEquals(expectedBytes, r.bytes());
    Map<String, Long> perNode = new HashMap<>();
    for (UnplacedCopies.NodeCount n : r.byNode()) {
      perNode.put(n.nodeId(), n.copies());
    }
    assertEquals(expectedCopies, perNode);
    // committed late (the mount came back and committed): placed now, no longer counted
    StoredBlock late = orphans.get(0);
    commitFile(c, "late", late, late.rawLength());
    c.catchUp();
    assertEquals(2L * (orphans.size() - 1),
        UnplacedCopies.count(c.replica(), c.nodeDirectory(), new Redundancy.Replicate(2)).copies());
    // rs tiers are not counted, and say so
    assertFalse(UnplacedCopies.count(c.replica(), c.nodeDirectory(), new Redundancy.ReedSolomon(2, 1)).counted());
  }

  @Test
  void damagedAndMissingCopies_reportedByTheCount_thenReplacedByScrub() throws Exception {
    ClusterMounts c = startThreeNodes(QUIET);
    Random random = new Random(5);
    try (ReplicatedNodeStore store = ReplicatedNodeStore.builder(c.nodeDirectory().nodes(), 2).build()) {
      for (int i = 0; i < 12; i++) {
        byte[] data = new byte[1000 + random.nextInt(60_000)];
        random.nextBytes(data); // incompressible: stored as is, so the damage can find it
        BlockId id = BlockId.hash(data, 0, data.length);
        StoredBlock sb = store.put(id, data, data.length);
        commitFile(c, "f" + i, sb, data.length);
        written.put(id, data);
      }
      c.catchUp();
      CopyCheck.Report clean = CopyCheck.check(c.replica(), c.nodeDirectory(), 2, true);
      assertFalse(clean.atRisk(), () -> clean.problems().toString());
      assertEquals(12, clean.blocks());
      assertEquals(24, clean.intact());
      // paced (as the scheduled scrub is): the verifying reads are spread to the rate, on a virtual clock
      long[] clock = {0};
      long rate = 1 << 20;
      CopyCheck.Report paced = CopyCheck.check(c.replica(), c.nodeDirectory(), new Redundancy.Replicate(2), true,
          new ByteRate(rate, () -> clock[0], nanos -> clock[0] += nanos));
      assertEquals(24, paced.intact());
      long stored = 0;
      for (BlockId b : written.keySet()) {
        stored += 2L * c.replica().block(b).storedLength();
      }
      long due = (long) (stored * 1e9 / rate);
      assertTrue(Math.abs(clock[0] - due) <= 1_000_000, "paced to " + clock[0] + " ns, due " + due + " ns");
      // read from the replica a few records at a time (batch edges inside and at the end): the same count
      CopyCheck.Report batched = CopyCheck.check(c.replica(), c.nodeDirectory(), new Redundancy.Replicate(2), true,
          ByteRate.unlimited(), 5);
      assertEquals(12, batched.blocks());
      assertEquals(24, batched.intact());
      // a commit naming a node the cluster never had (a proposer's bug, or metadata from elsewhere)
      byte[] data = new byte[30_000];
      random.nextBytes(data);
      BlockId id = BlockId.hash(data, 0, data.length);
      StoredBlock sb = store.put(id, data, data.length);
      int real = sb.placement().locations().get(0);
      long ino = c.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "odd", FileType.REGULAR.bits() | 0644,
          0, 0, true, 0, null, 1)).orThrow().ino();
      c.meta().submit(new MetaOp.CommitBlocks(ino, data.length, -1, 2, 2, List.of(MetaOp.ChunkChange.stored(0, id,
          data.length, sb.storedLength(), sb.codec(), new io.dynamicfs.core.block.Placement(0, List.of(real, 99))))))
          .orThrow();
      written.put(id, data);
    }
    c.catchUp();

    Map<Integer, ClusterNode> byNumber = new HashMap<>();
    for (MetadataStore.Node n : c.replica().nodes()) {
      byNumber.put(n.number(), nodes.get(n.nodeId()));
    }
    List<BlockId> ids = new ArrayList<>(written.keySet());
    ids.removeIf(id -> {
      try {
        return c.replica().block(id).placement().locations().contains(99);
      } catch (io.dynamicfs.core.api.FsException e) {
        throw new AssertionError(e);
      }
    });
    BlockId damagedId = ids.get(0);
    BlockId deletedId = ids.get(1);
    BlockRecord damaged = c.replica().block(damagedId);
    BlockRecord deleted = c.replica().block(deletedId);
    int damagedOn = damaged.placement().locations().get(0);
    int deletedOn = deleted.placement().locations().get(1);
    StoredCopies.damage(byNumber.get(damagedOn).data().resolve("blocks"), written.get(damagedId));
    byNumber.get(deletedOn).blocks().delete(deletedId);

    CopyCheck.Report bad = CopyCheck.check(c.replica(), c.nodeDirectory(), 2, true);
    assertTrue(bad.problems().stream().anyMatch(p -> p.kind() == CopyCheck.Kind.CORRUPT_COPY
        && p.id().equals(damagedId) && p.node() == damagedOn), bad.problems().toString());
    assertEquals(1, bad.count(CopyCheck.Kind.CORRUPT_COPY), bad.problems().toString());
    assertEquals(1, bad.count(CopyCheck.Kind.MISSING_COPY), bad.problems().toString());
    assertEquals(1, bad.count(CopyCheck.Kind.UNKNOWN_NODE), bad.problems().toString());
    assertEquals(3, bad.count(CopyCheck.Kind.UNDER_REPLICATED), bad.problems().toString());
    assertTrue(bad.problems().stream().anyMatch(p -> p.kind() == CopyCheck.Kind.MISSING_COPY
        && p.id().equals(deletedId) && p.node() == deletedOn), bad.problems().toString());
    CopyCheck.Report fast = CopyCheck.check(c.replica(), c.nodeDirectory(), 2, false);
    assertEquals(1, fast.count(CopyCheck.Kind.MISSING_COPY), "without verify the damage is not seen, the gap is");

    ClusterScrub.Report r = ClusterScrub.run(c.replica(), c.meta(), c.nodeDirectory(), c.redundancy(), true, c::catchUp);

    assertEquals(3, r.repaired(), r.toString());
    assertFalse(r.after().atRisk(), () -> r.after().problems().toString());
    assertEquals(26, r.after().intact());
    for (Map.Entry<BlockId, byte[]> e : written.entrySet()) {
      BlockRecord rec = c.meta().query(new MetaQuery.Block(e.getKey()));
      for (int loc : rec.placement().locations()) {
        assertArrayEquals(e.getValue(), byNumber.get(loc).blocks().get(e.getKey()), "copy on node " + loc);
      }
    }
  }

  @Test
  void theLeadersScheduledScrub_replacesADamagedCopy_withNobodyAsking() throws Exception {
    ClusterNode.Options scheduled = new ClusterNode.Options(Duration.ofSeconds(60), Duration.ofMillis(500), 1 << 20)
        .withScrubEvery(Duration.ofSeconds(2));
    ClusterMounts c = startThreeNodes(scheduled);
    Random random = new Random(7);
    byte[] data = new byte[40_000];
    random.nextBytes(data);
    BlockId id = BlockId.hash(data, 0, data.length);
    try (ReplicatedNodeStore store = ReplicatedNodeStore.builder(c.nodeDirectory().nodes(), 2).build()) {
      StoredBlock sb = store.put(id, data, data.length);
      commitFile(c, "f", sb, data.length);
    }
    c.catchUp();
    Map<Integer, ClusterNode> byNumber = new HashMap<>();
    for (MetadataStore.Node n : c.replica().nodes()) {
      byNumber.put(n.number(), nodes.get(n.nodeId()));
    }
    int damagedOn = c.replica().block(id).placement().locations().get(0);
    StoredCopies.damage(byNumber.get(damagedOn).data().resolve("blocks"), data);
    assertEquals(1, CopyCheck.check(c.replica(), c.nodeDirectory(), 2, true).count(CopyCheck.Kind.CORRUPT_COPY));

    // no scrub is asked for: the leader's schedule finds and replaces the damaged copy
    ClusterTests.waitFor(Duration.ofSeconds(60), () -> {
      c.catchUp();
      return !CopyCheck.check(c.replica(), c.nodeDirectory(), 2, true).atRisk();
    });
    ClusterNode leader = nodes.values().stream().filter(ClusterNode::isLeader).findFirst().orElseThrow();
    assertTrue(java.nio.file.Files.exists(leader.data().resolve("cluster").resolve("last-scrub")));
    for (int loc : c.replica().block(id).placement().locations()) {
      assertArrayEquals(data, byNumber.get(loc).blocks().get(id), "copy on node " + loc);
    }
  }
}
