package io.dynamicfs.core.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inode grants and directory leases in {@link OpApplier} (what a cluster mount's asynchronous metadata
 * stands on, docs/cluster-async-metadata.md), against a real RocksDB: a session creates with numbers it
 * was granted; another session's ops on a leased directory, or on what the lease covers, fail EBUSY naming
 * the directory; recall and release; a session's end frees its leases; and {@link OpApplier#speculate}
 * followed by the log's own entry leaves a store identical, key by key, to one that applied the log alone.
 */
class DirLeaseTest {
  private static final long ROOT = FileSystem.ROOT_INO;
  private static final int DIR = FileType.DIRECTORY.bits() | 0755;
  private static final int REG = FileType.REGULAR.bits() | 0644;
  private static final long A = 0xa;
  private static final long B = 0xb;

  @TempDir Path tmp;
  private final List<MetadataStore> stores = new ArrayList<>();
  private MetadataStore store;
  private OpApplier ap;
  private long clock = 1_000_000;
  private long seq;

  @BeforeEach
  void open() throws IOException {
    store = open("meta");
    ap = new OpApplier(store);
    for (MetaOp op : prologue()) {
      apply(op);
    }
  }

  private MetadataStore open(String name) throws IOException {
    MetadataStore s = MetadataStore.open(tmp.resolve(name), 64 << 10);
    stores.add(s);
    return s;
  }

  private List<MetaOp> prologue() {
    return List.of(MetaOp.CreateNode.root(DIR, 0, 0, 1), new MetaOp.OpenSession(A, "mount a", Long.MAX_VALUE),
        new MetaOp.OpenSession(B, "mount b", Long.MAX_VALUE));
  }

  @AfterEach
  void close() {
    stores.forEach(MetadataStore::close);
  }

  private long now() {
    return clock += 1000;
  }

  private MetaOp as(long session, MetaOp op) {
    return new MetaOp.AsSession(session, ++seq, op);
  }

  private OpApplier.Result apply(MetaOp op) throws FsException {
    return ap.apply(ap.appliedIndex() + 1, op);
  }

  private MetaOp.CreateNode create(long parent, String name, int mode) {
    return new MetaOp.CreateNode(parent, name, mode, 0, 0, false, 0, null, now());
  }

  private long ok(OpApplier.Result r) throws FsException {
    return r.orThrow().ino();
  }

  @Test
  void aLeaseWrittenBeforeAReopen_stillRefusesOtherSessions() throws Exception {
    long d = ok(apply(create(ROOT, "d", DIR)));
    assertNull(store.lease(d));
    ok(apply(as(A, new MetaOp.AcquireDirLease(d))));
    store.close();
    stores.remove(store);
    store = open("meta");
    ap = new OpApplier(store);
    assertEquals(A, store.lease(d).session());
    assertEquals(Errno.EBUSY, apply(as(B, create(d, "x", REG))).errno());
  }

