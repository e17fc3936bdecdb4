package io.dynamicfs.policy.act;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the audit log says happened, as the checks need it: each file's last move (cooldown, ping-pong),
 * each file's last refusal (so a refusal repeated run after run is written once), the moves of the last
 * hour (the budget counts them), and totals. Fed by {@link AuditLog} in log order.
 *
 * <p>Thread-safe (synchronized): the executor adds, plans and {@code explain} read.
 */
public final class MoveHistory {
  private static final long HOUR = 3_600_000L;

  /** A file's last move: when, which way, to where. */
  public record LastMove(long millis, String action, String to, long bytes) {}

  // @GuardedBy("this")
  private final Map<Long, LastMove> lastMove = new HashMap<>();
  // @GuardedBy("this")
  private final Map<Long, AuditEntry> lastEntry = new HashMap<>();
  // @GuardedBy("this")
  private final Deque<long[]> recent = new ArrayDeque<>(); // {millis, bytes} of moves, oldest first
  // @GuardedBy("this")
  private long pingPongs;
  // @GuardedBy("this")
  private long timedBytes;
  // @GuardedBy("this")
  private long timedMillis;

  synchronized void add(AuditEntry e) {
    lastEntry.put(e.ino(), e);
    if (!e.isMove()) {
      return;
    }
    LastMove before = lastMove.get(e.ino());
    if (before != null && !before.to().equals(e.to()) && e.millis() - before.millis() < 24 * HOUR) {
      pingPongs++; // back where it came from within a day
    }
    long moved = e.movedBytes() == null ? e.bytes() : e.movedBytes();
    if (e.durationMillis() != null && moved > 0) {
      timedBytes += moved;
      timedMillis += Math.max(1, e.durationMillis());
    }
    lastMove.put(e.ino(), new LastMove(e.millis(), e.action(), e.to(), moved));
    recent.addLast(new long[] {e.millis(), moved});
    while (recent.size() > 100_000) {
      recent.pollFirst();
    }
  }

  /** The file's last move, or null. */
  public synchronized LastMove lastMove(long ino) {
    return lastMove.get(ino);
  }

  /** The file's last audit entry other than a start, or null. */
  public synchronized AuditEntry lastEntry(long ino) {
    return lastEntry.get(ino);
  }

  /** Moves that ended within the hour before {@code nowMillis}: {count, bytes}. */
  public synchronized long[] lastHour(long nowMillis) {
    long n = 0;
    long bytes = 0;
    for (long[] m : recent) {
      if (m[0] > nowMillis - HOUR && m[0] <= nowMillis) {
        n++;
        bytes += m[1];
      }
    }
    return new long[] {n, bytes};
  }

  /** The mean rate of the moves the log timed, bytes per second; 0 when none was. */
  public synchronized double measuredBytesPerSecond() {
    return timedMillis == 0 ? 0 : timedBytes * 1000.0 / timedMillis;
  }

  /** Moves that took a file back to the tier it left less than a day before. */
  public synchronized long pingPongs() {
    return pingPongs;
  }

  /** True when {@code ino}'s last entry is the same refusal (action, target, failed check names). */
  public synchronized boolean sameRefusal(long ino, String action, String to, List<String> failedChecks) {
    AuditEntry e = lastEntry.get(ino);
    return e != null && "refused".equals(e.outcome()) && action.equals(e.action()) && to.equals(e.to())
        && names(failedChecks).equals(names(e.failedChecks()));
  }

  private static List<String> names(List<String> checks) {
    return checks == null ? List.of() : checks.stream().map(c -> c.contains(":") ? c.substring(0, c.indexOf(':')) : c)
        .toList();
  }
}
