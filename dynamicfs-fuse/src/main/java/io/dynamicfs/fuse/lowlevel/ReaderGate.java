package io.dynamicfs.fuse.lowlevel;

import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Decides which of a mount's request threads wait on the FUSE device: {@code readers} at a time; the others
 * park here, the most recently parked first to run again.
 *
 * <p>Why: the kernel hands each request to the thread that has waited on the device longest, so with all
 * eight threads waiting, every request ran on another thread with cold caches, and one synchronous caller
 * (a create is six round trips) got a sixth fewer creates per second than from two threads taking turns
 * (docs/fuse-presets.md, "Request threads"). One reader is worse: the kernel's asynchronous requests
 * (RELEASE after a close) then wait behind the caller's next one.
 *
 * <p>A request that blocks (an fsync, a read of a block held by another node) must not leave the device
 * unread while threads are free: when no thread has read the device for a millisecond, a watcher wakes a
 * parked thread to read. Waking one at once whenever nobody reads would undo the point: that happens
 * between most requests of a single caller, for a few microseconds. The watcher looks every millisecond
 * while requests come and backs off to a second when none do; the first request after a quiet spell wakes
 * it. An fsync-like request wakes one at once; a READ or WRITE does so only while the recent ones took
 * long ({@link #wakesAtOnce}): a small file's READ answered from memory in some 20 µs paid two thread
 * switches (the wake, then the first thread parking again) for nothing.
 */
final class ReaderGate implements AutoCloseable {
  /** How long nobody may read the device before the watcher wakes a parked thread. */
  static final long STALL_NS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long QUIET_NS = TimeUnit.SECONDS.toNanos(1);

  private final int readers;
  private final long stallNs;
  private final BooleanSupplier exited;
  private final AtomicInteger reading = new AtomicInteger();
  private final AtomicLong readerlessSpells = new AtomicLong();
  private final AtomicLong takeovers = new AtomicLong();
  private final AtomicLong woken = new AtomicLong();
  private final ConcurrentLinkedDeque<Parked> parked = new ConcurrentLinkedDeque<>();
  private final Thread watcher;
  private volatile long noReaderSince;
  private volatile boolean watcherResting;
  private volatile boolean closed;

  private static final class Parked {
    final Thread thread = Thread.currentThread();
    volatile boolean waiting = true;
  }

  ReaderGate(int readers, BooleanSupplier exited, String name) {
    this(readers, STALL_NS, exited, name);
  }

  ReaderGate(int readers, long stallNs, BooleanSupplier exited, String name) {
    if (readers < 1) {
      throw new IllegalArgumentException("at least one request thread must read the device, got " + readers);
    }
    this.readers = readers;
    this.stallNs = stallNs;
    this.exited = exited;
    this.watcher = new Thread(this::watch, name);
    watcher.setDaemon(true);
    watcher.start();
  }

  private boolean over() {
    return closed || exited.getAsBoolean();
  }

  /**
   * Returns true when the calling thread may read the device, after parking it while enough others do;
   * false once the session exited.
   */
  boolean enter() {
    while (!over()) {
      int r = reading.get();
      if (r < readers) {
        if (reading.compareAndSet(r, r + 1)) {
          return true;
        }
        continue;
      }
      Parked me = new Parked();
      parked.addFirst(me);
      if (over()) {
        wakeAll();
      }
      while (me.waiting && !over()) {
        LockSupport.park(this);
      }
    }
    return false;
  }

  /**
   * The calling thread got a request (or gave up reading): it processes it while the others read. With
   * {@code mayBlock} (the request moves data: a read of a block held elsewhere, an fsync) and nobody left
   * reading, a parked thread is woken at once rather than after a stall: programs that keep several such
   * requests in flight (parallel random reads, read-ahead) would otherwise wait a stall for each.
   */
  void leave(boolean mayBlock) {
    if (reading.decrementAndGet() == 0) {
      if (mayBlock && wakeOne()) {
        return;
      }
      noReaderSince = System.nanoTime();
      readerlessSpells.incrementAndGet();
      if (watcherResting) {
        watcherResting = false;
        LockSupport.unpark(watcher);
      }
    }
  }

  /**
   * READs and WRITEs that took this long on average (the recent ones weigh most) are slow: while they are,
   * each wakes a parked thread at once. Below it they come from memory (a small file's inline bytes, the
   * L1 cache, a write buffered into an open file), and waking a thread for each cost more than it saved:
   * on a single-node mount reading 2,000 cold 16 KiB files the mount spent 160-300 µs of CPU and 4-6
   * thread switches per file when every READ woke one, 125-200 µs and 0-4 when none did (session 22, three
   * rounds each, under load). A cold 4 KiB random read of a large file (one compressed frame read and
   * unpacked, or a block from another node) takes well over it, so parallel random reads keep their threads.
   */
  static final long SLOW_DATA_NS = TimeUnit.MICROSECONDS.toNanos(50);
  private static final int READ = 15;
  private static final int WRITE = 16;
  /** Recent READ and WRITE service time, a moving average (1/8 weight to each new one); starts slow. */
  private volatile long dataNanos = 2 * SLOW_DATA_NS;

  /**
   * Whether the thread that took a request of this opcode wakes a parked one at once when nobody is left
   * reading: yes for requests that may wait on disks, locks or other nodes ({@link #mayBlock}), except
   * READ and WRITE while the recent ones were quick.
   */
  boolean wakesAtOnce(int opcode) {
    if (opcode == READ || opcode == WRITE) {
      return dataNanos >= SLOW_DATA_NS;
    }
    return mayBlock(opcode);
  }

  /** A request of {@code opcode} took {@code nanos} to serve (READ and WRITE count, see {@link #wakesAtOnce}). */
  void served(int opcode, long nanos) {
    if (opcode == READ || opcode == WRITE) {
      long avg = dataNanos;
      dataNanos = avg + (nanos - avg) / 8; // racy on purpose: a lost update only delays the average
    }
  }

  /**
   * Whether a request of this opcode moves data and may wait on disks or other nodes: READ, WRITE, FSYNC,
   * FSYNCDIR, SETLKW (waits for a lock), FALLOCATE, COPY_FILE_RANGE; also an opcode not known (-1).
   * Metadata requests are answered from the local store in microseconds (or, on a cluster mount, within a
   * Raft round): the watcher covers them. So does FLUSH, though it publishes what a file wrote: it is in
   * every close, and most closes have nothing to publish (waking a thread for each cost a create loop
   * most of what the gate gains).
   */
  static boolean mayBlock(int opcode) {
    return switch (opcode) {
      case -1, 15, 16, 20, 30, 33, 43, 47 -> true;
      default -> false;
    };
  }

  private void watch() {
    long sleep = stallNs;
    long seen = -1;
    while (!over()) {
      LockSupport.parkNanos(this, sleep);
      if (reading.get() == 0 && System.nanoTime() - noReaderSince >= stallNs && wakeOne()) {
        takeovers.incrementAndGet();
      }
      long spells = readerlessSpells.get();
      if (spells != seen) {
        seen = spells;
        sleep = stallNs;
        watcherResting = false;
      } else {
        sleep = Math.min(sleep * 2, QUIET_NS);
        watcherResting = true;
        if (readerlessSpells.get() != seen) {
          // a spell began as we decided to rest, and its leave() may have seen us still awake
          watcherResting = false;
          sleep = stallNs;
        }
      }
    }
  }

  /** Wakes every parked thread and the watcher (after the session exited, so they return). */
  void wakeAll() {
    while (wakeOne()) {
      // each parked thread sees the session exited and returns
    }
    LockSupport.unpark(watcher);
  }

  private boolean wakeOne() {
    Parked p = parked.pollFirst();
    if (p == null) {
      return false;
    }
    p.waiting = false;
    LockSupport.unpark(p.thread);
    woken.incrementAndGet();
    return true;
  }

  /** Stops the watcher and releases every parked thread. */
  @Override
  public void close() {
    closed = true;
    wakeAll();
  }

  /** Threads reading the device now (tests). */
  int reading() {
    return reading.get();
  }

  /** Threads parked now (tests). */
  int parked() {
    return parked.size();
  }

  /** Parked threads woken so far, for any reason (tests). */
  long woken() {
    return woken.get();
  }

  /** Times the watcher woke a parked thread because nobody had read the device for the stall time. */
  long takeovers() {
    return takeovers.get();
  }
}
