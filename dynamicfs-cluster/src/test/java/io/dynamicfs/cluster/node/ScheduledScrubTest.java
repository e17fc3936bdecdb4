package io.dynamicfs.cluster.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The leader's scrub schedule ({@link ScheduledScrub}) on a clock the test moves. */
class ScheduledScrubTest {
  @TempDir Path tmp;
  private final AtomicLong now = new AtomicLong(1_000_000);
  private final AtomicInteger runs = new AtomicInteger();

  private ClusterScrub.Report ok() {
    runs.incrementAndGet();
    CopyCheck.Report clean = new CopyCheck.Report(1, 2, 2, List.of());
    return new ClusterScrub.Report(clean, 0, 0, clean);
  }

  private ScheduledScrub schedule(Duration every, ScheduledScrub.Run run) {
    return new ScheduledScrub(tmp.resolve("last-scrub"), every, run, now::get);
  }

  @Test
  void theClockStartsAtFirstLead_scrubsOncePerPeriod_andSurvivesARestart() throws Exception {
    ScheduledScrub s = schedule(Duration.ofHours(1), this::ok);
    assertFalse(s.runIfDue(), "no record yet: the schedule starts, nothing runs");
    assertEquals(now.get(), s.lastFinished());
    now.addAndGet(Duration.ofMinutes(59).toMillis());
    assertFalse(s.runIfDue());
    now.addAndGet(Duration.ofMinutes(1).toMillis());
    assertTrue(s.runIfDue());
    assertEquals(1, runs.get());
    assertFalse(s.runIfDue(), "just scrubbed");
    // another leader (or this node restarted) reads the same record
    ScheduledScrub again = schedule(Duration.ofHours(1), this::ok);
    now.addAndGet(Duration.ofMinutes(30).toMillis());
    assertFalse(again.runIfDue());
    now.addAndGet(Duration.ofMinutes(30).toMillis());
    assertTrue(again.runIfDue());
    assertEquals(2, runs.get());
  }

  @Test
  void aFailedScrub_isRetried_andRecordsNothing() throws Exception {
    ScheduledScrub s = schedule(Duration.ofMinutes(1), () -> {
      runs.incrementAndGet();
      throw new IOException("a node does not answer");
    });
    s.runIfDue();
    long start = s.lastFinished();
    now.addAndGet(Duration.ofMinutes(2).toMillis());
    assertFalse(s.runIfDue());
    assertFalse(s.runIfDue());
    assertEquals(2, runs.get(), "tried at each call once due");
    assertEquals(start, s.lastFinished());
  }

  @Test
  void aCorruptRecord_restartsTheSchedule_andZeroMeansNever() throws Exception {
    Files.writeString(tmp.resolve("last-scrub"), "not a time");
    ScheduledScrub s = schedule(Duration.ofMinutes(1), this::ok);
    assertNull(s.lastFinished());
    assertFalse(s.runIfDue());
    assertEquals(now.get(), s.lastFinished());
    ScheduledScrub never = schedule(Duration.ZERO, this::ok);
    now.addAndGet(Duration.ofDays(365).toMillis());
    assertFalse(never.runIfDue());
    assertEquals(0, runs.get());
  }
}
