package io.dynamicfs.cluster.node;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's own scrub schedule: a scrub with repair of every copy once {@code every} has passed since the
 * last one that finished. The time of the last finished scrub is kept in a small file of the node's DATA
 * (written to a temporary file and renamed), so a restart or a change of leader does not reset the clock:
 * a new leader goes by its own file, at worst scrubbing sooner than due. The clock starts when a node first
 * leads (no file yet); an unreadable file restarts it, with a warning.
 */
final class ScheduledScrub {
  private static final Logger log = LoggerFactory.getLogger(ScheduledScrub.class);

  /** One scrub of the cluster with repair. */
  @FunctionalInterface
  interface Run {
    ClusterScrub.Report scrub() throws IOException;
  }

  private final Path stamp;
  private final Duration every;
  private final Run run;
  private final LongSupplier clockMillis;
  private boolean failedLast;

  ScheduledScrub(Path stamp, Duration every, Run run, LongSupplier clockMillis) {
    this.stamp = stamp;
    this.every = every;
    this.run = run;
    this.clockMillis = clockMillis;
  }

  /** Scrubs when due; true when a scrub ran to the end. Never throws: a failure is logged and retried next call. */
  boolean runIfDue() {
    if (every.isZero() || every.isNegative()) {
      return false;
    }
    long now = clockMillis.getAsLong();
    Long last = lastFinished();
    if (last == null) {
      // the clock starts now: the first scrub is one period after this node first led (a new cluster has
      // nothing to scrub, and a restart must not set off a scrub of everything at once)
      try {
        record(now);
      } catch (IOException e) {
        log.atWarn().addKeyValue("file", stamp.toString()).addKeyValue("error", String.valueOf(e))
            .log("cannot record when the scrub schedule starts");
      }
      return false;
    }
    if (now - last < every.toMillis()) {
      return false;
    }
    log.atInfo().addKeyValue("last_ms", last).addKeyValue("every_s", every.toSeconds()).log("scheduled scrub starts");
    try {
      ClusterScrub.Report r = run.scrub();
      record(clockMillis.getAsLong());
      log.atInfo().addKeyValue("copies", r.found().copies()).addKeyValue("problems", r.found().problems().size())
          .addKeyValue("repaired", r.repaired()).addKeyValue("lost", r.lost())
          .addKeyValue("problems_after", r.after().problems().size()).log("scheduled scrub finished");
      failedLast = false;
      return true;
    } catch (IOException | RuntimeException e) {
      if (!failedLast) {
        log.atWarn().addKeyValue("error", String.valueOf(e)).log("scheduled scrub failed; retried next period");
      }
      failedLast = true;
      return false;
    }
  }

  /** When the last scrub finished (ms since the epoch), or null: none recorded, or the record unreadable. */
  Long lastFinished() {
    try {
      return Long.parseLong(Files.readString(stamp, StandardCharsets.US_ASCII).trim());
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException | NumberFormatException e) {
      log.atWarn().addKeyValue("file", stamp.toString()).addKeyValue("error", String.valueOf(e))
          .log("the last scrub's time cannot be read; the scrub schedule starts again from now");
      return null;
    }
  }

  private void record(long millis) throws IOException {
    Path tmp = stamp.resolveSibling(stamp.getFileName() + ".tmp");
    Files.writeString(tmp, Long.toString(millis) + "\n", StandardCharsets.US_ASCII);
    Files.move(tmp, stamp, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
