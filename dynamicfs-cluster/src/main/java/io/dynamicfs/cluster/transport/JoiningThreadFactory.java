package io.dynamicfs.cluster.transport;

import io.netty.util.concurrent.DefaultThreadFactory;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;

/**
 * Names threads after a pool and remembers them, so an owner's close can join them: Netty's termination
 * future completes when an event loop stops, a moment before its thread has exited.
 */
final class JoiningThreadFactory implements ThreadFactory {
  private final ThreadFactory names;
  private final List<Thread> threads = new CopyOnWriteArrayList<>();

  JoiningThreadFactory(String pool) {
    this.names = new DefaultThreadFactory(pool);
  }

  @Override
  public Thread newThread(Runnable r) {
    Thread t = names.newThread(r);
    threads.add(t);
    return t;
  }

  /** Waits for every thread made so far to exit; keeps the interrupt flag if interrupted meanwhile. */
  void joinAll() {
    boolean interrupted = false;
    for (Thread t : threads) {
      while (t.isAlive()) {
        try {
          t.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
