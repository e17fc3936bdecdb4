package io.dynamicfs.cluster.transport;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * Acknowledges puts once they are durable, with one {@link BlockStore#sync} for every put that finished
 * appending while the previous sync ran (group commit). One thread does the syncs, so the store workers
 * never wait on an fsync and the event loops never touch the disk.
 *
 * <p>Why it is correct: a waiter is added only after its append returned, and a sync starts only after it
 * took the waiters it answers, so every waiter it answers was appended before it started.
 */
final class GroupCommit implements AutoCloseable {
  private final BlockStore store;
  private final Thread thread;
  private final Object lock = new Object();
  // @GuardedBy("lock")
  private List<Consumer<IOException>> waiting = new ArrayList<>();
  // @GuardedBy("lock")
  private boolean closed;

  GroupCommit(BlockStore store, ThreadFactory threads) {
    this.store = store;
    this.thread = threads.newThread(this::run);
    thread.start();
  }

  /**
   * Calls {@code then} on the commit thread once everything put so far is durable, with null, or with the
   * error that kept it from being so.
   */
  void whenDurable(Consumer<IOException> then) {
    synchronized (lock) {
      if (!closed) {
        waiting.add(then);
        lock.notifyAll();
        return;
      }
    }
    then.accept(new FsException(Errno.EIO, "block server is closing"));
  }

  private void run() {
    while (true) {
      List<Consumer<IOException>> batch;
      synchronized (lock) {
        while (waiting.isEmpty() && !closed) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            closed = true; // close() does not interrupt: someone else did; stop after draining
          }
        }
        if (waiting.isEmpty()) {
          return;
        }
        batch = waiting;
        waiting = new ArrayList<>();
      }
      IOException error = null;
      try {
        store.sync();
      } catch (IOException e) {
        error = e;
      } catch (RuntimeException e) {
        error = new FsException(Errno.EIO, "sync failed: " + e, e);
      }
      for (Consumer<IOException> w : batch) {
        w.accept(error);
      }
    }
  }

  /** Answers every waiter (syncing once more if needed), then joins the thread. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    boolean interrupted = false;
    while (thread.isAlive()) {
      try {
        thread.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
