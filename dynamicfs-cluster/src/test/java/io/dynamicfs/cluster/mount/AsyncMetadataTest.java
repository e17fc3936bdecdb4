package io.dynamicfs.cluster.mount;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.node.ClusterAdmin;
import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Asynchronous metadata on cluster mounts (RaftJournal with directory leases), engines over three real nodes
 * on 127.0.0.1: what one mount answered at once is what the cluster logged, another mount sees it after its
 * barrier (close-to-open), two mounts racing to create the same names get exactly one winner each, and
 * concurrent random histories from two mounts, with the leader stopped midway, end in the state each
 * mount's acknowledged operations describe.
 */
class AsyncMetadataTest {
  private static final ClusterNode.Options FAST = new ClusterNode.Options(Duration.ofSeconds(1),
      Duration.ofMillis(500), 1 << 20);
  private static final int O_RDWR = 2;
  private static final long ROOT = FileSystem.ROOT_INO;

  @TempDir Path tmp;
  private final List<AutoCloseable> open = new ArrayList<>();
  private final List<ClusterNode> nodes = new ArrayList<>();

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

  private void cluster() throws IOException {
    Endpoint e1 = freeEndpoint();
    nodes.add(keep(ClusterNode.init(tmp.resolve("n1"), "n1", e1, "replicate-2", FormatOptions.DEFAULT, FAST)));
    nodes.add(keep(ClusterNode.join(tmp.resolve("n2"), "n2", freeEndpoint(), e1, nodes.get(0).token(), FAST)));
    nodes.add(keep(ClusterNode.join(tmp.resolve("n3"), "n3", freeEndpoint(), e1, nodes.get(0).token(), FAST)));
  }

  private record Mount(DynamicFileSystem fs, ClusterMounts connection) {}

