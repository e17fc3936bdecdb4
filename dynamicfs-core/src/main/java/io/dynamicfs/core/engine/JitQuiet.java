package io.dynamicfs.core.engine;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * When a warm-up may stop: at its deadline, or once the JIT has gone quiet — less than {@link #QUIET_COMPILE_MS}
 * of compilation in the last {@link #WINDOW_NANOS}, after at least {@link #MIN_NANOS}. Where the JVM cannot
 * tell its compilation time, only the deadline stops it. Used by one thread.
 */
public final class JitQuiet {
  static final long WINDOW_NANOS = 200_000_000L;
  static final long MIN_NANOS = 400_000_000L;
  static final long QUIET_COMPILE_MS = 5;

  private final CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
  private final boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
  private final long start = System.nanoTime();
  private final long deadline;
  private long windowStart = start;
  private long windowCompileMs = timed ? jit.getTotalCompilationTime() : 0;
  private boolean done;

  /** {@code deadline} in {@link System#nanoTime()} terms. */
  public JitQuiet(long deadline) {
    this.deadline = deadline;
  }

  /** True from the deadline on, or once a window passed with the JIT quiet; stays true. */
  public boolean done() {
    if (done) {
      return true;
    }
    long now = System.nanoTime();
    if (now - deadline >= 0) {
      return done = true;
    }
    if (timed && now - windowStart >= WINDOW_NANOS) {
      long compiled = jit.getTotalCompilationTime();
      if (now - start >= MIN_NANOS && compiled - windowCompileMs < QUIET_COMPILE_MS) {
        return done = true;
      }
      windowStart = now;
      windowCompileMs = compiled;
    }
    return false;
  }

  /** True once the deadline has passed, whatever the JIT does. */
  public boolean pastDeadline() {
    return System.nanoTime() - deadline >= 0;
  }

  /** The JIT's total compilation time so far in milliseconds, or -1 where the JVM cannot tell. */
  public static long totalCompileMillis() {
    CompilationMXBean j = ManagementFactory.getCompilationMXBean();
    return j != null && j.isCompilationTimeMonitoringSupported() ? j.getTotalCompilationTime() : -1;
  }
}
