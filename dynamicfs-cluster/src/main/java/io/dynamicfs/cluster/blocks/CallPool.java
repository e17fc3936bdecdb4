package io.dynamicfs.cluster.blocks;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads a node store fans requests out on when it is not given an executor. The calls they run block on
 * the network (each within its RemoteBlockStore timeout), not on the CPU, so a few more threads than copies
 * times concurrent writers is right even on two cores; idle ones time out. Tasks never wait for other tasks,
 * so the unbounded queue cannot deadlock: the callers that submitted them wait instead.
 */
final class CallPool {
  private CallPool() {}

  static ExecutorService create(String name, int threads) {
    AtomicInteger n = new AtomicInteger();
    ThreadFactory f = r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
    ThreadPoolExecutor e = new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS,
        new LinkedBlockingQueue<>(), f);
    e.allowCoreThreadTimeOut(true);
    return e;
  }

  /** Shuts {@code e} down and waits (up to 15 s: longer than a request timeout) for running calls to end. */
  static void shutdown(ExecutorService e) {
    e.shutdown();
    try {
      if (!e.awaitTermination(15, TimeUnit.SECONDS)) {
        e.shutdownNow();
      }
    } catch (InterruptedException ie) {
      e.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
