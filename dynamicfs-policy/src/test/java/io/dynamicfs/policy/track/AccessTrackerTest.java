package io.dynamicfs.policy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class AccessTrackerTest {
  @Test
  void record_filesAndExtents_sequentialWithinAFile() {
    AccessTracker t = new AccessTracker(new AccessTracker.Config(64, 64, new double[] {10, 100}));
    t.record(0, 1, 10, 4096, false);
    t.record(1, 1, 11, 4096, false); // continues extent 10 in file 1
    t.record(2, 2, 12, 4096, false); // continues extent 11, but another file
    assertEquals(3, t.recorded());
    AccessTable files = t.files();
    assertEquals(0.5, files.sequentialRatio(files.find(1)), 1e-12);
    assertEquals(0, files.sequentialRatio(files.find(2)), 1e-12);
    assertEquals(1.0, t.extents().sequentialRatio(t.extents().find(12)), 1e-12);
    assertEquals(8192, files.bytes(files.find(1)));
  }

  /** The record path allocates nothing once the tables exist, evictions included. */
  @Test
  void record_steadyState_allocatesNothing() {
    java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Assumptions.assumeTrue(mx instanceof com.sun.management.ThreadMXBean,
        "this JVM cannot count allocated bytes per thread");
    com.sun.management.ThreadMXBean bean = (com.sun.management.ThreadMXBean) mx;
    Assumptions.assumeTrue(bean.isThreadAllocatedMemorySupported(), "per-thread allocation counting unsupported");
    AccessTracker t = new AccessTracker(AccessTracker.Config.defaults(1 << 12, 1 << 14));
    long key = 12345;
    for (int i = 0; i < 200_000; i++) { // warm up (JIT) and fill past capacity, so evictions run below
      key = key * 6364136223846793005L + 1442695040888963407L;
      t.record(i, (key >>> 40) & 0xFFFF, key >>> 20, 4096, (i & 7) == 0);
    }
    long tid = Thread.currentThread().getId();
    long before = bean.getThreadAllocatedBytes(tid);
    for (int i = 200_000; i < 400_000; i++) {
      key = key * 6364136223846793005L + 1442695040888963407L;
      t.record(i, (key >>> 40) & 0xFFFF, key >>> 20, 4096, (i & 7) == 0);
    }
    long allocated = bean.getThreadAllocatedBytes(tid) - before;
    assertTrue(t.extents().evictions() > 100_000, "evictions ran: " + t.extents().evictions());
    // the counter itself may allocate a little once; 200,000 recordings allocating would show megabytes
    assertTrue(allocated < 4096, "recording 200,000 accesses allocated " + allocated + " bytes");
  }
}