  private Mount mount(String name) throws IOException {
    ClusterMounts c = ClusterMounts.connect(nodes.get(0).token(),
        nodes.stream().map(n -> n.file().listen()).toList(), "127.0.0.1");
    DynamicFileSystem fs;
    try {
      fs = DynamicFileSystem.openCluster(c.engineParts(name, Duration.ofSeconds(30), true), EngineOptions.defaults());
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    keep(fs);
    return new Mount(fs, c);
  }

  private static void writeFile(DynamicFileSystem fs, long dir, String name, byte[] content) throws IOException {
    OpenResult f = fs.create(Caller.ROOT, dir, name, 0644, O_RDWR);
    try {
      fs.write(f.handle(), 0, content, 0, content.length);
    } finally {
      fs.release(f.handle());
    }
  }

  private static byte[] readFile(DynamicFileSystem fs, long dir, String name) throws IOException {
    long ino = fs.lookup(dir, name);
    long h = fs.open(Caller.ROOT, ino, 0);
    try {
      byte[] out = new byte[(int) fs.getattr(ino).size()];
      for (int off = 0; off < out.length; ) {
        int n = fs.read(h, off, out, off, out.length - off);
        assertTrue(n > 0, "short read of " + name);
        off += n;
      }
      return out;
    } finally {
      fs.release(h);
    }
  }

  /** The names in {@code dir} with the directory open meanwhile, as {@code ls} (opendir, readdir) sees them. */
  private static List<String> listOpened(DynamicFileSystem fs, long dir) throws IOException {
    long h = fs.open(Caller.ROOT, dir, 0);
    try {
      return names(fs, dir);
    } finally {
      fs.release(h);
    }
  }

  private static List<String> names(DynamicFileSystem fs, long dir) throws IOException {
    List<String> out = new ArrayList<>();
    for (DirEntry e : fs.readdir(dir)) {
      if (!e.name().equals(".") && !e.name().equals("..")) {
        out.add(e.name());
      }
    }
    Collections.sort(out);
    return out;
  }

  @Test
  void filesMadeAheadOnOneMount_areReadWholeOnTheOther_andTheLeaseComesBack() throws Exception {
    cluster();
    Mount a = mount("mount-a");
    Mount b = mount("mount-b");
    long d = a.fs().mkdir(Caller.ROOT, ROOT, "d", 0755).ino();
    Map<String, byte[]> written = new TreeMap<>();
    Random random = new Random(3);
    for (int i = 0; i < 150; i++) {
      byte[] content = new byte[random.nextInt(20_000)];
      random.nextBytes(content);
      writeFile(a.fs(), d, "f" + i, content);
      written.put("f" + i, content);
    }
    for (int i = 0; i < 150; i += 3) {
      a.fs().unlink(d, "f" + i);
      written.remove("f" + i);
    }
    for (int i = 1; i < 150; i += 15) { // an editor's save: the new file replaces the old by rename
      a.fs().rename(d, "f" + i, d, "f" + (i + 1), 0);
      written.put("f" + (i + 1), written.remove("f" + i));
    }
    assertTrue(a.connection().replica().lease(d) != null, "mount a leased the directory it created in");
    // 150 creates, 150 content commits, 50 unlinks, 10 renames: all but the few that took the lease and
    // grants ran ahead
    long ahead = a.connection().journalFigures().appliedAhead();
    assertTrue(ahead >= 350, "ops applied ahead: " + ahead);

    // b: a lookup of a name a made recalls a's lease; then every file reads back whole
    long bd = b.fs().lookup(ROOT, "d");
    for (var e : written.entrySet()) {
      assertArrayEquals(e.getValue(), readFile(b.fs(), bd, e.getKey()), e.getKey());
    }
    assertEquals(new ArrayList<>(written.keySet()), names(b.fs(), bd));
    assertNull(b.connection().replica().lease(d), "the lease was given back");
    assertEquals(Errno.ENOENT, ((FsException) org.junit.jupiter.api.Assertions.assertThrows(FsException.class,
        () -> b.fs().lookup(bd, "f0"))).errno());

    // a goes on in the directory (synchronously for a while), b too; both see everything
    writeFile(a.fs(), d, "after-a", "a".getBytes(StandardCharsets.UTF_8));
    writeFile(b.fs(), bd, "after-b", "b".getBytes(StandardCharsets.UTF_8));
    assertArrayEquals("b".getBytes(StandardCharsets.UTF_8), readFile(a.fs(), d, "after-b"));
    assertArrayEquals("a".getBytes(StandardCharsets.UTF_8), readFile(b.fs(), bd, "after-a"));
    a.fs().syncMetadata();
    b.fs().syncMetadata();
    assertFsckClean();
  }

  @Test
  void createsAcrossSeveralInodeGrants_getDistinctNumbers_andTheOtherMountSeesEveryOne() throws Exception {
    cluster();
    Mount a = mount("mount-a");
    Mount b = mount("mount-b");
    long d = a.fs().mkdir(Caller.ROOT, ROOT, "many", 0755).ino();
    int n = 2 * RaftJournal.GRANT + RaftJournal.GRANT / 2; // the next range is asked for ahead, twice
    java.util.Set<Long> inos = new java.util.HashSet<>();
    for (int i = 0; i < n; i++) {
      OpenResult f = a.fs().create(Caller.ROOT, d, "e" + i, 0644, O_RDWR);
      a.fs().release(f.handle());
      assertTrue(inos.add(f.attr().ino()), "inode number given twice: " + f.attr().ino());
    }
    a.fs().syncMetadata();
    long bd = b.fs().lookup(ROOT, "many");
    List<String> seen = listOpened(b.fs(), bd); // the barrier recalls a's lease
    assertEquals(n, seen.size());
    for (int i = 0; i < n; i += 997) {
      assertEquals(a.fs().lookup(d, "e" + i), b.fs().lookup(bd, "e" + i), "e" + i);
    }
    assertFsckClean();
  }

  @Test
  void twoMountsCreatingTheSameNames_haveOneWinnerEach() throws Exception {
    cluster();
    Mount a = mount("mount-a");
    Mount b = mount("mount-b");
    long d = a.fs().mkdir(Caller.ROOT, ROOT, "shared", 0755).ino();
    int names = 60;
    Map<String, String> winners = new ConcurrentHashMap<>();
    CountDownLatch start = new CountDownLatch(1);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<Integer>> done = new ArrayList<>();
      for (Mount m : List.of(a, b)) {
        String who = m == a ? "a" : "b";
        done.add(pool.submit(() -> {
          long dir = m.fs().lookup(ROOT, "shared");
          start.await();
          int won = 0;
          for (int i = 0; i < names; i++) {
            try {
              writeFile(m.fs(), dir, "n" + i, who.getBytes(StandardCharsets.UTF_8));
              String before = winners.putIfAbsent("n" + i, who);
              assertNull(before, "n" + i + " created by both " + before + " and " + who);
              won++;
            } catch (FsException e) {
              assertEquals(Errno.EEXIST, e.errno(), "n" + i + ": " + e.getMessage());
            }
          }
          return won;
        }));
      }
      start.countDown();
      int total = done.get(0).get() + done.get(1).get();
      assertEquals(names, total, "every name has exactly one creator");
    } finally {
      pool.shutdownNow();
    }
    for (Mount m : List.of(a, b)) {
      long dir = m.fs().lookup(ROOT, "shared");
      for (var e : winners.entrySet()) {
        assertArrayEquals(e.getValue().getBytes(StandardCharsets.UTF_8), readFile(m.fs(), dir, e.getKey()), e.getKey());
      }
      assertEquals(names, names(m.fs(), dir).size());
    }
    assertTrue(d > 0);
    a.fs().syncMetadata();
    b.fs().syncMetadata();
    assertFsckClean();
  }

