package io.dynamicfs.cluster.mount;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * Lets a mount wait until its metadata replica has applied a log index (its own write, or the leader's
 * commit index at open), so what the engine reads next includes it. Told of every applied op by the
 * replica's state machine; also polls the replica's applied index, since entries without an op (Raft
 * configuration changes) are applied without a listener call.
 */
final class AppliedWaiter implements ApplyListener {
  private final Object lock = new Object();
  private LongSupplier appliedIndex = () -> 0;
  // @GuardedBy("lock"): the highest index the listener has heard of (the state machine's own figure may be
  // updated only after it calls its listeners)
  private long heard;

  private volatile ApplyListener next = ApplyListener.NONE;

  void attach(LongSupplier replicaAppliedIndex) {
    this.appliedIndex = replicaAppliedIndex;
  }

  /** {@code listener} hears of every applied op after this waiter (the mount's journal, for lease recalls). */
  void chain(ApplyListener listener) {
    this.next = listener;
  }

  @Override
  public void applied(MetaOp op, OpApplier.Result result) {
    synchronized (lock) {
      heard = Math.max(heard, result.index());
      lock.notifyAll();
    }
    next.applied(op, result);
  }

  /** Returns once the replica has applied {@code index}; EIO naming the gap after {@code timeout}. */
  void await(long index, Duration timeout) throws FsException {
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (lock) {
      while (heard < index && appliedIndex.getAsLong() < index) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          throw FsException.of(Errno.EIO, "the local metadata replica is at index %d, not yet %d, after %d s",
              appliedIndex.getAsLong(), index, timeout.toSeconds());
        }
        try {
          lock.wait(Math.min(50, Math.max(1, left / 1_000_000)));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new FsException(Errno.EIO, "interrupted while waiting for the metadata replica");
        }
      }
    }
  }
}
