package io.dynamicfs.cluster.raft;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks for a checkpoint once the log entries a replica applied since its last one pass a size. Ratis
 * triggers snapshots by entry count only, and an entry here is anything from a 100-byte create to a few MiB
 * of small files' inline data batched by a mount: 3,000 such entries made a 1.1 GB log that was never purged,
 * and a new mount replaying it from index 0 ran out of heap. One request is out at a time; a checkpoint,
 * however it was triggered, starts the count again.
 */
final class SnapshotTrigger {
  private static final Logger log = LoggerFactory.getLogger(SnapshotTrigger.class);

  /** Never asks: a state machine no server wired (tests that drive one directly). */
  static final SnapshotTrigger NONE =
      new SnapshotTrigger(Long.MAX_VALUE, () -> CompletableFuture.completedFuture(true));

  private final long bytes;
  private final Supplier<CompletableFuture<Boolean>> ask;
  private final AtomicLong since = new AtomicLong();
  private final AtomicBoolean asked = new AtomicBoolean();

  /**
   * @param bytes log bytes applied between checkpoints
   * @param ask requests a checkpoint of this replica; completes true when the server took the request
   */
  SnapshotTrigger(long bytes, Supplier<CompletableFuture<Boolean>> ask) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("snapshot size " + bytes + " must be positive");
    }
    this.bytes = bytes;
    this.ask = ask;
  }

  /** An entry of {@code entryBytes} was applied (on the updater thread). */
  void applied(long entryBytes) {
    if (since.addAndGet(entryBytes) < bytes || !asked.compareAndSet(false, true)) {
      return;
    }
    CompletableFuture<Boolean> f;
    try {
      f = ask.get();
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete((ok, e) -> {
      if (e != null || !Boolean.TRUE.equals(ok)) {
        // ask again only after another half of the bound, not at every entry
        since.addAndGet(-bytes / 2);
        log.atWarn().addKeyValue("error", e == null ? "refused" : String.valueOf(e))
            .log("request for a metadata checkpoint failed");
      }
      asked.set(false);
    });
  }

  /** A checkpoint was taken or installed: the log before it can go. */
  void taken() {
    since.set(0);
  }
}
