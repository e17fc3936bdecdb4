package io.dynamicfs.fuse.lowlevel;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntSupplier;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * How the thread reading the FUSE device waits for the next request: it reads without blocking for a
 * short spell first ({@code -Ddfs.fuse.spinUs}, 50 by default), and only then sleeps in {@code poll}.
 *
 * <p>Why: a program that makes files one after another keeps exactly one request in flight, and the next
 * one follows the previous answer within a few microseconds. A reader asleep in the device must be woken
 * for it, and on this kind of virtual machine waking a thread whose CPU went idle costs more than most
 * requests take to answer. A reader still awake picks the request up at once. Measured on a single-node
 * mount (docs/fuse-presets.md, "Request threads"): a CREATE answered in 33 µs instead of 70, an IOCTL in
 * 5 instead of 14, and about a third more creates per second (4,623 to 6,270).
 *
 * <p>The spell is the cost: one CPU busy for up to its length after each request. Once nothing came for
 * that long, the reader sleeps, so a quiet mount spends one wake-up a second (to look whether the session
 * ended). {@code spinUs=0} keeps the device blocking and reads it as before.
 *
 * <p>The device is switched to non-blocking for this (libfuse answers {@code -EAGAIN} for an empty one,
 * in both versions; replies and notifications never block on {@code /dev/fuse} either way).
 */
final class DeviceSpin {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(DeviceSpin.class);
  static final long DEFAULT_SPIN_US = 50;
  private static final int EAGAIN = 11;
  private static final int F_GETFL = 3;
  private static final int F_SETFL = 4;
  private static final int O_NONBLOCK = 04000;
  private static final short POLLIN = 1;
  /** A sleeping reader still looks at the session's end this often (an unmount also wakes it). */
  private static final int POLL_MS = 1000;

  private final int fd;
  private final long spinNs;
  private final LongAdder atOnce = new LongAdder();
  private final LongAdder slept = new LongAdder();

  private DeviceSpin(int fd, long spinNs) {
    this.fd = fd;
    this.spinNs = spinNs;
  }

  /** The spin in {@code -Ddfs.fuse.spinUs}; a negative or unparsable value is refused, naming the property. */
  static long spinNsFromSystemProperty() {
    String v = System.getProperty("dfs.fuse.spinUs", Long.toString(DEFAULT_SPIN_US));
    long us;
    try {
      us = Long.parseLong(v);
    } catch (NumberFormatException e) {
      us = -1;
    }
    if (us < 0 || us > 1_000_000) {
      throw new IllegalArgumentException("-Ddfs.fuse.spinUs=" + v + ": expected microseconds from 0 to 1000000");
    }
    return TimeUnit.MICROSECONDS.toNanos(us);
  }

  /**
   * Waits on {@code fd} spinning for {@code spinNs} first (switching it to non-blocking); with 0, reads
   * block as the device was opened, and so they do (with a warning) if its flags cannot be changed.
   */
  static DeviceSpin on(int fd, long spinNs) {
    if (spinNs > 0) {
      LibC c = LibC.Holder.LIB;
      int flags = c.fcntl(fd, F_GETFL, 0);
      if (flags < 0 || c.fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        log.atWarn().addKeyValue("fd", fd).log("cannot make the FUSE device non-blocking; its reader sleeps at once");
        return new DeviceSpin(fd, 0);
      }
    }
    return new DeviceSpin(fd, spinNs);
  }

  boolean spinning() {
    return spinNs > 0;
  }

  /**
   * A worker's receive: what {@code read} returns (bytes, 0 at the session's end, -errno), trying again
   * while the device is empty: at once for the spell, then after {@code poll} says it has a request (or
   * a second passed). Only {@code -EAGAIN} is retried here; it is given back only when, after a quiet
   * second, {@code ended} says the session is over. The caller handles every other answer.
   */
  int receive(IntSupplier read, Pointer pollFd, java.util.function.BooleanSupplier ended) {
    if (spinNs == 0) {
      return read.getAsInt();
    }
    long deadline = System.nanoTime() + spinNs;
    boolean waited = false;
    while (true) {
      int r = read.getAsInt();
      if (r != -EAGAIN) {
        (waited ? slept : atOnce).increment();
        return r;
      }
      if (System.nanoTime() - deadline < 0) {
        Thread.onSpinWait();
        continue;
      }
      pollFd.putInt(0, fd);
      pollFd.putShort(4, POLLIN);
      pollFd.putShort(6, (short) 0);
      if (LibC.Holder.LIB.poll(pollFd, 1, POLL_MS) == 0) {
        if (ended.getAsBoolean()) {
          return -EAGAIN; // the caller sees the session ended
        }
        continue; // a quiet second: poll again (the deadline has passed, so no spell first)
      }
      waited = true;
      deadline = System.nanoTime() + spinNs; // another reader may have taken it: spin a spell again
    }
  }

  /** A {@code struct pollfd} for one worker's {@link #receive}. */
  static Pointer pollFd() {
    return Memory.allocateDirect(Runtime.getRuntime(LibC.Holder.LIB), 8, true);
  }

  /** Requests read while spinning (no sleep since the previous one). */
  long atOnce() {
    return atOnce.sum();
  }

  /** Requests read after the reader slept in poll. */
  long slept() {
    return slept.sum();
  }
}
