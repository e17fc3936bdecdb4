package io.dynamicfs.fuse;

import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;
import io.dynamicfs.fuse.lowlevel.LowLevelMount;
import java.util.LinkedHashSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells the kernel of metadata changes it did not ask for, so a single-node mount can let it cache attributes
 * and names long ({@link FusePreset#SOLE_WRITER_TIMEOUT}).
 *
 * <p>An operation a FUSE request made (on one of the binding's request threads) needs nothing: the kernel
 * updates or drops its own cached attributes when the reply comes. Any other applied operation (the periodic
 * commit, an intent-log fold, a tier move, a test changing the engine directly, a remote admin call) marks
 * the attributes of every inode it touched stale in the kernel ({@code notify_inval_inode}), so the next stat
 * asks the daemon. The notices go from one background thread, coalesced per inode: never from inside apply,
 * where the caller may hold locks a request waits for while the kernel holds the inode.
 *
 * <p>Install it as the engine's apply listener before the engine opens, then mount with
 * {@link MountOptions#withSoleWriter}: the low-level binding attaches its session for as long as it lives.
 * Names are not revalidated: a single node's only namespace changes behind the kernel are orphans reclaimed
 * after their last close, which the kernel no longer holds.
 */
public final class KernelInvalidations implements ApplyListener {
  private static final Logger log = LoggerFactory.getLogger(KernelInvalidations.class);

  /** Where notices go: {@code notify_inval_inode(ino, -1, 0)} on a live session. */
  @FunctionalInterface
  public interface Sink {
    void staleAttributes(long ino);
  }

  private final LinkedHashSet<Long> pending = new LinkedHashSet<>();
  private Sink sink;
  private Thread sender;
  private long sent;

  @Override
  public void applied(MetaOp op, OpApplier.Result result) {
    if (!result.ok() || result.touched().isEmpty() || LowLevelMount.onRequestThread()) {
      return;
    }
    synchronized (this) {
      if (sink == null) {
        return; // nothing mounted: no kernel holds anything
      }
      pending.addAll(result.touched());
      notifyAll();
    }
  }

  /** Starts sending notices to {@code s} (the binding, once its session is up). */
  public synchronized void attach(Sink s) {
    if (sink != null) {
      throw new IllegalStateException("already attached");
    }
    sink = s;
    sender = new Thread(this::send, "fuse-inval");
    sender.setDaemon(true);
    sender.start();
  }

  /** Stops sending (before the session is freed) and waits for a notice in flight; pending ones are dropped. */
  public void detach() {
    Thread t;
    synchronized (this) {
      sink = null;
      pending.clear();
      t = sender;
      sender = null;
      notifyAll();
    }
    if (t != null && t != Thread.currentThread()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Notices sent so far (tests, diagnostics). */
  public synchronized long sent() {
    return sent;
  }

  private void send() {
    while (true) {
      Sink s;
      long[] batch;
      synchronized (this) {
        while (sink != null && pending.isEmpty()) {
          try {
            wait();
          } catch (InterruptedException e) {
            return;
          }
        }
        if (sink == null) {
          return;
        }
        s = sink;
        batch = pending.stream().mapToLong(Long::longValue).toArray();
        pending.clear();
      }
      for (long ino : batch) {
        try {
          s.staleAttributes(ino);
        } catch (RuntimeException e) {
          log.atWarn().addKeyValue("ino", ino).setCause(e).log("kernel attribute invalidation failed");
        }
      }
      synchronized (this) {
        sent += batch.length;
      }
    }
  }
}
