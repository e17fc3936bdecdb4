package io.dynamicfs.policy.track;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.policy.trace.TraceReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {
  @TempDir
  Path dir;

  @Test
  void append_pastCapacity_keepsTheNewestOldestFirst() throws IOException {
    Path f = dir.resolve("access.log");
    try (AccessLog log = AccessLog.open(f, 100)) {
      for (int i = 0; i < 250; i++) {
        log.append(i * 10L, 1000 + i, i, i % 3 == 0);
      }
      assertEquals(100, log.size());
      assertEquals(250, log.appended());
      assertReplay(log.replay(), 150, 250);
    }
    assertEquals(AccessLog.HEADER + 100L * AccessLog.RECORD, Files.size(f), "bounded: the file never grows");
    try (AccessLog again = AccessLog.open(f, 100)) { // reopened: the same records, and appends continue
      assertReplay(again.replay(), 150, 250);
      again.append(2500, 1250, 250, false);
      assertReplay(again.replay(), 151, 251);
    }
  }

  private static void assertReplay(TraceReader r, int from, int to) throws IOException {
    for (int i = from; i < to; i++) {
      assertTrue(r.next());
      assertEquals(i * 10L, r.time());
      assertEquals(1000 + i, r.key());
      assertEquals(i, r.bytes());
      assertEquals(i % 3 == 0, r.write());
    }
    assertFalse(r.next());
  }

  @Test
  void tracker_loggingOn_appendsEveryRecordedAccess() throws IOException {
    try (AccessLog log = AccessLog.open(dir.resolve("a.log"), 10)) {
      AccessTracker t = new AccessTracker(AccessTracker.Config.defaults(64, 64));
      t.logTo(log);
      t.record(5, 1, 77, 4096, true);
      TraceReader r = log.replay();
      assertTrue(r.next());
      assertEquals(77, r.key());
      assertTrue(r.write());
    }
  }

  @Test
  void open_otherCapacityOrForeignFile_refusedWithTheReason() throws IOException {
    Path f = dir.resolve("access.log");
    AccessLog.open(f, 10).close();
    IOException e = assertThrows(IOException.class, () -> AccessLog.open(f, 20));
    assertTrue(e.getMessage().contains("not an access log of 20 records"), e.getMessage());
    Path foreign = dir.resolve("foreign");
    Files.write(foreign, new byte[AccessLog.HEADER + 10 * AccessLog.RECORD]);
    assertThrows(IOException.class, () -> AccessLog.open(foreign, 10));
    assertThrows(IllegalArgumentException.class, () -> AccessLog.open(dir.resolve("x"), 0));
  }
}
