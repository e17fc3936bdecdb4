package io.dynamicfs.cluster.mount;

import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;
import io.dynamicfs.core.meta.OpCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cluster mount's one stream of metadata ops to the group: ops are queued in the order the journal issues
 * them and one thread, the only caller of {@link RaftMetaClient#submitOrdered}, sends them, so the log
 * order is the queue's. Ops applied ahead that wait next to each other go as one {@link MetaOp.Batch} (up
 * to {@link #MAX_BATCH} ops and {@link #MAX_BATCH_BYTES}), after waiting up to a linger ({@link #LINGER}) for
 * company unless someone waits for them. At most {@link #MAX_ENTRIES_IN_FLIGHT} entries are unanswered at
 * once: while they are, the queue behind them makes the next batch bigger. A full queue ({@link #MAX_QUEUED}) makes the
 * issuer wait.
 */
final class OrderedSender {
  /** Most ops applied ahead that one log entry carries. */
  static final int MAX_BATCH = 512;
  /**
   * Most encoded bytes of the ops one batch carries. Ratis refuses a log entry over its write buffer (4 MiB
   * by default), and a refused batch fails the mount: 512 CommitBlocks with small files' inline data once
   * made 4.2 MB.
   */
  static final int MAX_BATCH_BYTES = 1 << 20;
  /** Most ops waiting to be sent; the issuer waits beyond it (back-pressure). */
  static final int MAX_QUEUED = 65536;
  /** Most log entries this mount has sent and not yet had answered. */
  static final int MAX_ENTRIES_IN_FLIGHT = 4;
  /**
   * Most unanswered entries that carry ops applied ahead. A Raft entry costs the group far more than the op
   * in it (a log append on every server, an appendEntries to each follower and listener), so the ops applied
   * ahead while one such entry is out wait and go together as the next: a create loop measured about 25%
   * less cluster CPU per create with one entry out than with four (and ran faster for it). Nobody waits for
   * ops applied ahead, so they lose nothing by waiting; an op that must be waited for goes at once, up to
   * {@link #MAX_ENTRIES_IN_FLIGHT}.
   */
  static final int MAX_AHEAD_ENTRIES_IN_FLIGHT = 1;
  /**
   * How long ops applied ahead may wait in the queue for company before they are sent, unless a caller
   * waits for them ({@link #awaitAnswered}, or an op that is not applied ahead queued behind them) or a full
   * batch is queued. On the test machine a Raft entry cost the cluster's four processes about 10 ms of CPU
   * whatever it carried (appends and syncs on every replica, gRPC messages, thread wake-ups), so a serial
   * create loop whose batches only waited for the previous entry sent about eight ops per entry and spent
   * most of its CPU on entries. Nobody waits for these ops, so the wait costs no latency; what it costs is
   * a longer window of ops a crash of the mount loses (as a local filesystem's unsynced changes) and of
   * changes another mount sees only through a recall. 250 ms rather than 100: the nodes spent about 10 % less
   * CPU on a create and unlink loop (docs/cluster-async-metadata.md, step 6), and a local filesystem's
   * window (ext4 commits every 5 s) is far longer still.
   */
  static final Duration LINGER = Duration.ofMillis(250);

  /** An op to send: applied ahead (may share an entry with its neighbours) or not, and its answer. */
  record Item(long key, MetaOp op, int bytes, boolean ahead, long queuedNanos,
      CompletableFuture<OpApplier.Result> answer) {
    /** {@code op} as queued: an op applied ahead carries its encoded size, for {@link #group}. */
    static Item of(long key, MetaOp op, boolean ahead, CompletableFuture<OpApplier.Result> answer) {
      return new Item(key, op, ahead ? OpCodec.encode(op).length : 0, ahead, System.nanoTime(), answer);
    }
  }

  private final RaftMetaClient client;
  private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>(MAX_QUEUED);
  /** Every op queued and not yet answered, by the issuer's number. */
  private final ConcurrentSkipListMap<Long, CompletableFuture<OpApplier.Result>> inflight = new ConcurrentSkipListMap<>();
  private final Semaphore window = new Semaphore(MAX_ENTRIES_IN_FLIGHT);
  private final Semaphore aheadWindow = new Semaphore(MAX_AHEAD_ENTRIES_IN_FLIGHT);
  private final long lingerNanos;
  private final Thread thread;
  private volatile boolean closed;
  /** Ops up to this issuer's number are waited for: send them without lingering. */
  private final AtomicLong hurryUpTo = new AtomicLong(Long.MIN_VALUE);
  private final Object lingering = new Object();

  OrderedSender(RaftMetaClient client, Duration linger) {
    this.client = client;
    this.lingerNanos = linger.toNanos();
    this.thread = new Thread(this::run, "dfs-meta-sender");
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * Queues {@code op} (numbered {@code key} by the issuer, unique); its answer completes the future. The
   * caller orders its calls (the journal holds its monitor), so the queue's order is the journal's.
   */
  CompletableFuture<OpApplier.Result> enqueue(long key, MetaOp op, boolean ahead) throws FsException {
    if (closed) {
      throw closedError();
    }
    CompletableFuture<OpApplier.Result> f = new CompletableFuture<>();
    inflight.put(key, f);
    f.whenComplete((r, e) -> inflight.remove(key, f));
    try {
      queue.put(Item.of(key, op, ahead, f));
      if (!ahead) {
        hurry(key); // its caller waits for it, and so for everything queued before it
      } else if (queue.size() >= MAX_BATCH - 1) { // a full batch behind the one the sender holds
        wakeSender();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      inflight.remove(key, f);
      throw new FsException(Errno.EIO, "interrupted while queueing a metadata operation");
    }
    return f;
  }

  private void run() {
    List<Item> group = new ArrayList<>();
    try {
      while (!Thread.currentThread().isInterrupted()) {
        Item first = queue.take();
        window.acquire();
        boolean ahead = first.ahead();
        if (ahead) {
          try {
            aheadWindow.acquire();
          } catch (InterruptedException e) {
            window.release();
            throw e;
          }
        }
        if (ahead) {
          linger(first);
        }
        group(first, queue, group); // what queued behind it while it waited for the window goes with it
        MetaOp op = group.size() == 1 ? first.op() : new MetaOp.Batch(group.stream().map(Item::op).toList());
        List<CompletableFuture<OpApplier.Result>> answers = group.stream().map(Item::answer).toList();
        CompletableFuture<OpApplier.Result> sent;
        try {
          sent = client.submitOrdered(op);
        } catch (RuntimeException e) {
          sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((r, e) -> {
          if (ahead) {
            aheadWindow.release();
          }
          window.release();
          for (CompletableFuture<OpApplier.Result> a : answers) {
            if (e != null) {
              a.completeExceptionally(e);
            } else {
              a.complete(r);
            }
          }
        });
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Waits, up to the linger after {@code first} was queued, for more ops to send with it; returns at
   * once when a caller waits for {@code first} or a full batch is queued.
   */
  private void linger(Item first) throws InterruptedException {
    long deadline = first.queuedNanos() + lingerNanos;
    synchronized (lingering) {
      for (long left; !closed && first.key() > hurryUpTo.get() && queue.size() < MAX_BATCH - 1
          && (left = deadline - System.nanoTime()) > 0; ) {
        TimeUnit.NANOSECONDS.timedWait(lingering, left);
      }
    }
  }

  /** Everything queued up to issuer's number {@code key} is waited for: no lingering for it. */
  private void hurry(long key) {
    hurryUpTo.accumulateAndGet(key, Math::max);
    wakeSender();
  }

  private void wakeSender() {
    synchronized (lingering) {
      lingering.notifyAll();
    }
  }

  /**
   * Fills {@code group} with what one log entry carries: {@code first}, and when it was applied ahead, the
   * ops applied ahead queued right behind it, up to {@link #MAX_BATCH} ops and {@link #MAX_BATCH_BYTES}
   * (the first goes even when it alone is bigger). Only the sender thread takes from {@code queue}.
   */
  static void group(Item first, Queue<Item> queue, List<Item> group) {
    group.clear();
    group.add(first);
    long bytes = first.bytes();
    for (Item next; first.ahead() && group.size() < MAX_BATCH && (next = queue.peek()) != null && next.ahead()
        && bytes + next.bytes() <= MAX_BATCH_BYTES; ) {
      group.add(queue.poll());
      bytes += next.bytes();
    }
  }

  /** Returns once every op queued before the call is answered (a failed one included). */
  void awaitAnswered() throws FsException {
    answeredWithin(Long.MAX_VALUE);
  }

  /**
   * {@link #awaitAnswered}, giving up after {@code timeoutNanos}: true when everything queued before the
   * call was answered in time.
   */
  boolean answeredWithin(long timeoutNanos) throws FsException {
    Map.Entry<Long, CompletableFuture<OpApplier.Result>> lastQueued = inflight.lastEntry();
    if (lastQueued == null) {
      return true;
    }
    hurry(lastQueued.getKey());
    long start = System.nanoTime();
    for (CompletableFuture<OpApplier.Result> f : inflight.headMap(lastQueued.getKey(), true).values()) {
      try {
        if (timeoutNanos == Long.MAX_VALUE) {
          f.get();
        } else {
          f.get(Math.max(0, timeoutNanos - (System.nanoTime() - start)), TimeUnit.NANOSECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FsException(Errno.EIO, "interrupted while waiting for metadata operations");
      } catch (ExecutionException e) {
        // its issuer hears of it
      } catch (TimeoutException e) {
        return false;
      }
    }
    return true;
  }

  /** Ops queued or sent and not yet answered. */
  int inFlight() {
    return inflight.size();
  }

  boolean isClosed() {
    return closed;
  }

  static FsException closedError() {
    return new FsException(Errno.EIO, "the mount's connection to the cluster is closed");
  }

  /** Stops: whatever is queued or unanswered fails with EIO, and so does every later {@link #enqueue}. */
  void close() {
    closed = true;
    wakeSender();
    thread.interrupt();
    FsException gone = closedError();
    for (Item i; (i = queue.poll()) != null; ) {
      i.answer().completeExceptionally(gone);
    }
    for (CompletableFuture<OpApplier.Result> f : inflight.values()) {
      f.completeExceptionally(gone);
    }
  }
}