  @Test
  void grantedNumbers_areTheSessionsOnly_andOnlyOnce() throws Exception {
    long d = ok(apply(create(ROOT, "d", DIR)));
    long from = ok(apply(as(A, new MetaOp.GrantInodes(10))));
    assertEquals(from, store.grants(A).get(0)[0]);
    assertEquals(from + 10, store.grants(A).get(0)[1]);
    assertEquals(from + 3, ok(apply(as(A, new MetaOp.CreateGranted(from + 3, create(d, "x", REG))))));
    assertEquals(from + 3, store.lookup(d, "x"));
    // used twice, outside the range, by another session, without a session
    assertEquals(Errno.EINVAL, apply(as(A, new MetaOp.CreateGranted(from + 3, create(d, "y", REG)))).errno());
    assertEquals(Errno.EINVAL, apply(as(A, new MetaOp.CreateGranted(from + 10, create(d, "y", REG)))).errno());
    assertEquals(Errno.EINVAL, apply(as(B, new MetaOp.CreateGranted(from + 4, create(d, "y", REG)))).errno());
    assertEquals(Errno.EINVAL, apply(new MetaOp.CreateGranted(from + 4, create(d, "y", REG))).errno());
    assertEquals(Errno.EINVAL, apply(new MetaOp.GrantInodes(5)).errno());
    assertEquals(Errno.EINVAL, apply(as(A, new MetaOp.GrantInodes(0))).errno());
    // the counter went past the range: a plain create never takes a granted number
    assertEquals(from + 10, ok(apply(create(d, "plain", REG))));
    // a new grant keeps the range in use beside it (asked for ahead); the one after drops the oldest
    long next = ok(apply(as(A, new MetaOp.GrantInodes(4))));
    assertEquals(2, store.grants(A).size());
    assertEquals(from + 5, ok(apply(as(A, new MetaOp.CreateGranted(from + 5, create(d, "y", REG))))));
    assertEquals(next, ok(apply(as(A, new MetaOp.CreateGranted(next, create(d, "y2", REG))))));
    long third = ok(apply(as(A, new MetaOp.GrantInodes(4))));
    assertEquals(2, store.grants(A).size());
    assertEquals(Errno.EINVAL, apply(as(A, new MetaOp.CreateGranted(from + 6, create(d, "y3", REG)))).errno());
    assertEquals(next + 1, ok(apply(as(A, new MetaOp.CreateGranted(next + 1, create(d, "y3", REG))))));
    assertEquals(third, ok(apply(as(A, new MetaOp.CreateGranted(third, create(d, "y4", REG))))));
    // an ended session's ops are refused, and its grants are gone
    ok(apply(new MetaOp.CloseSession(A)));
    assertTrue(store.grants(A).isEmpty());
    assertEquals(Errno.ESTALE, apply(as(A, new MetaOp.CreateGranted(next + 1, create(d, "z", REG)))).errno());
  }

  @Test
  void aLeasedDirectory_refusesOtherSessions_untilRecalledAndReleased() throws Exception {
    long d = ok(apply(create(ROOT, "d", DIR)));
    long other = ok(apply(create(ROOT, "other", DIR)));
    ok(apply(as(A, new MetaOp.AcquireDirLease(d))));
    ok(apply(as(A, new MetaOp.AcquireDirLease(d)))); // again: still its own
    long f = ok(apply(as(A, create(d, "f", REG))));
    long sub = ok(apply(as(A, create(d, "sub", DIR))));
    long deep = ok(apply(as(A, create(sub, "deep", REG))));
    for (long covered : List.of(d, f, sub, deep)) {
      assertNotNull(store.lease(covered), "lease covers " + covered);
      assertEquals(d, store.lease(covered).root());
    }
    assertEquals(List.of(d, f, sub, deep).stream().sorted().toList(), store.leaseCovered(d).stream().sorted().toList());

    // another session, or none, cannot touch the directory or what the lease covers
    List<MetaOp> refused = List.of(create(d, "g", REG), new MetaOp.Remove(d, "f", false, 0, now()),
        new MetaOp.Rename(ROOT, "d", ROOT, "d2", 0, 0, now()), new MetaOp.Link(f, other, "f-link", now()),
        new MetaOp.SetAttrs(f, 0600, null, null, null, null, now()), create(sub, "g", REG),
        new MetaOp.Rename(ROOT, "other", sub, "moved", 0, 0, now()),
        new MetaOp.SetXattr(deep, "user.x", new byte[1], 0, now()), new MetaOp.AcquireDirLease(sub));
    for (MetaOp op : refused) {
      for (MetaOp sent : List.of(as(B, op), op)) {
        if (sent instanceof MetaOp.AcquireDirLease) {
          continue; // needs a session
        }
        OpApplier.Result r = apply(sent);
        assertEquals(Errno.EBUSY, r.errno(), () -> sent + " was not refused");
        assertEquals(d, r.leasedDir(), () -> sent + " names the leased directory");
      }
    }
    assertEquals(d, apply(as(B, new MetaOp.AcquireDirLease(d))).leasedDir());
    assertEquals(d, apply(as(B, new MetaOp.AcquireDirLease(sub))).leasedDir());
    // ops elsewhere go on
    ok(apply(as(B, create(other, "g", REG))));

    // the holder still can
    ok(apply(as(A, new MetaOp.SetAttrs(f, 0600, null, null, null, null, now()))));
    ok(apply(as(A, new MetaOp.Remove(sub, "deep", false, 0, now()))));
    assertNull(store.lease(deep), "a removed inode's lease record goes with it");

    // recall (by anyone, on any covered inode) marks the root; only the holder's release ends it
    ok(apply(new MetaOp.RecallDirLease(f)));
    assertTrue(store.lease(d).recalled());
    ok(apply(as(B, new MetaOp.ReleaseDirLease(d))));
    assertNotNull(store.lease(d), "another session's release changes nothing");
    ok(apply(as(A, new MetaOp.ReleaseDirLease(d))));
    for (long ino : List.of(d, f, sub)) {
      assertNull(store.lease(ino));
    }
    assertTrue(store.leaseCovered(d).isEmpty());
    ok(apply(as(B, create(d, "g", REG))));
    ok(apply(new MetaOp.SetAttrs(f, 0644, null, null, null, null, now())));
    ok(apply(new MetaOp.RecallDirLease(d))); // no lease: nothing to do
  }

