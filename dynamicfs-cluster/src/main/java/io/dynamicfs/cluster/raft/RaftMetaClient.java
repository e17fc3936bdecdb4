package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;
import io.dynamicfs.core.meta.OpCodec;
import java.io.Closeable;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.client.retry.ClientRetryEvent;
import org.apache.ratis.client.retry.RequestTypeDependentRetryPolicy;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.proto.RaftProtos.RaftClientRequestProto.TypeCase;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.exceptions.RaftRetryFailureException;
import org.apache.ratis.protocol.exceptions.ReadException;
import org.apache.ratis.protocol.exceptions.ReadIndexException;
import org.apache.ratis.protocol.exceptions.StaleReadException;
import org.apache.ratis.protocol.exceptions.StateMachineException;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.retry.RetryPolicy;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mount's (or an admin tool's) handle on the replicated metadata: operations go through the Raft log,
 * reads are linearizable (ReadIndex on the leader) or, for relaxed mounts, stale reads from a chosen
 * replica at an index this client has already seen (read-your-writes).
 *
 * <p>A request that meets no leader (an election, a partition) is retried with the same call id until
 * {@code noLeaderTimeout} has passed since it was first sent; the servers' retry cache answers a retry of
 * an operation that was already applied with its first answer, so a retried create or rename happens once.
 * An operation that has waited {@link #WAIT_WARNING} logs one warning (the cluster may have lost its
 * majority), and one line more when it goes through after all. After the timeout an operation fails with
 * EROFS (the local replica still answers reads; nothing was written) and a query with EIO, each naming the
 * cause.
 *
 * <p>The ordered stream ({@link #submitOrdered}, and the linearizable reads of {@link #queryNudging}, which
 * Ratis orders behind it) is the exception: it carries a mount's operations that were answered before they
 * were logged, which no timeout may drop, so Ratis retries its requests until the cluster answers, however
 * long that takes (a hard mount). They share one client, and so one order, with the barrier reads: a
 * barrier must follow the mount's own recall. A failed request of the stream would fail every one sent after
 * it, so the reads wait for their answer with a deadline of their own and leave an unanswered request behind
 * rather than fail it. A stalled stream logs a warning once it has waited {@link #WAIT_WARNING}, again every
 * {@link #STALL_REMINDER}, and one line when the cluster answers again. Thread-safe.
 */
public final class RaftMetaClient implements Closeable {
  public static final Duration DEFAULT_NO_LEADER_TIMEOUT = Duration.ofSeconds(30);
  /** How long a linearizable read waits before it nudges the leader with a no-op (see #readNudging). */
  static final Duration NUDGE_AFTER = Duration.ofMillis(15);
  private static final TimeDuration RETRY_SLEEP = TimeDuration.valueOf(200, TimeUnit.MILLISECONDS);
  public static final Duration WAIT_WARNING = Duration.ofSeconds(2);
  /**
   * Most asynchronous requests unanswered at once (Ratis' default is 100; a send beyond it waits for one to
   * end). A barrier read that gives up leaves its request behind in the stream, so an outage of some minutes
   * with files being opened piles up abandoned reads; with 100, the next barrier would then wait for a
   * leader past its own deadline instead of failing with EIO.
   */
  static final int MAX_OUTSTANDING = 4096;
  /** How often a stalled ordered stream repeats its warning. */
  static final Duration STALL_REMINDER = Duration.ofSeconds(30);
  private static final Logger log = LoggerFactory.getLogger(RaftMetaClient.class);
  /** Logs operations that wait long for a leader; one daemon thread for every client in the JVM. */
  private static final ScheduledExecutorService WATCH = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "dfs-meta-watch");
    t.setDaemon(true);
    return t;
  });

  private final RaftClient client;
  private final RaftGroup group;
  private final Duration noLeaderTimeout;
  private final AtomicLong lastSeenIndex = new AtomicLong();
  /** When the oldest unanswered ordered request was sent, once it has waited {@link #WAIT_WARNING}; else 0. */
  private final AtomicLong stalledSince = new AtomicLong();
  private final AtomicBoolean nudging = new AtomicBoolean();

  public RaftMetaClient(RaftGroup group) {
    this(group, DEFAULT_NO_LEADER_TIMEOUT);
  }

  public RaftMetaClient(RaftGroup group, Duration noLeaderTimeout) {
    this(group, noLeaderTimeout, null);
  }

  /** A client of {@code group} under the cluster's TLS identity {@code tls} (null: plain, as in-JVM tests). */
  public RaftMetaClient(RaftGroup group, Duration noLeaderTimeout, RaftTls tls) {
    this.group = group;
    this.noLeaderTimeout = noLeaderTimeout;
    TimeDuration timeout = TimeDuration.valueOf(noLeaderTimeout.toMillis(), TimeUnit.MILLISECONDS);
    RaftProperties properties = new RaftProperties();
    RaftClientConfigKeys.Async.setOutstandingRequestsMax(properties, MAX_OUTSTANDING);
    this.client = RaftClient.newBuilder()
        .setProperties(properties)
        .setRaftGroup(group)
        .setRetryPolicy(new StreamNeverGivesUp(timeout))
        .setParameters(tls != null ? tls.parameters() : new org.apache.ratis.conf.Parameters())
        .build();
  }

  /**
   * Ratis' retry policy here: every request is retried with its call id every {@link #RETRY_SLEEP}; one of
   * the ordered stream (it carries a sliding-window entry) forever, any other until {@code timeout} has
   * passed since it was first sent.
   */
  private static final class StreamNeverGivesUp implements RetryPolicy {
    private final RetryPolicy forever = RetryPolicies.retryForeverWithSleep(RETRY_SLEEP);
    private final RetryPolicy bounded;

    StreamNeverGivesUp(TimeDuration timeout) {
      RequestTypeDependentRetryPolicy.Builder policy = RequestTypeDependentRetryPolicy.newBuilder();
      for (TypeCase type : new TypeCase[] {TypeCase.WRITE, TypeCase.READ, TypeCase.STALEREAD}) {
        policy.setRetryPolicy(type, forever).setTimeout(type, timeout);
      }
      this.bounded = policy.build();
    }

    @Override
    public Action handleAttemptFailure(Event event) {
      boolean ordered = event instanceof ClientRetryEvent e && e.getRequest().getSlidingWindowEntry() != null;
      return (ordered ? forever : bounded).handleAttemptFailure(event);
    }

    @Override
    public String toString() {
      return "ordered stream: " + forever + "; others: " + bounded;
    }
  }

  /**
   * Proposes {@code op} and waits until it is applied; returns its answer (a failed operation is a
   * {@link OpApplier.Result} with an errno, use {@link OpApplier.Result#orThrow()}). Throws EIO when no
   * leader answered within the timeout or the leader refused the frame.
   */
  public OpApplier.Result submit(MetaOp op) throws FsException {
    long start = System.nanoTime();
    AtomicBoolean warned = new AtomicBoolean();
    ScheduledFuture<?> watch = WATCH.schedule(() -> {
      warned.set(true);
      log.atWarn().addKeyValue("op", op.getClass().getSimpleName()).addKeyValue("waited_ms", WAIT_WARNING.toMillis())
          .addKeyValue("gives_up_after_s", noLeaderTimeout.toSeconds())
          .log("metadata operation waiting for a leader: the cluster may have lost its majority");
    }, WAIT_WARNING.toMillis(), TimeUnit.MILLISECONDS);
    RaftClientReply reply;
    try {
      reply = send(() -> client.io().send(message(OpCodec.encode(op))), "submit", Errno.EROFS);
    } finally {
      watch.cancel(false);
      if (warned.get()) {
        log.atInfo().addKeyValue("op", op.getClass().getSimpleName())
            .addKeyValue("waited_ms", (System.nanoTime() - start) / 1_000_000).log("metadata operation finished waiting");
      }
    }
    seen(reply.getLogIndex());
    return ResultCodec.decode(reply.getMessage().getContent().toByteArray());
  }

  /**
   * Proposes {@code op} without waiting: the answer completes the future (a failed operation is a result
   * with an errno; a leader that refused the frame completes it exceptionally with an FsException).
   * Operations this client sends this way are logged in the order they were sent, across leader changes
   * (Ratis' ordered asynchronous requests, retried with their call ids), which {@link #submit} does not
   * promise relative to them. No timeout: while no leader answers, the future waits (see the class comment).
   */
  public CompletableFuture<OpApplier.Result> submitOrdered(MetaOp op) {
    long sentNanos = System.nanoTime();
    CompletableFuture<RaftClientReply> sent = client.async().send(message(OpCodec.encode(op)));
    watchStall(sent, sentNanos, WAIT_WARNING);
    return sent.handle((reply, error) -> {
      answeredAgain();
      try {
        RaftClientReply r = send(() -> {
          if (error != null) {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            throw cause instanceof IOException io ? io : new IOException(cause);
          }
          return reply;
        }, "submit", Errno.EROFS);
        seen(r.getLogIndex());
        return ResultCodec.decode(r.getMessage().getContent().toByteArray());
      } catch (FsException e) {
        throw new CompletionException(e);
      }
    });
  }

  /** Warns when {@code sent} is still unanswered after {@code after}, and again every {@link #STALL_REMINDER}. */
  private void watchStall(CompletableFuture<?> sent, long sentNanos, Duration after) {
    WATCH.schedule(() -> {
      if (sent.isDone()) {
        return;
      }
      // one request speaks for the stall: the first to notice it, which then reminds until it is answered
      boolean first = after == WAIT_WARNING && stalledSince.compareAndSet(0, sentNanos);
      if (first || after == STALL_REMINDER && stalledSince.get() == sentNanos) {
        log.atWarn().addKeyValue("waited_s", (System.nanoTime() - sentNanos) / 1_000_000_000L)
            .log("metadata operations waiting for the cluster: no leader answers (the cluster may have lost its "
                + "majority); this mount's changes wait until one does, and none of them is dropped");
        watchStall(sent, sentNanos, STALL_REMINDER);
      }
    }, after.toMillis(), TimeUnit.MILLISECONDS);
  }

  private void answeredAgain() {
    long since = stalledSince.getAndSet(0);
    if (since != 0) {
      log.atInfo().addKeyValue("waited_s", (System.nanoTime() - since) / 1_000_000_000L)
          .log("metadata operations answered again: the cluster is back");
    }
  }

  /** A linearizable read: it sees every operation that completed before it was sent, from any client. */
  public <R> R query(MetaQuery<R> q) throws FsException {
    RaftClientReply reply = send(() -> client.io().sendReadOnly(message(QueryCodec.encode(q))), "query", Errno.EIO);
    return QueryCodec.decodeAnswer(q, reply.getMessage().getContent().toByteArray());
  }

  /**
   * {@link #query}, nudging the leader with a no-op write when the answer is slow (see {@link #readNudging}): for
   * a mount's barriers, which follow its own writes and are on the path of every open.
   */
  public <R> R queryNudging(MetaQuery<R> q) throws FsException {
    RaftClientReply reply = send(() -> readNudging(message(QueryCodec.encode(q))), "query", Errno.EIO);
    return QueryCodec.decodeAnswer(q, reply.getMessage().getContent().toByteArray());
  }

  /**
   * A linearizable read that logs a {@link MetaOp.Noop} when it has not been answered after
   * {@link #NUDGE_AFTER}. Ratis 3.2.2's ReadIndex asks the followers for a heartbeat and only then notes which
   * heartbeat must be answered (ReadIndexHeartbeats.AppendEntriesListener): when the heartbeat is sent in
   * between, its answer does not count, and the read waits for the next periodic one, half an election
   * timeout (500 ms here; measured on a mount: one barrier in six right after a write). The no-op's entries
   * make the followers answer at once. At most one nudge is in flight.
   */
  private RaftClientReply readNudging(Message m) throws IOException {
    long deadline = System.nanoTime() + noLeaderTimeout.toNanos();
    while (true) {
      try {
        RaftClientReply reply = readNudgingOnce(m, deadline);
        if (reply.getException() instanceof ReadException | reply.getException() instanceof ReadIndexException) {
          throw reply.getException();
        }
        return reply;
      } catch (ReadException | ReadIndexException e) {
        // The leader could not confirm its read index, or its replica did not apply up to it, within the
        // servers' read timeout (a busy or stalled leader): Ratis' blocking client retries these, its async
        // one hands them to the caller. Ask again, as the blocking path does, until the no-leader timeout.
        if (System.nanoTime() - deadline > 0) {
          throw e;
        }
        log.atDebug().addKeyValue("error", e.getMessage()).log("linearizable read not answered in time; asking again");
        try {
          RETRY_SLEEP.sleep();
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("metadata query interrupted");
        }
      }
    }
  }

  /**
   * One ordered read, answered or given up at {@code deadline} (System.nanoTime): Ratis retries it
   * without end, as the stream it is ordered in, and an unanswered one is left to finish in the background.
   */
  private RaftClientReply readNudgingOnce(Message m, long deadline) throws IOException {
    CompletableFuture<RaftClientReply> read = client.async().sendReadOnly(m);
    try {
      try {
        return read.get(NUDGE_AFTER.toMillis(), TimeUnit.MILLISECONDS);
      } catch (TimeoutException slow) {
        if (nudging.compareAndSet(false, true)) {
          client.async().send(message(OpCodec.encode(new MetaOp.Noop())))
              .whenComplete((r, e) -> nudging.set(false));
        }
        return read.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      }
    } catch (TimeoutException e) {
      throw new NoAnswer();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      read.cancel(true);
      throw new InterruptedIOException("metadata query interrupted");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof IOException io) {
        throw io;
      }
      throw new IOException(cause);
    }
  }

  /**
   * A read from {@code server}'s own store once it has applied everything this client has seen (its own
   * writes and earlier reads' positions), without a round to the leader: may miss other clients' latest
   * writes. A server that has not yet heard of that position (its commit index lags by a heartbeat) is
   * asked again until the no-leader timeout.
   */
  public <R> R queryStale(MetaQuery<R> q, RaftPeerId server) throws FsException {
    long deadline = System.nanoTime() + noLeaderTimeout.toNanos();
    while (true) {
      try {
        RaftClientReply reply = send(() -> client.io().sendStaleRead(message(QueryCodec.encode(q)),
            lastSeenIndex.get(), server), "stale query", Errno.EIO);
        return QueryCodec.decodeAnswer(q, reply.getMessage().getContent().toByteArray());
      } catch (FsException e) {
        // the server has not yet learned of a commit this client has seen: it will, within a heartbeat
        if (!causedBy(e, StaleReadException.class) || System.nanoTime() > deadline) {
          throw e;
        }
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new FsException(Errno.EIO, "metadata stale query interrupted");
      }
    }
  }

  private static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
    }
    return false;
  }

  /** How long an operation waits for a leader before it fails. */
  public Duration noLeaderTimeout() {
    return noLeaderTimeout;
  }

  /** The highest log index an answer to this client has come from. */
  public long lastSeenIndex() {
    return lastSeenIndex.get();
  }

  public RaftGroup group() {
    return group;
  }

  private void seen(long index) {
    lastSeenIndex.accumulateAndGet(index, Math::max);
  }

  /** An ordered read that no leader answered within the no-leader timeout. */
  private static final class NoAnswer extends IOException {
    NoAnswer() {
      super("no answer");
    }
  }

  private interface Call {
    RaftClientReply call() throws IOException;
  }

  private RaftClientReply send(Call call, String what, Errno noLeader) throws FsException {
    RaftClientReply reply;
    try {
      reply = call.call();
    } catch (StateMachineException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      if (cause instanceof FsException fe) {
        throw new FsException(fe.errno(), "metadata " + what + " refused: " + fe.detail(), e);
      }
      throw new FsException(Errno.EIO, "metadata " + what + " refused: " + cause.getMessage(), e);
    } catch (NoAnswer e) {
      throw unanswered(noLeader, what, "", e);
    } catch (RaftRetryFailureException e) {
      throw unanswered(noLeader, what, " (" + e.getCause() + ")", e);
    } catch (org.apache.ratis.protocol.exceptions.TimeoutIOException e) {
      // the blocking client's own request timeout: without a leader it can end first (CI saw it on a read)
      throw unanswered(noLeader, what, " (" + e.getMessage() + ")", e);
    } catch (InterruptedIOException e) {
      Thread.currentThread().interrupt();
      throw new FsException(Errno.EIO, "metadata " + what + " interrupted", e);
    } catch (IOException e) {
      throw new FsException(Errno.EIO, "metadata " + what + " failed: " + e, e);
    }
    if (!reply.isSuccess()) {
      throw new FsException(Errno.EIO, "metadata " + what + " failed: " + reply.getException(), reply.getException());
    }
    return reply;
  }

  /** The error for a request no leader answered within the no-leader timeout; {@code detail} follows it. */
  private FsException unanswered(Errno errno, String what, String detail, IOException cause) {
    return new FsException(errno, "metadata cluster unavailable: no leader answered the " + what + " within "
        + noLeaderTimeout.toSeconds() + " s" + detail, cause);
  }

  private static Message message(byte[] bytes) {
    return Message.valueOf(UnsafeByteOperations.unsafeWrap(bytes));
  }

  @Override
  public void close() throws IOException {
    client.close();
  }
}
