package io.dynamicfs.cluster.mount;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static io.dynamicfs.cluster.node.ClusterTests.waitFor;

import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.node.CopyCheck;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.FormatOptions;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine as a cluster mount over three real nodes (Ratis and block servers on 127.0.0.1): two mounts
 * see each other's files and directories (a file closed on one is read whole after open on the other), and
 * blocks land on two of the three nodes (replicate-2).
 */
class ClusterMountEngineTest {
  private static final ClusterNode.Options FAST = new ClusterNode.Options(Duration.ofSeconds(1),
      Duration.ofMillis(500), 1 << 20);
  private static final int O_RDWR = 2;

  @TempDir Path tmp;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private <T extends AutoCloseable> T keep(T c) {
    open.add(c);
    return c;
  }

  private DynamicFileSystem mount(List<ClusterNode> nodes, String name) throws IOException {
    ClusterMounts c = ClusterMounts.connect(nodes.get(0).token(),
        nodes.stream().map(n -> n.file().listen()).toList(), "127.0.0.1");
    return keep(DynamicFileSystem.openCluster(c.engineParts(name, Duration.ofSeconds(30)), EngineOptions.defaults()));
  }

  /** Three nodes of a fresh replicate-2 cluster, n1 first. */
  private List<ClusterNode> replicate2() throws IOException {
    Endpoint e1 = freeEndpoint();
    List<ClusterNode> nodes = new ArrayList<>();
    nodes.add(keep(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, FAST)));
    nodes.add(keep(ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, nodes.get(0).token(), FAST)));
    nodes.add(keep(ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, nodes.get(0).token(), FAST)));
    return nodes;
  }

  @Test
  void twoMounts_seeEachOthersFiles_blocksOnTwoNodes() throws Exception {
    List<ClusterNode> nodes = replicate2();
    DynamicFileSystem a = mount(nodes, "mount-a");
    DynamicFileSystem b = mount(nodes, "mount-b");
    byte[] content = new byte[3 * (1 << 20) + 12345];
    new Random(1).nextBytes(content);
    long dir = a.mkdir(Caller.ROOT, FileSystem.ROOT_INO, "d", 0755).ino();
    OpenResult f = a.create(Caller.ROOT, dir, "f", 0644, O_RDWR);
    for (int off = 0; off < content.length; ) {
      off += a.write(f.handle(), off, content, off, Math.min(1 << 20, content.length - off));
    }
    a.fsync(f.handle(), false);
    a.release(f.handle());

    // close-to-open: b opens after a closed, and reads the whole file
    waitFor(Duration.ofSeconds(10), () -> b.lookup(FileSystem.ROOT_INO, "d") > 0);
    long bd = b.lookup(FileSystem.ROOT_INO, "d");
    waitFor(Duration.ofSeconds(10), () -> b.lookup(bd, "f") > 0);
    long bf = b.lookup(bd, "f");
    long h = b.open(Caller.ROOT, bf, 0); // the open barrier: everything committed before is applied here
    assertEquals(content.length, b.getattr(bf).size());
    byte[] got = new byte[content.length];
    for (int off = 0; off < got.length; ) {
      int n = b.read(h, off, got, off, got.length - off);
      assertTrue(n > 0);
      off += n;
    }
    b.release(h);
    assertArrayEquals(content, got);

    // every block is on exactly two of the three nodes
    long copies = 0;
    for (ClusterNode n : nodes) {
      copies += n.blocks().stats().blocks();
    }
    assertEquals(2 * 4, copies, "4 blocks x 2 copies");

    // a name made on b is seen on a; a rename on a is seen on b
    // (names follow within the replication lag: milliseconds; the kernel caches entries longer anyway)
    b.mkdir(Caller.ROOT, FileSystem.ROOT_INO, "from-b", 0755);
    waitFor(Duration.ofSeconds(10), () -> a.lookup(FileSystem.ROOT_INO, "from-b") > 0);
    a.rename(FileSystem.ROOT_INO, "from-b", dir, "moved", 0);
    waitFor(Duration.ofSeconds(10), () -> b.lookup(bd, "moved") > 0);
    assertEquals(Errno.ENOENT, assertThrows(FsException.class, () -> b.lookup(FileSystem.ROOT_INO, "from-b")).errno());
  }

  /**
   * Close-to-open while this mount still has the file open: b holds a handle from before a's append, and a new
   * open on b reads the appended bytes (the open file b shares between its handles takes the new size).
   */
  @Test
  void aNewOpen_seesAnotherMountsChange_whileAnOlderHandleIsStillOpen() throws Exception {
    List<ClusterNode> nodes = replicate2();
    DynamicFileSystem a = mount(nodes, "mount-a");
    DynamicFileSystem b = mount(nodes, "mount-b");
    Random rnd = new Random(2);
    byte[] content = new byte[4864];
    rnd.nextBytes(content);
    long dir = a.mkdir(Caller.ROOT, FileSystem.ROOT_INO, "d", 0755).ino();
    OpenResult f = a.create(Caller.ROOT, dir, "f", 0644, O_RDWR);
    a.write(f.handle(), 0, content, 0, content.length);
    a.release(f.handle());
    waitFor(Duration.ofSeconds(10), () -> b.lookup(FileSystem.ROOT_INO, "d") > 0);
    long bd = b.lookup(FileSystem.ROOT_INO, "d");
    waitFor(Duration.ofSeconds(10), () -> b.lookup(bd, "f") > 0);
    long bf = b.lookup(bd, "f");
    long older = b.open(Caller.ROOT, bf, 0);
    assertArrayEquals(content, readAll(b, older, content.length));
    for (int round = 0; round < 3; round++) {
      byte[] more = new byte[1 + rnd.nextInt(300_000)];
      rnd.nextBytes(more);
      long h = a.open(Caller.ROOT, f.attr().ino(), O_RDWR);
      for (int off = 0; off < more.length; ) {
        off += a.write(h, content.length + off, more, off, more.length - off);
      }
      a.release(h);
      byte[] next = java.util.Arrays.copyOf(content, content.length + more.length);
      System.arraycopy(more, 0, next, content.length, more.length);
      content = next;
      long fresh = b.open(Caller.ROOT, bf, 0);
      assertEquals(content.length, b.getattr(bf).size(), "round " + round);
      assertArrayEquals(content, readAll(b, fresh, content.length), "round " + round + ": a new open reads it all");
      b.release(fresh);
    }
    b.release(older);
  }

  private static byte[] readAll(DynamicFileSystem fs, long h, int size) throws IOException {
    byte[] got = new byte[size + 1];
    int off = 0;
    for (int n; off < got.length && (n = fs.read(h, off, got, off, got.length - off)) > 0; ) {
      off += n;
    }
    return java.util.Arrays.copyOf(got, off);
  }

  @Test
  void rs21_shardsOnThreeNodes_fileReadsBackWithFirstNodeDown() throws Exception {
    Endpoint e1 = freeEndpoint();
    List<ClusterNode> nodes = new ArrayList<>();
    ClusterNode first = ClusterNode.init(tmp.resolve("n1"), "n1", e1, "rs-2-1", FormatOptions.DEFAULT, FAST);
    nodes.add(first);
    boolean[] firstClosed = {false};
    keep(() -> {
      if (!firstClosed[0]) {
        first.close();
      }
    });
    nodes.add(keep(ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, first.token(), FAST)));
    nodes.add(keep(ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, first.token(), FAST)));

    byte[] content = new byte[3 * (1 << 20) + 4321];
    new Random(7).nextBytes(content);
    try (DynamicFileSystem a = DynamicFileSystem.openCluster(ClusterMounts.connect(nodes.get(0).token(),
        nodes.stream().map(n -> n.file().listen()).toList(), "127.0.0.1").engineParts("rs-a", Duration.ofSeconds(30)),
        EngineOptions.defaults())) {
      OpenResult f = a.create(Caller.ROOT, FileSystem.ROOT_INO, "f", 0644, O_RDWR);
      for (int off = 0; off < content.length; ) {
        off += a.write(f.handle(), off, content, off, Math.min(1 << 20, content.length - off));
      }
      a.fsync(f.handle(), false);
      a.release(f.handle());
    }
    // 4 blocks, each as 2 data + 1 parity shards on 3 distinct nodes: one shard of every block per node
    for (ClusterNode n : nodes) {
      assertEquals(4, n.blocks().stats().blocks(), n.file().nodeId() + " holds one shard of each block");
    }
    ClusterMounts check = keep(ClusterMounts.connect(first.token(), List.of(e1), "127.0.0.1"));
    CopyCheck.Report whole = CopyCheck.check(check.replica(), check.nodeDirectory(), check.redundancy(), true);
    assertEquals(List.of(), whole.problems());
    assertEquals(4 * 3, whole.intact(), "every shard verified on the node its placement names");

    // any one of three may go: 2 shards rebuild each block, 2 voters keep a majority. The first node is the
    // first member a new mount asks about the group, and was the leader: the mount must get past both.
    firstClosed[0] = true;
    first.close();
    List<ClusterNode> left = nodes.subList(1, 3);
    CopyCheck.Report degraded = CopyCheck.check(check.replica(), check.nodeDirectory(), check.redundancy(), false);
    assertTrue(degraded.atRisk());
    assertEquals(4, degraded.count(CopyCheck.Kind.UNDER_REPLICATED), degraded.problems().toString());

    DynamicFileSystem b = mount(left, "rs-b");
    long ino = b.lookup(FileSystem.ROOT_INO, "f");
    long h = b.open(Caller.ROOT, ino, 0);
    byte[] got = new byte[content.length];
    for (int off = 0; off < got.length; ) {
      int n = b.read(h, off, got, off, got.length - off);
      assertTrue(n > 0);
      off += n;
    }
    b.release(h);
    assertArrayEquals(content, got);
  }
}
