package io.dynamicfs.cluster.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.meta.ApplyListener;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.OpApplier;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;

/**
 * Three (or more) real Ratis servers over gRPC on 127.0.0.1, each with its own storage under a test's
 * temporary directory. Servers can be stopped (closed, as after a crash their storage stays), wiped and
 * started again. {@link #close} stops every server still running, keeping the first failure.
 */
final class TestCluster implements AutoCloseable {
  static final int BLOCK_SIZE = 64 << 10;

  private final Path root;
  private final List<RaftNodeConfig> configs = new ArrayList<>();
  private final RaftGroup group;
  private final RaftMetaServer[] servers;
  private final Listener[] listeners;

  /**
   * Counts applied operations and remembers the lowest log index applied since start; while {@link #gate} is
   * set, the replica's apply waits on it after each operation (a stalled state machine).
   */
  static final class Listener implements ApplyListener {
    final AtomicLong applied = new AtomicLong();
    final AtomicLong minIndex = new AtomicLong(Long.MAX_VALUE);
    volatile CountDownLatch gate;

    @Override
    public void applied(MetaOp op, OpApplier.Result result) {
      applied.incrementAndGet();
      minIndex.accumulateAndGet(result.index(), Math::min);
      CountDownLatch g = gate;
      if (g != null) {
        try {
          g.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  TestCluster(Path root, int n, UnaryOperator<RaftNodeConfig.Builder> tune) throws IOException {
    this.root = root;
    List<RaftPeer> peers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      RaftNodeConfig c = tune.apply(RaftNodeConfig.builder("n" + i, "127.0.0.1", freePort(), root.resolve("n" + i))
          .threads(2)).build();
      configs.add(c);
      peers.add(c.peer());
    }
    this.group = RaftNodeConfig.group("test-" + root.getFileName(), peers);
    this.servers = new RaftMetaServer[n];
    this.listeners = new Listener[n];
  }

  static TestCluster start(Path root, int n, UnaryOperator<RaftNodeConfig.Builder> tune) throws IOException {
    TestCluster c = new TestCluster(root, n, tune);
    try {
      for (int i = 0; i < n; i++) {
        c.start(i);
      }
    } catch (IOException | RuntimeException e) {
      c.close();
      throw e;
    }
    return c;
  }

  RaftGroup group() {
    return group;
  }

  int size() {
    return servers.length;
  }

  RaftMetaServer server(int i) {
    return servers[i];
  }

  Listener listener(int i) {
    return listeners[i];
  }

  Path storage(int i) {
    return configs.get(i).storageDir();
  }

  void start(int i) throws IOException {
    listeners[i] = new Listener();
    servers[i] = RaftMetaServer.start(configs.get(i), group, BLOCK_SIZE, listeners[i]);
  }

  /** Stops server {@code i} (its storage stays); returns the last index it had applied. */
  long stop(int i) throws IOException {
    RaftMetaServer s = servers[i];
    servers[i] = null;
    s.close();
    return s.stateMachine().appliedIndex();
  }

  void wipe(int i) throws IOException {
    CheckpointStorage.deleteTree(storage(i));
  }

  /** The index of the current leader, waiting up to {@code timeout} for one. */
  int awaitLeader(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      for (int i = 0; i < servers.length; i++) {
        if (servers[i] != null && servers[i].isLeader()) {
          return i;
        }
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no leader within " + timeout);
  }

  /** Waits until every running server has applied the same index and it stops moving; returns it. */
  long awaitConverged(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    long last = -1;
    int stable = 0;
    while (System.nanoTime() < deadline) {
      long min = Long.MAX_VALUE;
      long max = Long.MIN_VALUE;
      for (RaftMetaServer s : servers) {
        if (s != null) {
          long a = s.stateMachine().appliedIndex();
          min = Math.min(min, a);
          max = Math.max(max, a);
        }
      }
      if (min == max && min == last) {
        if (++stable >= 3) {
          return min;
        }
      } else {
        stable = 0;
      }
      last = min == max ? min : -1;
      Thread.sleep(100);
    }
    StringBuilder b = new StringBuilder();
    for (RaftMetaServer s : servers) {
      if (s != null) {
        b.append(s.id()).append('=').append(s.stateMachine().appliedIndex()).append(' ');
      }
    }
    throw new AssertionError("replicas did not converge within " + timeout + ": " + b);
  }

  /** Every record of replica {@code i}, one line each (family, key, value in hex), in key order. */
  List<String> records(int i) throws FsException {
    return servers[i].stateMachine().read(TestCluster::records);
  }

  static List<String> records(MetadataStore store) throws FsException {
    List<String> out = new ArrayList<>();
    HexFormat hex = HexFormat.of();
    store.forEachRecord((family, key, value) -> out.add(family + " " + hex.formatHex(key) + " " + hex.formatHex(value)));
    return out;
  }

  /** Asserts every running replica holds byte-identical records. */
  void assertReplicasIdentical() throws FsException {
    List<String> first = null;
    int firstIndex = -1;
    for (int i = 0; i < servers.length; i++) {
      if (servers[i] == null) {
        continue;
      }
      List<String> r = records(i);
      if (first == null) {
        first = r;
        firstIndex = i;
      } else if (!first.equals(r)) {
        assertEquals(String.join("\n", first), String.join("\n", r),
            "replica n" + i + " differs from n" + firstIndex);
        fail("replica n" + i + " differs from n" + firstIndex);
      }
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Stops every running server, in parallel (each gRPC shutdown waits), keeping the first failure. */
  @Override
  public void close() throws IOException {
    List<java.util.concurrent.CompletableFuture<Void>> closing = new ArrayList<>();
    for (int i = 0; i < servers.length; i++) {
      RaftMetaServer s = servers[i];
      servers[i] = null;
      if (s != null) {
        closing.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
          try {
            s.close();
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }));
      }
    }
    IOException first = null;
    for (var f : closing) {
      try {
        f.join();
      } catch (java.util.concurrent.CompletionException e) {
        Throwable cause = e.getCause() instanceof UncheckedIOException u ? u.getCause() : e.getCause();
        if (first == null) {
          first = cause instanceof IOException io ? io : new IOException(cause);
        } else {
          first.addSuppressed(cause);
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
