package io.dynamicfs.cluster.node;

import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;

/** What the cluster tests share: free addresses for nodes and polling until a replica has caught up. */
public final class ClusterTests {
  private ClusterTests() {}

  /** An endpoint on 127.0.0.1 whose port and the next (the block server's) are free now. */
  public static Endpoint freeEndpoint() throws IOException {
    for (int i = 0; i < 50; i++) {
      int port;
      try (ServerSocket s = new ServerSocket(0)) {
        port = s.getLocalPort();
      }
      try (ServerSocket next = new ServerSocket(port + 1)) {
        return new Endpoint("127.0.0.1", port);
      } catch (IOException busy) {
        // try another
      }
    }
    throw new IOException("no two free adjacent ports");
  }

  /** A condition that may throw FsException while not yet true (e.g. ENOENT on a lagging replica). */
  public interface Check {
    boolean ok() throws Exception;
  }

  /** Polls {@code c} every 20 ms until it holds; fails after {@code within}. */
  public static void waitFor(Duration within, Check c) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      try {
        if (c.ok()) {
          return;
        }
      } catch (FsException e) {
        // not yet
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + within.toSeconds() + " s");
      }
      Thread.sleep(20);
    }
  }
}
