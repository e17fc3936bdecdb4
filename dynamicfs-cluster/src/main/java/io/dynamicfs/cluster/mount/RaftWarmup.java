package io.dynamicfs.cluster.mount;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.engine.JitQuiet;
import io.dynamicfs.core.meta.MetaOp;
import java.time.Duration;
import java.util.Collections;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the metadata group's request paths before a cluster mount serves, so that the first real operations
 * do not pay for the JIT. The engine warm-up ({@link io.dynamicfs.core.engine.Warmup}) runs a scratch engine
 * and so never reaches Ratis: during the first 10,000 creates on a fresh cluster the mount and a node each
 * compiled 650-700 new Ratis methods (its gRPC, protobuf and Netty included; session 24, {@code jcmd
 * Compiler.codelist} before and after), and each spent 0.1-0.4 s of CPU in its compiler threads while
 * serving. This sends {@link MetaOp.Noop}s, alone and in batches, through the same ordered asynchronous
 * stream the mount's operations take ({@link io.dynamicfs.cluster.raft.RaftMetaClient#submitOrdered}), at
 * most {@link #IN_FLIGHT} at a time, with a linearizable catch-up every {@link #CATCH_UP_EVERY}: the leader
 * logs them, the followers and this mount's replica append and apply them (a no-op moves only the applied
 * index), so every member's Ratis paths run. It stops once at least {@link #MIN_OPS} were answered and this
 * JVM's JIT has gone quiet ({@link JitQuiet}), or at the budget; it waits for what it sent and is best
 * effort: a failure is logged and the mount starts anyway. A no-op sent among other ops on the stream changes
 * nothing but the log's length.
 */
public final class RaftWarmup {
  private static final Logger log = LoggerFactory.getLogger(RaftWarmup.class);
  static final int IN_FLIGHT = 256;
  /** Enough for a node's per-entry paths to pass C1's compile thresholds (a few hundred calls each). */
  static final int MIN_OPS = 3000;
  static final int CATCH_UP_EVERY = 1024;
  /** Every so many ops, a batch of this many no-ops instead of one. */
  static final int BATCH_EVERY = 8;
  static final int BATCH = 4;

  private RaftWarmup() {}

  /** Runs the warm-up over {@code conn} within {@code budget}; returns the ops answered (0 without a budget). */
  public static long run(ClusterMounts conn, Duration budget) {
    if (budget.isNegative() || budget.isZero()) {
      return 0;
    }
    long start = System.nanoTime();
    long deadline = start + budget.toNanos();
    JitQuiet quiet = new JitQuiet(deadline);
    Semaphore window = new Semaphore(IN_FLIGHT);
    AtomicReference<Throwable> failed = new AtomicReference<>();
    AtomicLong answered = new AtomicLong();
    long sent = 0;
    try {
      while (failed.get() == null && !quiet.pastDeadline() && (answered.get() < MIN_OPS || !quiet.done())) {
        if (!window.tryAcquire(remainingNanos(deadline), TimeUnit.NANOSECONDS)) {
          break;
        }
        MetaOp op = sent % BATCH_EVERY == BATCH_EVERY - 1
            ? new MetaOp.Batch(Collections.nCopies(BATCH, new MetaOp.Noop())) : new MetaOp.Noop();
        conn.meta().submitOrdered(op).whenComplete((r, e) -> {
          if (e != null) {
            failed.compareAndSet(null, e);
          } else {
            answered.incrementAndGet();
          }
          window.release();
        });
        sent++;
        if (sent % CATCH_UP_EVERY == 0) {
          conn.catchUp();
        }
      }
      // what was sent is answered before the mount's own operations take the stream
      if (!window.tryAcquire(IN_FLIGHT, Math.max(remainingNanos(deadline), Duration.ofSeconds(5).toNanos()),
          TimeUnit.NANOSECONDS)) {
        log.atWarn().addKeyValue("unanswered", IN_FLIGHT - window.availablePermits())
            .log("metadata warm-up: no-ops still unanswered at its end; starting anyway (they are harmless)");
      }
    } catch (FsException | RuntimeException e) {
      failed.compareAndSet(null, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failed.compareAndSet(null, e);
    }
    Throwable f = failed.get();
    if (f != null) {
      log.atWarn().addKeyValue("error", String.valueOf(f.getMessage()))
          .log("metadata warm-up failed; starting without it");
    } else {
      log.atInfo().addKeyValue("ops", answered.get()).addKeyValue("ms", (System.nanoTime() - start) / 1_000_000)
          .addKeyValue("jit_total_ms", JitQuiet.totalCompileMillis()).log("metadata warm-up done");
    }
    return answered.get();
  }

  private static long remainingNanos(long deadline) {
    return Math.max(0, deadline - System.nanoTime());
  }
}