  @Test
  void aSessionsEnd_endsItsLeases() throws Exception {
    long d = ok(apply(create(ROOT, "d", DIR)));
    ok(apply(as(A, new MetaOp.AcquireDirLease(d))));
    long f = ok(apply(as(A, create(d, "f", REG))));
    assertEquals(Errno.EBUSY, apply(as(B, create(d, "g", REG))).errno());
    ok(apply(new MetaOp.CloseSession(A)));
    assertNull(store.lease(d));
    assertNull(store.lease(f));
    assertTrue(store.leaseRoots().isEmpty());
    ok(apply(create(d, "g", REG)));
  }

  /**
   * The store keeps lease records in memory ({@code MetadataStore#lease} answers from it): over random
   * acquires, recalls, releases, creates and removes under leases, sessions ending and coming back, every
   * inode's answer must be what the store holds on disk, checked after each step.
   */
  @Test
  void leasesAnsweredFromMemory_matchTheStore_overRandomLeaseHistories() throws Exception {
    Random random = new Random(22);
    List<Long> dirs = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      dirs.add(ok(apply(create(ROOT, "d" + i, DIR))));
    }
    java.util.Set<Long> seen = new java.util.TreeSet<>(dirs);
    long[] sessions = {A, B};
    int changed = 0;
    for (int step = 0; step < 3000; step++) {
      long who = sessions[random.nextInt(2)];
      long dir = dirs.get(random.nextInt(dirs.size()));
      int dice = random.nextInt(12);
      OpApplier.Result r;
      if (dice < 3) {
        r = apply(as(who, new MetaOp.AcquireDirLease(dir)));
      } else if (dice < 6) {
        r = apply(as(who, create(dir, "f" + step, random.nextInt(4) == 0 ? DIR : REG)));
        if (r.ok()) {
          seen.add(r.ino());
          if (store.inode(r.ino()).isDirectory()) {
            dirs.add(r.ino());
          }
        }
      } else if (dice < 8) {
        List<String> names = store.list(dir).stream().map(DirEntry::name).toList();
        if (names.isEmpty()) {
          continue;
        }
        String name = names.get(random.nextInt(names.size()));
        long victim = store.lookup(dir, name);
        boolean isDir = store.inode(victim).isDirectory();
        r = apply(as(who, new MetaOp.Remove(dir, name, isDir, 0, now())));
        if (r.ok() && isDir) {
          dirs.remove(victim);
        }
      } else if (dice < 9) {
        r = apply(new MetaOp.RecallDirLease(dir));
      } else if (dice < 11) {
        r = apply(as(who, new MetaOp.ReleaseDirLease(dir)));
      } else {
        r = apply(new MetaOp.CloseSession(who));
        apply(new MetaOp.OpenSession(who, "mount again", Long.MAX_VALUE));
      }
      changed += r.ok() ? 1 : 0;
      for (long ino : seen) {
        byte[] v = store.get(MetadataStore.Family.META, Keys.meta(MetadataStore.LEASE_PREFIX, ino));
        MetadataStore.Lease onDisk = v == null ? null : MetadataStore.Lease.decode(ino, v);
        assertEquals(onDisk, store.lease(ino), "step " + step + ", inode " + ino);
      }
    }
    assertTrue(changed > 1000 && !store.leaseRoots().isEmpty(), changed + " ops applied");
  }

  @Test
  void removingALeasedDirectory_endsItsLease() throws Exception {
    long d = ok(apply(create(ROOT, "d", DIR)));
    ok(apply(as(A, new MetaOp.AcquireDirLease(d))));
    ok(apply(as(A, new MetaOp.Remove(ROOT, "d", true, 0, now()))));
    assertNull(store.lease(d));
    assertTrue(store.leaseCovered(d).isEmpty());
    assertTrue(store.leaseRoots().isEmpty());
  }

  /**
   * A mount's replica applies its own ops ahead of the log ({@link OpApplier#speculate}) and only records the
   * index when their entries come, while other sessions' entries in between apply normally: the result is the
   * same store, key by key, as a replica that applied the log in order — over random creates, writes of
   * attributes, renames and removes in the mount's leased directory, interleaved with another session's ops elsewhere.
   */
  @Test
  void speculatedOpsThenTheirLogEntries_equalTheLogAppliedInOrder() throws Exception {
    MetadataStore plain = open("plain");
    OpApplier plainAp = new OpApplier(plain);
    for (MetaOp op : prologue()) {
      plainAp.apply(plainAp.appliedIndex() + 1, op);
    }
    List<MetaOp> log = new ArrayList<>();
    long d = ok(logged(log, create(ROOT, "d", DIR)));
    long e = ok(logged(log, create(ROOT, "e", DIR)));
    ok(logged(log, as(A, new MetaOp.AcquireDirLease(d))));
    long from = ok(logged(log, as(A, new MetaOp.GrantInodes(4096))));
    Random random = new Random(7);
    List<String> mine = new ArrayList<>();
    List<String> theirs = new ArrayList<>();
    java.util.ArrayDeque<MetaOp> pending = new java.util.ArrayDeque<>();
    long nextGranted = from;
    for (int step = 0; step < 600; step++) {
      int dice = random.nextInt(10);
      if (dice < 5) { // the mount: an op in its leased directory, applied here at once
        MetaOp op;
        if (mine.isEmpty() || random.nextBoolean()) {
          String name = "m" + step;
          op = as(A, new MetaOp.CreateGranted(nextGranted++, create(d, name, random.nextBoolean() ? REG : DIR)));
          mine.add(name);
        } else if (random.nextInt(3) == 0 && !store.inode(store.lookup(d, mine.get(0))).isDirectory()) {
          // a file renamed to a new name or over another of the mount's files
          String source = mine.remove(0);
          String to = "m" + step;
          if (mine.size() > 1 && random.nextBoolean()
              && !store.inode(store.lookup(d, mine.get(mine.size() - 1))).isDirectory()) {
            to = mine.remove(mine.size() - 1);
          }
          op = as(A, new MetaOp.Rename(d, source, d, to, 0, 0, now()));
          mine.add(to);
        } else {
          String name = mine.remove(random.nextInt(mine.size()));
          boolean dir = store.inode(store.lookup(d, name)).isDirectory();
          op = random.nextBoolean() ? as(A, new MetaOp.Remove(d, name, dir, 0, now()))
              : as(A, new MetaOp.SetAttrs(store.lookup(d, name), random.nextInt(0777), null, null, null, now(), now()));
          if (op instanceof MetaOp.AsSession s && s.op() instanceof MetaOp.SetAttrs) {
            mine.add(name);
          }
        }
        OpApplier.Result r = ap.speculate(op);
        assertTrue(r.ok(), () -> "speculated " + op + ": " + r.message());
        pending.add(op);
      } else if (dice < 8) { // the mount's oldest pending ops reach the log, alone or as one batch entry
        int n = Math.min(pending.size(), 1 + random.nextInt(6));
        if (n == 1) {
          ap.advance(0, ap.appliedIndex() + 1);
          log.add(pending.poll());
        } else if (n > 1) {
          List<MetaOp> ops = new ArrayList<>();
          for (int i = 0; i < n; i++) {
            ops.add(pending.poll());
          }
          MetaOp.Batch batch = new MetaOp.Batch(ops);
          assertTrue(ap.apply(0, ap.appliedIndex() + 1, batch, op -> true).ok()); // only recorded here
          log.add(batch);
        }
      } else { // another session's op elsewhere, applied in log order
        MetaOp op;
        if (theirs.isEmpty() || random.nextBoolean()) {
          String name = "t" + step;
          op = as(B, create(e, name, REG));
          theirs.add(name);
        } else {
          op = as(B, new MetaOp.Remove(e, theirs.remove(random.nextInt(theirs.size())), false, 0, now()));
        }
        assertTrue(logged(log, op).ok());
      }
    }
    while (!pending.isEmpty()) {
      ap.advance(0, ap.appliedIndex() + 1);
      log.add(pending.poll());
    }
    for (MetaOp op : log) {
      OpApplier.Result r = plainAp.apply(plainAp.appliedIndex() + 1, op);
      assertTrue(r.ok(), () -> op + " failed in log order: " + r.message());
    }
    assertEquals(dump(plain), dump(store));
    assertFalse(mine.isEmpty() && theirs.isEmpty(), "the random history did something");
  }

  /**
   * A batch entry whose apply stops (a crash) after some of its ops resumes, once the store is reopened,
   * after the last op written (each op once), and the applied index stays before the entry until its last
   * op is written.
   */
  @Test
  void aBatchInterruptedMidway_resumesAfterItsLastWrittenOp() throws Exception {
    long d = ok(apply(create(ROOT, "d", DIR)));
    ok(apply(as(A, new MetaOp.AcquireDirLease(d))));
    long from = ok(apply(as(A, new MetaOp.GrantInodes(16))));
    List<MetaOp> ops = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      ops.add(as(A, new MetaOp.CreateGranted(from + i, create(d, "b" + i, i % 2 == 0 ? REG : DIR))));
    }
    ops.add(as(A, new MetaOp.Remove(d, "b2", false, 0, now())));
    ops.add(as(A, create(d, "b0", REG))); // EEXIST: the entry's answer, the others still apply
    MetaOp.Batch batch = new MetaOp.Batch(ops);

    long index = ap.appliedIndex() + 1;
    int[] seen = {0};
    RuntimeException crash = new RuntimeException("crash");
    try {
      ap.apply(0, index, batch, op -> {
        if (seen[0]++ == 4) {
          throw crash;
        }
        return false;
      });
    } catch (RuntimeException e) {
      assertTrue(e == crash);
    }
    assertEquals(index - 1, store.appliedIndex(), "the entry is not applied until its last op");
    assertEquals(3, store.batchProgress(index), "ops 0..3 written");
    OpApplier reopened = new OpApplier(store);
    OpApplier.Result r = reopened.apply(0, index, batch);
    assertEquals(Errno.EEXIST, r.errno(), r.message());
    assertEquals(index, store.appliedIndex());
    assertEquals(-1, store.batchProgress(index));
    for (int i : new int[] {0, 1, 3, 4, 5}) {
      assertEquals(from + i, store.lookup(d, "b" + i), "b" + i);
    }
    assertEquals(-1, store.lookup(d, "b2"));
    assertEquals(5, store.leaseCovered(d).size() - 1, "the lease covers each new inode once");
  }

  private OpApplier.Result logged(List<MetaOp> log, MetaOp op) throws FsException {
    log.add(op);
    return apply(op);
  }

  private static List<String> dump(MetadataStore s) throws FsException {
    HexFormat hex = HexFormat.of();
    List<String> out = new ArrayList<>();
    s.forEachRecord((family, key, value) -> out.add(family + " " + hex.formatHex(key) + " " + hex.formatHex(value)));
    return out;
  }
}
