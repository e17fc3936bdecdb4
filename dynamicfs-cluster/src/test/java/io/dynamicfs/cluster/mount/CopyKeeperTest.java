package io.dynamicfs.cluster.mount;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static io.dynamicfs.cluster.node.ClusterTests.waitFor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.blocks.BlockNode;
import io.dynamicfs.cluster.blocks.ReplicatedNodeStore;
import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.engine.ClusterMount;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount's side of the orphan scan over three real nodes (replicate-2) whose grace is 3 s: a copy held
 * uncommitted past half the grace is touched before its commit is proposed and survives the nodes' scans; one
 * whose copies vanished fails the commit with EIO and nothing is published; copies the engine still holds are
 * kept alive in the background, and go once the engine lets them go.
 */
class CopyKeeperTest {
  private static final Duration GRACE = Duration.ofSeconds(3);
  private static final ClusterNode.Options OPTIONS = new ClusterNode.Options(Duration.ofSeconds(60),
      Duration.ofSeconds(60), 1 << 20).withOrphanGrace(GRACE);

  @TempDir Path tmp;
  private final List<ClusterNode> nodes = new ArrayList<>();
  private final List<AutoCloseable> open = new ArrayList<>();
  private final Random random = new Random(44);

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    for (ClusterNode n : nodes) {
      n.close();
    }
  }

  private ClusterMounts start() throws Exception {
    Endpoint e1 = freeEndpoint();
    nodes.add(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, OPTIONS));
    nodes.add(ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, nodes.get(0).token(), OPTIONS));
    nodes.add(ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, nodes.get(0).token(), OPTIONS));
    ClusterMounts c = ClusterMounts.connect(nodes.get(0).token(), nodes.stream().map(n -> n.file().listen()).toList(),
        "127.0.0.1");
    return c;
  }

  private static RemoteBlockStore nodeStore(ClusterMounts c, int number) {
    BlockNode b = c.nodeDirectory().nodes().node(number);
    return b == null ? null : (RemoteBlockStore) b.store();
  }

  private byte[] data() {
    byte[] d = new byte[5000 + random.nextInt(20_000)];
    random.nextBytes(d);
    return d;
  }

  private void scanAll() throws Exception {
    for (ClusterNode n : nodes) {
      n.scanOrphans();
    }
  }

  private int copies(BlockId id) {
    int n = 0;
    for (ClusterNode node : nodes) {
      n += node.blocks().contains(id) ? 1 : 0;
    }
    return n;
  }

  private static MetaOp.CommitBlocks commitOf(long ino, StoredBlock sb) {
    return new MetaOp.CommitBlocks(ino, sb.rawLength(), -1, 2, 2, List.of(MetaOp.ChunkChange.stored(0, sb.id(),
        sb.rawLength(), sb.storedLength(), sb.codec(), sb.placement())));
  }

  @Test
  void aCopyHeldPastHalfTheGrace_isTouchedBeforeItsCommit_andSurvivesTheScan() throws Exception {
    ClusterMounts c = start();
    open.add(c);
    try (ReplicatedNodeStore base = ReplicatedNodeStore.builder(c.nodeDirectory().nodes(), 2).build()) {
      // no background pass: only the commit's own touch can keep the copy
      CopyKeeper keeper = new CopyKeeper(base, n -> nodeStore(c, n), System::nanoTime, 0);
      byte[] a = data();
      byte[] b = data();
      StoredBlock sa = keeper.put(BlockId.hash(a, 0, a.length), a, a.length);
      StoredBlock sb = keeper.put(BlockId.hash(b, 0, b.length), b, b.length);
      long ino = c.meta().submit(new MetaOp.CreateNode(FileSystem.ROOT_INO, "a", FileType.REGULAR.bits() | 0644,
          0, 0, true, 0, null, 1)).orThrow().ino();
      Thread.sleep(GRACE.toMillis() / 2 + 300);
      keeper.beforeCommit(commitOf(ino, sa)); // past G/2: touched now
      Thread.sleep(GRACE.toMillis() / 2 + 300); // b is past the grace now, a's touch is not
      scanAll();
      assertEquals(2, copies(sa.id()), "touched before the commit: its copies stay, though nothing places them yet");
      assertEquals(0, copies(sb.id()), "the untouched, unplaced copies went");
      c.meta().submit(commitOf(ino, sa)).orThrow(); // the commit, proposed less than G/2 after the touch
      Thread.sleep(GRACE.toMillis() + 300);
      scanAll();
      assertEquals(2, copies(sa.id()), "placed now: kept for good");
      assertArrayEquals(a, base.get(sa.id()));
    }
  }

  @Test
  void aCopyThatVanished_failsTheCommitWithEio_andNothingIsPublished() throws Exception {
    ClusterMounts c = start();
    open.add(c);
    ClusterMount parts = c.engineParts("keeper-test", Duration.ofSeconds(30), false);
    assertTrue(parts.blocks() instanceof CopyKeeper, "a replicated cluster's mount keeps its copies");
    byte[] d = data();
    StoredBlock sd = parts.blocks().put(BlockId.hash(d, 0, d.length), d, d.length);
    for (int n : sd.placement().locations()) {
      nodeStore(c, n).delete(sd.id()); // gone from the nodes while the mount still means to commit it
    }
    long ino = parts.journal().append(new MetaOp.CreateNode(FileSystem.ROOT_INO, "d", FileType.REGULAR.bits() | 0644,
        0, 0, true, 0, null, 1)).orThrow().ino();
    Thread.sleep(GRACE.toMillis() / 2 + 300);
    FsException e = assertThrows(FsException.class, () -> parts.journal().append(commitOf(ino, sd)));
    assertEquals(Errno.EIO, e.errno());
    c.catchUp();
    assertNull(c.replica().block(sd.id()), "no record names the vanished copies");
    assertEquals(0, c.replica().requireInode(ino).size());
  }

  @Test
  void aFileHeldOpenPastTheGrace_keepsItsStoredBlocks_thenClosesWhole_andSupersededCopiesGo() throws Exception {
    ClusterMounts c = start(); // closed by the engine
    DynamicFileSystem fs = DynamicFileSystem.openCluster(c.engineParts("slow-writer", Duration.ofSeconds(30)),
        EngineOptions.defaults());
    open.add(fs);
    byte[] first = new byte[1 << 20];
    random.nextBytes(first);
    OpenResult f = fs.create(Caller.ROOT, FileSystem.ROOT_INO, "slow", 0644, 2);
    fs.write(f.handle(), 0, first, 0, first.length); // a whole block: stored on the nodes now, committed at close
    BlockId firstId = BlockId.hash(first, 0, first.length);
    waitFor(Duration.ofSeconds(10), () -> copies(firstId) == 2);
    Thread.sleep(GRACE.toMillis() + 1500); // past the grace, still uncommitted: kept alive by the mount
    scanAll();
    assertEquals(2, copies(firstId), "an uncommitted block the mount holds is kept");
    // rewritten before any commit: the first version is superseded and never committed
    byte[] second = new byte[1 << 20];
    random.nextBytes(second);
    fs.write(f.handle(), 0, second, 0, second.length);
    byte[] tail = new byte[1 << 20];
    random.nextBytes(tail);
    fs.write(f.handle(), 1 << 20, tail, 0, tail.length);
    fs.release(f.handle());
    Thread.sleep(GRACE.toMillis() + 1000);
    scanAll();
    assertEquals(0, copies(firstId), "the superseded block's copies went once the mount let them go");
    long ino = fs.lookup(FileSystem.ROOT_INO, "slow");
    long h = fs.open(Caller.ROOT, ino, 0);
    byte[] got = new byte[2 << 20];
    for (int off = 0; off < got.length; ) {
      int n = fs.read(h, off, got, off, got.length - off);
      assertTrue(n > 0);
      off += n;
    }
    fs.release(h);
    byte[] want = new byte[2 << 20];
    System.arraycopy(second, 0, want, 0, second.length);
    System.arraycopy(tail, 0, want, 1 << 20, tail.length);
    assertArrayEquals(want, got);
    assertFalse(c.replica().block(BlockId.hash(second, 0, second.length)) == null);
  }
}
