package io.dynamicfs.core.engine;

import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's background work and the threads it runs on: short periodic tasks (commit of open files,
 * block reclaim, compaction, device checks) on one scheduler thread, and long ones (a scrub pass) on a
 * second thread so they never hold up the short ones. A long task is skipped while the previous one still
 * runs. {@link #close} stops both and waits for what is running; a long task sees {@link #closing()} and
 * stops early.
 */
final class Maintenance implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Maintenance.class);

  private final ScheduledExecutorService scheduler;
  private final ExecutorService longTasks;
  private final AtomicBoolean longTaskRunning = new AtomicBoolean();
  private volatile boolean closing;

  Maintenance() {
    scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "dfs-maintenance"));
    longTasks = Executors.newSingleThreadExecutor(r -> daemon(r, "dfs-scrub"));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Runs {@code task} every {@code period} (first after one period); a failure is logged, not fatal. */
  void every(Duration period, String name, Runnable task) {
    long ms = Math.max(1, period.toMillis());
    scheduler.scheduleWithFixedDelay(() -> runLogged(name, task), ms, ms, TimeUnit.MILLISECONDS);
  }

  /** Starts {@code task} on the long-task thread every {@code period}, unless the last one still runs. */
  void longTaskEvery(Duration period, String name, Runnable task) {
    every(period, name, () -> {
      if (!longTaskRunning.compareAndSet(false, true)) {
        return;
      }
      try {
        longTasks.execute(() -> {
          try {
            runLogged(name, task);
          } finally {
            longTaskRunning.set(false);
          }
        });
      } catch (RejectedExecutionException e) {
        longTaskRunning.set(false); // closing
      }
    });
  }

  boolean closing() {
    return closing;
  }

  private static void runLogged(String name, Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      log.atWarn().addKeyValue("task", name).addKeyValue("error", String.valueOf(e)).log("background task failed");
    }
  }

  /** Stops scheduling, and waits up to 30 s for the running tasks (a long one is asked to stop). */
  @Override
  public void close() {
    closing = true;
    scheduler.shutdown();
    longTasks.shutdown();
    try {
      if (!scheduler.awaitTermination(30, TimeUnit.SECONDS) || !longTasks.awaitTermination(30, TimeUnit.SECONDS)) {
        log.atWarn().log("background tasks did not stop within 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
