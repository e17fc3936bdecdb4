package io.dynamicfs.cluster.node;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.blocks.ReplicatedNodeStore;
import io.dynamicfs.cluster.mount.ClusterMounts;
import io.dynamicfs.cluster.raft.MetaQuery;
import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node-side orphan scan over three real nodes (replicate-2: real Ratis voters on loopback, real RocksDB, real
 * block servers and segment stores): an unplaced copy untouched for the grace goes, a placed one and a young one
 * stay, and a PUT or TOUCH that comes between the scan's pick and its removal wins.
 */
class OrphanScanTest {
  private static final Duration GRACE = Duration.ofSeconds(3);

  @TempDir Path tmp;
  private final Map<String, ClusterNode> nodes = new LinkedHashMap<>();
  private final List<AutoCloseable> open = new ArrayList<>();
  private final Random random = new Random(31);

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    for (ClusterNode n : nodes.values()) {
      n.close();
    }
  }

  private ClusterMounts startThreeNodes(ClusterNode.Options options) throws Exception {
    Endpoint e1 = freeEndpoint();
    nodes.put("n1", ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, options));
    for (String id : List.of("n2", "n3")) {
      nodes.put(id, ClusterNode.join(tmp.resolve(id), id, freeEndpoint(), e1, nodes.get("n1").token(), options));
    }
    ClusterMounts c = ClusterMounts.connect(nodes.get("n1").token(),
        nodes.values().stream().map(n -> n.file().listen()).toList(), "127.0.0.1");
    open.add(c);
    return c;
  }

  private static ClusterNode.Options options(Duration grace) {
    return new ClusterNode.Options(Duration.ofSeconds(60), Duration.ofSeconds(60), 1 << 20).withOrphanGrace(grace);
  }

  private byte[] data() {
    byte[] d = new byte[2000 + random.nextInt(30_000)];
    random.nextBytes(d);
    return d;
  }

  private static void commitFile(ClusterMounts c, String name, StoredBlock sb) throws Exception {
    long ino = c.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, name, FileType.REGULAR.bits() | 0644,
        0, 0, true, 0, null, 1)).orThrow().ino();
    c.meta().submit(new MetaOp.CommitBlocks(ino, sb.rawLength(), -1, 2, 2, List.of(MetaOp.ChunkChange.stored(0,
        sb.id(), sb.rawLength(), sb.storedLength(), sb.codec(), sb.placement())))).orThrow();
  }

  /** The node with cluster number {@code number}. */
  private ClusterNode node(ClusterMounts c, int number) throws Exception {
    for (MetadataStore.Node n : c.replica().nodes()) {
      if (n.number() == number) {
        return nodes.get(n.nodeId());
      }
    }
    throw new AssertionError("no node " + number);
  }

  private boolean heldAnywhere(BlockId id) {
    return nodes.values().stream().anyMatch(n -> n.blocks().contains(id));
  }

  private long scanAll() throws Exception {
    long removed = 0;
    for (ClusterNode n : nodes.values()) {
      OrphanScan.Report r = n.scanOrphans();
      assertNull(r.skipped(), r.toString());
      removed += r.removed();
    }
    return removed;
  }

  @Test
  void unplacedCopyOlderThanTheGrace_isRemoved_placedAndYoungCopiesStay() throws Exception {
    ClusterMounts c = startThreeNodes(options(GRACE));
    StoredBlock placed;
    StoredBlock orphan;
    try (ReplicatedNodeStore store = ReplicatedNodeStore.builder(c.nodeDirectory().nodes(), 2).build()) {
      byte[] p = data();
      placed = store.put(BlockId.hash(p, 0, p.length), p, p.length);
      commitFile(c, "placed", placed);
      byte[] o = data();
      orphan = store.put(BlockId.hash(o, 0, o.length), o, o.length); // never committed
      assertEquals(2, orphan.placement().locations().size());
      c.catchUp();
      long orphanBytes = 0;
      for (int n : orphan.placement().locations()) {
        orphanBytes += node(c, n).blocks().stat(orphan.id()).storedLength();
      }
      // a scan before the grace has passed removes nothing
      assertEquals(0, scanAll());
      Thread.sleep(GRACE.toMillis() + 500);
      byte[] y = data();
      StoredBlock young = store.put(BlockId.hash(y, 0, y.length), y, y.length); // unplaced too, but just put
      scanAll();
      assertTrue(!heldAnywhere(orphan.id()), "the unplaced copies older than the grace were removed");
      for (int n : placed.placement().locations()) {
        assertTrue(node(c, n).blocks().contains(placed.id()), "the placed copy on node " + n + " stays");
      }
      for (int n : young.placement().locations()) {
        assertTrue(node(c, n).blocks().contains(young.id()), "the young copy on node " + n + " stays");
      }
      long removed = 0;
      long removedBytes = 0;
      for (ClusterNode n : nodes.values()) {
        removed += n.orphanScan().removed();
        removedBytes += n.orphanScan().removedBytes();
      }
      assertEquals(2, removed, "both copies of the orphan, counted once each (scheduled scans included)");
      assertEquals(orphanBytes, removedBytes);
      // the young copy goes once it is old in turn; the placed one never does
      Thread.sleep(GRACE.toMillis() + 500);
      scanAll();
      assertTrue(!heldAnywhere(young.id()));
      assertTrue(heldAnywhere(placed.id()));
      assertArrayEquals(p, store.get(placed.id()));
    }
  }

  @Test
  void aPutOrTouchBetweenThePickAndTheRemoval_wins_theUntouchedCopyGoes() throws Exception {
    ClusterMounts c = startThreeNodes(options(ClusterNode.Options.DEFAULT_ORPHAN_GRACE)); // own scans idle
    ClusterNode n1 = nodes.get("n1");
    int n1Number = -1;
    for (MetadataStore.Node n : c.replica().nodes()) {
      if (n.nodeId().equals("n1")) {
        n1Number = n.number();
      }
    }
    RemoteBlockStore remote = (RemoteBlockStore) c.nodeDirectory().nodes().node(n1Number).store();
    byte[] touched = data();
    byte[] reput = data();
    byte[] untouched = data();
    BlockId touchedId = BlockId.hash(touched, 0, touched.length);
    BlockId reputId = BlockId.hash(reput, 0, reput.length);
    BlockId untouchedId = BlockId.hash(untouched, 0, untouched.length);
    for (byte[] d : List.of(touched, reput, untouched)) {
      remote.put(BlockId.hash(d, 0, d.length), d, d.length); // on n1 only, placed nowhere
    }
    Duration grace = Duration.ofMillis(300);
    Thread.sleep(grace.toMillis() + 100);
    int self = n1Number;
    // the metadata answer comes after the pick: a TOUCH and a PUT arrive at n1 just then
    OrphanScan.Metadata racing = new OrphanScan.Metadata() {
      @Override
      public Integer scannableNode(StringBuilder why) {
        return self;
      }

      @Override
      public boolean[] placedOn(int node, List<BlockId> ids) throws io.dynamicfs.core.api.FsException {
        assertEquals(3, ids.size(), "all three were picked");
        try {
          assertEquals(List.of(), remote.touch(List.of(touchedId)));
          remote.put(reputId, reput, reput.length);
        } catch (java.io.IOException e) {
          throw new AssertionError(e);
        }
        return c.meta().query(new MetaQuery.PlacedOn(node, ids));
      }
    };
    OrphanScan scan = new OrphanScan(n1.blocks(), n1.copyClock(), racing, grace);
    OrphanScan.Report r = scan.scan();
    assertEquals(3, r.old());
    assertEquals(1, r.removed());
    assertEquals(2, r.keptTouched());
    assertTrue(n1.blocks().contains(touchedId), "the copy touched during the scan stays");
    assertTrue(n1.blocks().contains(reputId), "the copy put again during the scan stays");
    assertTrue(!n1.blocks().contains(untouchedId), "the untouched one is removed");
    assertEquals(List.of(untouchedId), remote.touch(List.of(untouchedId, touchedId)),
        "a TOUCH after the removal finds the copy gone");
    // the real metadata, linearizable: unplaced, placed, and a block waiting in pending deletion counts as placed
    StoredBlock sb = remote.put(touchedId, touched, touched.length);
    StoredBlock on1 = new StoredBlock(touchedId, sb.rawLength(), sb.storedLength(), sb.codec(),
        new io.dynamicfs.core.block.Placement(0, List.of(self)));
    commitFile(c, "kept", on1);
    StoredBlock elsewhere = new StoredBlock(reputId, reput.length, reput.length, sb.codec(),
        new io.dynamicfs.core.block.Placement(0, List.of(self + 1)));
    commitFile(c, "gone", elsewhere);
    assertEquals(List.of(true, false, false), asList(c.meta().query(new MetaQuery.PlacedOn(self, List.of(touchedId,
        reputId, untouchedId)))));
    c.meta().submit(new MetaOp.Remove(FileSystem.ROOT_INO, "gone", false, 0, 3)).orThrow();
    assertEquals(List.of(true, true, false), asList(c.meta().query(new MetaQuery.PlacedOn(self, List.of(touchedId,
        reputId, untouchedId)))));
  }

  @Test
  void rsCluster_leavesShardsAlone_andSaysWhy() throws Exception {
    Endpoint e1 = freeEndpoint();
    ClusterNode n1 = ClusterNode.init(tmp.resolve("rs1"), "rs1", e1, "rs-2-1", FormatOptions.DEFAULT,
        options(Duration.ofSeconds(1)));
    nodes.put("rs1", n1);
    OrphanScan.Report r = n1.scanOrphans();
    assertNotNull(r.skipped());
    assertTrue(r.skipped().contains("rs-K-M"), r.skipped());
  }

  private static List<Boolean> asList(boolean[] b) {
    List<Boolean> out = new ArrayList<>();
    for (boolean x : b) {
      out.add(x);
    }
    return out;
  }

  private static void assertArrayEquals(byte[] expected, byte[] actual) {
    org.junit.jupiter.api.Assertions.assertArrayEquals(expected, actual);
  }
}
