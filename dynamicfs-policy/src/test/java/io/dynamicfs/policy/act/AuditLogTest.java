package io.dynamicfs.policy.act;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The audit log on disk: lines appended and read back, the history rebuilt at reopen, crashes recorded. */
class AuditLogTest {
  private static final long T0 = 1_800_000_000_000L;
  private static final long MINUTE = 60_000;

  @TempDir Path dir;

  private static AuditEntry entry(long millis, String outcome, long ino, String action, String to, long bytes,
      List<String> failed) {
    return new AuditEntry(Instant.ofEpochMilli(millis).toString(), millis, outcome, "apply", "/f" + ino, ino, action,
        to.equals("fast") ? "slow" : "fast", to, bytes, 10L * bytes, 2.5, null, "heuristic count", "ranked 1 of 2",
        Map.of("extent_accesses", 2.5), failed, outcome.equals("moved") ? bytes : null,
        outcome.equals("moved") ? 100L : null, null);
  }

  @Test
  void append_reopen_historyHasMovesRefusalsAndTheHour() throws Exception {
    try (AuditLog a = AuditLog.open(dir, T0)) {
      a.append(entry(T0, "started", 2, "promote", "fast", 1000, null));
      a.append(entry(T0 + 1, "moved", 2, "promote", "fast", 1000, null));
      a.append(entry(T0 + 2, "refused", 3, "promote", "fast", 500, List.of("residency: changed 1m ago")));
      a.append(entry(T0 - 2 * 60 * MINUTE, "moved", 4, "demote", "slow", 7000, null));
    }
    List<String> lines = Files.readAllLines(dir.resolve(AuditLog.FILE));
    assertEquals(4, lines.size());
    assertTrue(lines.get(1).contains("\"outcome\":\"moved\"") && lines.get(1).contains("\"expected_bytes\":10000")
        && lines.get(1).contains("\"features\":{\"extent_accesses\":2.5}"), lines.get(1));
    assertFalse(lines.get(1).contains("\"error\""), "absent values are left out: " + lines.get(1));

    try (AuditLog a = AuditLog.open(dir, T0 + MINUTE)) {
      MoveHistory h = a.history();
      assertEquals(T0 + 1, h.lastMove(2).millis());
      assertEquals("fast", h.lastMove(2).to());
      assertNull(h.lastMove(3), "a refusal is no move");
      assertArrayEquals(new long[] {1, 1000}, h.lastHour(T0 + MINUTE), "the move two hours ago is out of the hour");
      assertTrue(h.sameRefusal(3, "promote", "fast", List.of("residency: changed 2m ago")),
          "the same check failing again, whatever its detail");
      assertFalse(h.sameRefusal(3, "promote", "fast", List.of("open: open")));
      assertFalse(h.sameRefusal(2, "promote", "fast", List.of("residency: x")), "its last entry is a move");
      assertEquals(1000 * 1000.0 / 100 + 7000 * 1000.0 / 100, 2 * h.measuredBytesPerSecond(), 1e-6);
    }
    assertEquals(4, AuditLog.readAll(dir).size(), "reopening wrote nothing: no move was left open");
  }

  @Test
  void open_moveStartedNeverEnded_recordedAsInterrupted() throws Exception {
    try (AuditLog a = AuditLog.open(dir, T0)) {
      a.append(entry(T0, "started", 7, "demote", "slow", 4096, null));
    } // the daemon "dies" here
    try (AuditLog a = AuditLog.open(dir, T0 + MINUTE)) {
      assertEquals("interrupted", a.history().lastEntry(7).outcome());
      assertNull(a.history().lastMove(7), "an interrupted move does not start a cooldown");
    }
    List<AuditEntry> all = AuditLog.readAll(dir);
    assertEquals(List.of("started", "interrupted"), all.stream().map(AuditEntry::outcome).toList());
    assertTrue(all.get(1).error().contains("crash-safe"), all.get(1).error());
    try (AuditLog a = AuditLog.open(dir, T0 + 2 * MINUTE)) {
      assertEquals(2, AuditLog.readAll(dir).size(), "recorded once, not at every mount");
    }
  }

  @Test
  void open_lineCutShortByACrash_skipped() throws Exception {
    try (AuditLog a = AuditLog.open(dir, T0)) {
      a.append(entry(T0, "moved", 2, "promote", "fast", 1000, null));
    }
    Files.writeString(dir.resolve(AuditLog.FILE), "{\"time\":\"2027-01-", StandardCharsets.UTF_8,
        StandardOpenOption.APPEND);
    try (AuditLog a = AuditLog.open(dir, T0 + MINUTE)) {
      assertEquals(T0, a.history().lastMove(2).millis());
      a.append(entry(T0 + MINUTE, "moved", 5, "promote", "fast", 1, null));
    }
    assertEquals(T0 + MINUTE, AuditLog.readAll(dir).get(1).millis(), "the broken line is skipped, the next read");
  }

  @Test
  void history_fileMovedBackWithinADay_isAPingPong() throws Exception {
    try (AuditLog a = AuditLog.open(dir, T0)) {
      a.append(entry(T0, "moved", 2, "promote", "fast", 1, null));
      a.append(entry(T0 + 60 * MINUTE, "moved", 2, "demote", "slow", 1, null));
      a.append(entry(T0 + 3 * 24 * 60 * MINUTE, "moved", 2, "promote", "fast", 1, null));
      assertEquals(1, a.history().pingPongs());
    }
  }
}
