package io.dynamicfs.policy.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.engine.TimeSource;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.policy.track.AccessTable;
import io.dynamicfs.policy.trace.TraceReader;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MountTrackerTest {
  private static final int BS = 64 << 10;
  private static final Caller ME = new Caller(1000, 1000, 42);
  private static final MountTracker.Settings SMALL = new MountTracker.Settings(64, 256, 1000, 1 << 10,
      Duration.ofMinutes(10), Duration.ofHours(1));

  @TempDir Path tmp;

  @Test
  void read_spanningBlocks_isOneFileAccessAndOneAccessPerExtent_loggedPerExtent() throws Exception {
    try (MountTracker t = MountTracker.open(tmp.resolve("policy"), BS, SMALL)) {
      t.read(5, BS - 4096, 8192, 2_000_000_000L); // the end of block 0 and the start of block 1
      t.write(5, 3L * BS, 100, 3_000_000_000L);
      t.query(tr -> {
        AccessTable f = tr.files();
        int s = f.find(5);
        assertEquals(2, f.accesses(s));
        assertEquals(1, f.writes(s));
        assertEquals(8292, f.bytes(s));
        assertEquals(3000, f.lastAccess(s), "milliseconds of the engine's clock");
        AccessTable e = tr.extents();
        assertEquals(4096, e.bytes(e.find(MountTracker.extentKey(5, 0))));
        assertEquals(4096, e.bytes(e.find(MountTracker.extentKey(5, 1))));
        assertEquals(1, e.writes(e.find(MountTracker.extentKey(5, 3))));
        assertEquals(-1, e.find(MountTracker.extentKey(5, 2)));
        assertEquals(3, tr.log().size(), "one log record per extent access");
        return null;
      });
      assertEquals(5, MountTracker.inodeOf(MountTracker.extentKey(5, 123)));
    }
  }

  @Test
  void sequential_streamCounts_reReadsAndJumpsDoNot() throws Exception {
    try (MountTracker t = MountTracker.open(tmp.resolve("policy"), BS, SMALL)) {
      for (int i = 0; i < 8; i++) {
        t.read(1, i * 32768L, 32768, 1_000_000L * i); // a stream: 7 of 8 continue the previous read
      }
      for (int i = 0; i < 4; i++) {
        t.read(2, 0, 4096, 1_000_000L * i); // the same bytes again: never sequential
      }
      t.read(3, 0, 4096, 0);
      t.read(3, 10L << 20, 4096, 0); // a jump
      t.query(tr -> {
        AccessTable f = tr.files();
        assertEquals(7.0 / 8, f.sequentialRatio(f.find(1)), 1e-9);
        assertEquals(0, f.sequentialRatio(f.find(2)), 1e-9);
        assertEquals(0, f.sequentialRatio(f.find(3)), 1e-9);
        return null;
      });
    }
  }

  /** Through a real engine: reads are tracked, saved at close, and there again when the filesystem is reopened. */
  @Test
  void remount_figuresSurvive_andTheLogReplays() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path policy = data.resolve("policy");
    long ino;
    try (DataDirectory dir = DataDirectory.open(data, new FormatOptions(BS, Codec.LZ4, 4096));
         MountTracker t = MountTracker.open(policy, BS, SMALL);
         DynamicFileSystem fs = DynamicFileSystem.open(dir, EngineOptions.defaults().withAccessObserver(t))) {
      OpenResult f = fs.create(ME, FileSystem.ROOT_INO, "f", 0644, 2);
      ino = f.attr().ino();
      fs.write(f.handle(), 0, new byte[3 * BS], 0, 3 * BS);
      byte[] buf = new byte[BS];
      for (int i = 0; i < 5; i++) {
        fs.read(f.handle(), BS, buf, 0, BS);
      }
      fs.release(f.handle());
    }
    assertTrue(Files.size(policy.resolve(MountTracker.TRACKER_FILE)) > 0, "saved at close");
    try (MountTracker t = MountTracker.open(policy, BS, SMALL)) {
      assertNull(t.status().loadProblem());
      t.query(tr -> {
        AccessTable f = tr.files();
        int s = f.find(ino);
        assertEquals(6, f.accesses(s), "one write and five reads");
        assertEquals(1, f.writes(s));
        assertEquals(8L * BS, f.bytes(s));
        AccessTable e = tr.extents();
        assertEquals(6, e.accesses(e.find(MountTracker.extentKey(ino, 1))));
        assertEquals(1, e.accesses(e.find(MountTracker.extentKey(ino, 2))));
        assertEquals(8, tr.log().size(), "three extents written, five read, in the ring log");
        return null;
      });
      t.query(tr -> {
        try (TraceReader r = tr.log().replay()) {
          int n = 0;
          while (r.next()) {
            assertEquals(ino, MountTracker.inodeOf(r.key()));
            n++;
          }
          assertEquals(8, n);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        return null;
      });
    }
  }

  @Test
  void open_damagedTables_startsEmptyMovesThemAsideAndSaysWhy() throws Exception {
    Path policy = Files.createDirectories(tmp.resolve("policy"));
    try (MountTracker t = MountTracker.open(policy, BS, SMALL)) {
      t.read(1, 0, 10, 0);
    }
    byte[] b = Files.readAllBytes(policy.resolve(MountTracker.TRACKER_FILE));
    b[20] ^= 1;
    Files.write(policy.resolve(MountTracker.TRACKER_FILE), b);
    try (MountTracker t = MountTracker.open(policy, BS, SMALL)) {
      MountTracker.Status s = t.status();
      assertNotNull(s.loadProblem());
      assertTrue(s.loadProblem().contains("checksum"), s.loadProblem());
      assertEquals(0, s.files());
      assertTrue(Files.exists(policy.resolve(MountTracker.TRACKER_FILE + ".bad")));
    }
  }

  @Test
  void open_logOfAnotherSize_isReplacedNotRefused() throws Exception {
    Path policy = Files.createDirectories(tmp.resolve("policy"));
    try (MountTracker t = MountTracker.open(policy, BS, SMALL)) {
      t.read(1, 0, 10, 0);
    }
    try (MountTracker t = MountTracker.open(policy, BS, SMALL.withLogRecords(5000))) {
      assertEquals(5000, t.status().logCapacity());
      assertEquals(1, t.status().files(), "the tables still load");
    }
  }

  /** The hook as the engine calls it (with the engine's clock) allocates nothing on the reader's thread. */
  @Test
  void read_onTheCallersThread_allocatesNothing() throws Exception {
    java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean, "cannot count allocated bytes");
    com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) mx;
    Assumptions.assumeTrue(bean.isThreadAllocatedMemorySupported(), "per-thread allocation counting unsupported");
    try (MountTracker t = MountTracker.open(tmp.resolve("policy"), BS, MountTracker.Settings.defaults())) {
      TimeSource clock = TimeSource.SYSTEM;
      for (int i = 0; i < 300_000; i++) { // warm up (JIT), full ring drops included
        t.read(i & 1023, (long) i * 4096, 4096, clock.coarseNanos());
      }
      // Steady state: the least of three rounds (a round the JIT is still compiling may allocate a little).
      long tid = Thread.currentThread().getId();
      long allocated = Long.MAX_VALUE;
      for (int round = 0; round < 3 && allocated >= 4096; round++) {
        long before = bean.getThreadAllocatedBytes(tid);
        for (int i = 0; i < 200_000; i++) {
          t.read(i & 1023, (long) i * 4096, 4096, clock.coarseNanos());
        }
        allocated = Math.min(allocated, bean.getThreadAllocatedBytes(tid) - before);
      }
      assertTrue(allocated < 4096, "200,000 tracked reads allocated " + allocated + " bytes");
    }
  }
}
