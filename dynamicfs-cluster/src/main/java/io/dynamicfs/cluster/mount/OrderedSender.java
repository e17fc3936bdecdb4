package io.dynamicfs.cluster.mount;

import io.dynamicfs.cluster.raft.RaftMetaClient;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;
import io.dynamicfs.core.meta.OpCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;

/**
 * A cluster mount's one stream of metadata ops to the group: ops are queued in the order the journal issues
 * them and one thread, the only caller of {@link RaftMetaClient#submitOrdered}, sends them, so the log
 * order is the queue's. Ops applied ahead that wait next to each other go as one {@link MetaOp.Batch} (up
 * to {@link #MAX_BATCH} ops and {@link #MAX_BATCH_BYTES}). At most {@link #MAX_ENTRIES_IN_FLIGHT} entries are unanswered at once: while they
 * are, the queue behind them makes the next batch bigger. A full queue ({@link #MAX_QUEUED}) makes the
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

  /** An op to send: applied ahead (may share an entry with its neighbours) or not, and its answer. */
  record Item(MetaOp op, int bytes, boolean ahead, CompletableFuture<OpApplier.Result> answer) {
    /** {@code op} as queued: an op applied ahead carries its encoded size, for {@link #group}. */
    static Item of(MetaOp op, boolean ahead, CompletableFuture<OpApplier.Result> answer) {
      return new Item(op, ahead ? OpCodec.encode(op).length : 0, ahead, answer);
    }
  }

  private final RaftMetaClient client;
  private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>(MAX_QUEUED);
  /** Every op queued and not yet answered, by the issuer's number. */
  private final ConcurrentSkipListMap<Long, CompletableFuture<OpApplier.Result>> inflight = new ConcurrentSkipListMap<>();
  private final Semaphore window = new Semaphore(MAX_ENTRIES_IN_FLIGHT);
  private final Semaphore aheadWindow = new Semaphore(MAX_AHEAD_ENTRIES_IN_FLIGHT);
  private final Thread thread;
  private volatile boolean closed;

  OrderedSender(RaftMetaClient client) {
    this.client = client;
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
      queue.put(Item.of(op, ahead, f));
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
    for (CompletableFuture<OpApplier.Result> f : inflight.values()) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FsException(Errno.EIO, "interrupted while waiting for metadata operations");
      } catch (ExecutionException e) {
        // its issuer hears of it
      }
    }
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