  /**
   * A mount that dies holding a lease (its connection dropped, no unmount) blocks the directory only until
   * its session expires: another mount's create there waits for the recall, then goes through; what the dead
   * mount fsync'd is there, and fsck is clean.
   */
  @Test
  void aDeadHoldersLease_endsWithItsSession() throws Exception {
    cluster();
    ClusterMounts doomed = ClusterMounts.connect(nodes.get(0).token(),
        nodes.stream().map(n -> n.file().listen()).toList(), "127.0.0.1");
    DynamicFileSystem a = DynamicFileSystem.openCluster(doomed.engineParts("doomed", Duration.ofSeconds(3), true),
        EngineOptions.defaults());
    Mount b = mount("mount-b");
    long d = a.mkdir(Caller.ROOT, ROOT, "d", 0755).ino();
    for (int i = 0; i < 20; i++) {
      writeFile(a, d, "kept" + i, ("kept " + i).getBytes(StandardCharsets.UTF_8));
    }
    a.syncMetadata(); // fsync'd: these must survive
    long deadSession = doomed.replica().lease(d).session();
    doomed.close(); // the mount's process is gone: no release, no session close
    long start = System.nanoTime();
    long bd = b.fs().lookup(ROOT, "d");
    writeFile(b.fs(), bd, "after", "b".getBytes(StandardCharsets.UTF_8));
    long waitedMs = (System.nanoTime() - start) / 1_000_000;
    assertTrue(waitedMs >= 1000, "b waited for the dead holder's session to expire, not just " + waitedMs + " ms");
    for (int i = 0; i < 20; i++) {
      assertArrayEquals(("kept " + i).getBytes(StandardCharsets.UTF_8), readFile(b.fs(), bd, "kept" + i));
    }
    var lease = b.connection().replica().lease(d);
    assertTrue(lease == null || lease.session() != deadSession, "the dead mount's lease ended: " + lease);
    try {
      a.close();
    } catch (IOException e) {
      // its connection is gone: closing the engine cannot end its session any more
    }
    assertFsckClean();
  }

  /**
   * An engine over {@code c} with 3 s sessions, which has made directory "d" holding a file "before" (so it
   * holds d's lease) and logged both.
   */
  private DynamicFileSystem shortSessionMount(ClusterMounts c) throws IOException {
    DynamicFileSystem a = keep(DynamicFileSystem.openCluster(c.engineParts("a", Duration.ofSeconds(3), true),
        EngineOptions.defaults()));
    long d = a.mkdir(Caller.ROOT, ROOT, "d", 0755).ino();
    writeFile(a, d, "before", "before".getBytes(StandardCharsets.UTF_8));
    a.syncMetadata();
    return a;
  }

  /**
   * The cluster ends a mount's session while the mount runs on (it was not renewed within its lifetime: a
   * mount paused longer than that, a frozen VM, a suspended laptop; here the sessions are ended by hand): the
   * mount's next op is not refused with ESTALE but goes through as the new session the mount opens, which
   * takes the directory's lease afresh, and nothing the mount made before is lost.
   */
  @Test
  void aMountWhoseSessionTheClusterEnded_goesOnAsANewSession() throws Exception {
    cluster();
    ClusterMounts c = keep(ClusterMounts.connect(nodes.get(0).token(),
        nodes.stream().map(n -> n.file().listen()).toList(), "127.0.0.1"));
    DynamicFileSystem a = shortSessionMount(c);
    long d = a.lookup(ROOT, "d");
    long ended = c.replica().lease(d).session();
    try (ClusterAdmin admin = ClusterAdmin.connect(nodes.get(0).token(),
        nodes.stream().map(n -> n.file().listen()).toList(), Duration.ofSeconds(30))) {
      assertTrue(admin.meta().submit(new MetaOp.ExpireSessions(Long.MAX_VALUE)).orThrow().ok());
    }
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (c.replica().lease(d) != null && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertNull(c.replica().lease(d), "the session's lease ended with it");
    writeFile(a, d, "after", "after".getBytes(StandardCharsets.UTF_8));
    a.syncMetadata();
    MetadataStore.Lease now = c.replica().lease(d);
    assertTrue(now != null && now.session() != ended, "the mount took the lease again as a new session: " + now);
    Mount b = mount("mount-b");
    long bd = b.fs().lookup(ROOT, "d");
    assertArrayEquals("before".getBytes(StandardCharsets.UTF_8), readFile(b.fs(), bd, "before"));
    assertArrayEquals("after".getBytes(StandardCharsets.UTF_8), readFile(b.fs(), bd, "after"));
    assertFsckClean();
  }

  /**
   * The cluster loses its majority for longer than the mount's no-leader timeout and its session lifetime:
   * the creates made meanwhile are answered (applied ahead) and wait in the mount's ordered stream; once the
   * nodes are back every one of them is logged, the session lives on (a leader gives mounts time to renew
   * after a break), and the mount goes on working.
   */
  @Test
  void anOutageLongerThanTheTimeouts_losesNothing_andTheMountGoesOn() throws Exception {
    cluster();
    ClusterMounts c = keep(ClusterMounts.connect(nodes.get(0).token(),
        nodes.stream().map(n -> n.file().listen()).toList(), "127.0.0.1", false, Duration.ofSeconds(2)));
    DynamicFileSystem a = shortSessionMount(c);
    long d = a.lookup(ROOT, "d");
    long session = c.replica().lease(d).session();
    List<Path> stopped = new ArrayList<>();
    for (ClusterNode n : List.copyOf(nodes.subList(1, 3))) {
      n.close();
      nodes.remove(n);
      stopped.add(n.data());
    }
    for (int i = 0; i < 50; i++) {
      writeFile(a, d, "during" + i, ("during " + i).getBytes(StandardCharsets.UTF_8));
    }
    Thread.sleep(6000); // past the no-leader timeout (2 s) and the session's lifetime (3 s)
    for (Path p : stopped) {
      nodes.add(keep(ClusterNode.restart(p, FAST)));
    }
    a.syncMetadata(); // every create made during the outage is logged
    writeFile(a, d, "after", "after".getBytes(StandardCharsets.UTF_8));
    a.syncMetadata();
    assertEquals(session, c.replica().lease(d).session(), "the mount's session and lease outlived the outage");
    Mount b = mount("mount-b");
    long bd = b.fs().lookup(ROOT, "d");
    for (int i = 0; i < 50; i++) {
      assertArrayEquals(("during " + i).getBytes(StandardCharsets.UTF_8), readFile(b.fs(), bd, "during" + i));
    }
    assertArrayEquals("after".getBytes(StandardCharsets.UTF_8), readFile(b.fs(), bd, "after"));
    assertFsckClean();
  }

  /**
   * Two mounts, each with a writer thread doing random creates, writes, unlinks and renames in its own
   * directory and in a shared one, the metadata leader stopped halfway: each mount's own directory ends as
   * its acknowledged operations say (a model replayed per mount), both mounts list every directory alike with
   * the same contents, and fsck finds the metadata and blocks consistent.
   */
  @Test
  void randomHistoriesFromTwoMounts_withTheLeaderStopped_matchTheirModels() throws Exception {
    cluster();
    Mount a = mount("mount-a");
    Mount b = mount("mount-b");
    a.fs().mkdir(Caller.ROOT, ROOT, "shared", 0755);
    a.fs().mkdir(Caller.ROOT, ROOT, "own-a", 0755);
    b.fs().mkdir(Caller.ROOT, ROOT, "own-b", 0755);
    int steps = 400;
    CountDownLatch halfway = new CountDownLatch(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    Map<String, Map<String, byte[]>> models = new ConcurrentHashMap<>();
    Path stopped;
    try {
      List<Future<?>> done = new ArrayList<>();
      for (Mount m : List.of(a, b)) {
        String who = m == a ? "a" : "b";
        done.add(pool.submit(() -> {
          Random random = new Random(who.hashCode());
          long own = m.fs().lookup(ROOT, "own-" + who);
          long shared = m.fs().lookup(ROOT, "shared");
          Map<String, byte[]> model = new TreeMap<>();
          for (int step = 0; step < steps; step++) {
            if (step == steps / 2) {
              halfway.countDown();
            }
            boolean inShared = random.nextInt(4) == 0;
            long dir = inShared ? shared : own;
            String name = (inShared ? who + "-" : "") + "f" + random.nextInt(40);
            byte[] content = new byte[random.nextInt(3000)];
            random.nextBytes(content);
            int dice = random.nextInt(10);
            try {
              if (dice < 5) {
                writeFile(m.fs(), dir, name, content);
                if (!inShared) {
                  model.put(name, content);
                }
              } else if (dice < 8) {
                m.fs().unlink(dir, name);
                if (!inShared) {
                  model.remove(name);
                }
              } else {
                String to = (inShared ? who + "-" : "") + "f" + random.nextInt(40);
                m.fs().rename(dir, name, dir, to, 0);
                if (!inShared && !name.equals(to)) {
                  model.put(to, model.remove(name));
                }
              }
            } catch (FsException e) {
              // EEXIST: the name is taken (create); ENOENT: no such name (unlink, rename): the model agrees
              if (e.errno() == Errno.EEXIST) {
                assertTrue(inShared || model.containsKey(name), who + " EEXIST for " + name + " not in the model");
              } else if (e.errno() == Errno.ENOENT) {
                assertTrue(inShared || !model.containsKey(name), who + " ENOENT for " + name + " in the model");
              } else {
                throw e;
              }
            }
          }
          m.fs().syncMetadata();
          models.put(who, model);
          return null;
        }));
      }
      halfway.await();
      stopped = stopLeader();
      for (Future<?> f : done) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
    for (Mount m : List.of(a, b)) {
      String seer = m == a ? "a" : "b";
      for (String who : List.of("a", "b")) {
        long dir = m.fs().lookup(ROOT, "own-" + who);
        Map<String, byte[]> model = models.get(who);
        // listed as ls lists it: opendir is an open, whose barrier brings the other mount's changes here
        assertEquals(new ArrayList<>(model.keySet()), listOpened(m.fs(), dir),
            "own-" + who + " as seen by mount " + seer);
        for (var e : model.entrySet()) {
          assertArrayEquals(e.getValue(), readFile(m.fs(), dir, e.getKey()), "own-" + who + "/" + e.getKey());
        }
      }
    }
    long sa = a.fs().lookup(ROOT, "shared");
    long sb = b.fs().lookup(ROOT, "shared");
    assertEquals(listOpened(a.fs(), sa), listOpened(b.fs(), sb));
    for (String n : listOpened(a.fs(), sa)) {
      assertArrayEquals(readFile(a.fs(), sa, n), readFile(b.fs(), sb, n), "shared/" + n);
    }
    nodes.add(keep(ClusterNode.restart(stopped, FAST))); // back, it catches up; every block is reachable again
    assertFsckClean();
  }

  /**
   * Stops the node that leads the metadata group (a new leader is elected among the other two); returns its
   * data directory.
   */
  private Path stopLeader() throws Exception {
    for (ClusterNode n : nodes) {
      if (n.isLeader()) {
        n.close();
        nodes.remove(n);
        return n.data();
      }
    }
    throw new AssertionError("no leader among " + nodes.size() + " nodes");
  }

  /** fsck over a fresh replica (built from the log alone, nothing applied ahead) and the nodes' blocks. */
  private void assertFsckClean() throws Exception {
    try (ClusterMounts fresh = ClusterMounts.connect(nodes.get(0).token(),
        nodes.stream().map(n -> n.file().listen()).toList(), "127.0.0.1")) {
      fresh.catchUp();
      Fsck.Report r = Fsck.check(fresh.replica(), fresh.blocks(), false, x -> {});
      assertTrue(r.clean(), () -> "fsck: " + r.problems());
      assertTrue(r.inodes() > 1, "fsck saw the files");
    }
  }
}
