package io.dynamicfs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamicfs.cli.admin.AdminRoutes;
import io.dynamicfs.cli.admin.AdminServer;
import io.dynamicfs.cli.admin.NodeEndpoints;
import io.dynamicfs.cli.metrics.DaemonMetrics;
import io.dynamicfs.cli.metrics.NodeMetrics;
import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What cluster-init and cluster-join share: run the node attached (--foreground) or as a background child,
 * log to DATA/logs/dynamicfs.log, write DATA/run/node.json (pid, node id, address) once up, and stop
 * cleanly on SIGTERM.
 */
final class NodeDaemon {
  /** Starts (makes, joins or restarts) the node once logging is set up. */
  interface Starter {
    ClusterNode start() throws IOException;
  }

  /** Longest a stop (SIGTERM, or after leaving the cluster) may take before the JVM is halted. */
  private static final Duration STOP_LIMIT = Duration.ofSeconds(30);

  private NodeDaemon() {}

  static int runForeground(Path data, OperationsOptions ops, Path readyFile, Starter starter) {
    try {
      Files.createDirectories(data.resolve("logs"));
    } catch (IOException e) {
      return fail(readyFile, "cannot create " + data.resolve("logs") + ": " + e.getMessage());
    }
    Logging.configureDaemon(data.resolve("logs"), ops, readyFile);
    Logger log = LoggerFactory.getLogger(NodeDaemon.class);
    long started = System.currentTimeMillis();
    ClusterNode node;
    try {
      node = starter.start();
    } catch (IOException | RuntimeException e) {
      log.atError().addKeyValue("error", String.valueOf(e.getMessage())).log("node did not start");
      return fail(readyFile, e instanceof FsException fe ? fe.detail() : String.valueOf(e.getMessage()));
    }
    DaemonMetrics metrics = new DaemonMetrics();
    NodeMetrics.bind(node, metrics.registry());
    AdminServer admin;
    try {
      admin = AdminServer.start(ops.adminAddress, data.resolve("run"),
          NodeEndpoints.register(new AdminRoutes(), node, started, VersionProvider.version()), metrics::scrape,
          VersionProvider.version());
    } catch (IOException | RuntimeException e) {
      log.atError().addKeyValue("error", String.valueOf(e.getMessage())).log("node admin server did not start");
      try {
        node.close();
      } catch (IOException closing) {
        e.addSuppressed(closing);
      }
      metrics.close();
      return fail(readyFile, e instanceof FsException fe ? fe.detail() : String.valueOf(e.getMessage()));
    }
    Path run = data.resolve("run").resolve("node.json");
    try {
      Files.createDirectories(run.getParent());
      Map<String, Object> info = new LinkedHashMap<>();
      info.put("pid", ProcessHandle.current().pid());
      info.put("node_id", node.file().nodeId());
      info.put("listen", node.file().listen().raftAddress());
      info.put("block_listen", node.file().listen().blockAddressText());
      info.put("cluster_id", node.file().clusterId().toString());
      info.put("voter", node.file().voter());
      info.put("admin_port", admin.port());
      Files.writeString(run, new ObjectMapper().writeValueAsString(info) + "\n");
    } catch (IOException e) {
      log.atWarn().addKeyValue("error", e.getMessage()).log("cannot write run/node.json");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      long start = System.nanoTime();
      Thread watchdog = stopWatchdog(Thread.currentThread(), node, log);
      try {
        admin.close();
        node.close();
        metrics.close();
        Files.deleteIfExists(run);
      } catch (IOException | RuntimeException e) {
        log.atError().addKeyValue("error", String.valueOf(e)).log("node did not stop cleanly");
      }
      watchdog.interrupt();
      log.atInfo().addKeyValue("node", node.file().nodeId())
          .addKeyValue("stop_ms", (System.nanoTime() - start) / 1_000_000).log("node stopped");
      stopped.countDown();
    }, "dfs-node-shutdown"));
    log.atInfo().addKeyValue("node", node.file().nodeId()).addKeyValue("listen", node.file().listen().raftAddress())
        .addKeyValue("pid", ProcessHandle.current().pid()).log("node running");
    node.removed().thenRun(() -> {
      // 'cluster leave' marked this node REMOVED: nothing here is needed any more. Exit from a thread of
      // our own (the shutdown hook joins the node's threads, one of which completed this future).
      Thread exit = new Thread(() -> {
        log.atInfo().addKeyValue("node", node.file().nodeId()).log("node left the cluster; stopping");
        System.exit(0);
      }, "dfs-node-left");
      exit.start();
    });
    // after the start, so bad input is refused at once; before 'ok', so a new node is warm
    DaemonWarmup.runNode(fs -> fs, node.token().credentials(), node.blockSize());
    if (readyFile != null) {
      report(readyFile, "ok " + ProcessHandle.current().pid());
    } else {
      System.out.println("node " + node.file().nodeId() + " of cluster " + node.file().clusterId() + " is running on "
          + node.file().listen() + " (token: " + data.resolve("cluster/token") + ")");
    }
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /**
   * Halts the JVM if stopping takes longer than {@link #STOP_LIMIT}: a node must go away when told to (a
   * node that left the cluster stops itself, and a supervisor restarting it would bring it back). The status
   * is 0 for a node that left (nothing of it is needed), 1 otherwise; the line logged names where the stop hung.
   */
  private static Thread stopWatchdog(Thread stopping, ClusterNode node, Logger log) {
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(STOP_LIMIT.toMillis());
      } catch (InterruptedException done) {
        return;
      }
      StringBuilder where = new StringBuilder();
      for (StackTraceElement e : stopping.getStackTrace()) {
        where.append(e).append('\n');
      }
      log.atError().addKeyValue("node", node.file().nodeId()).addKeyValue("waited_s", STOP_LIMIT.toSeconds())
          .addKeyValue("stuck_at", where.toString()).log("node did not stop in time; halting");
      Runtime.getRuntime().halt(node.removed().isDone() ? 0 : 1);
    }, "dfs-node-stop-watchdog");
    t.setDaemon(true);
    t.start();
    return t;
  }

  static int fail(Path readyFile, String message) {
    System.err.println("dynamicfs: " + message);
    if (readyFile != null) {
      report(readyFile, "error: " + message);
    }
    return Main.EXIT_USAGE;
  }

  private static void report(Path readyFile, String line) {
    try {
      Files.writeString(readyFile, line + "\n", StandardCharsets.UTF_8);
    } catch (IOException e) {
      System.err.println("dynamicfs: cannot write " + readyFile + ": " + e.getMessage());
    }
  }

  /** The node daemon's JVM options (scripts/dynamicfs gives a foreground node the same). */
  static final List<String> NODE_JVM = List.of("-Xmx512m", "-XX:+UseG1GC", "-XX:G1HeapRegionSize=4m", Daemonizer.JIT,
      Daemonizer.ON_OOM);

  /** A background child running {@code args} with {@code --foreground --ready-file}. */
  static Daemonizer.Daemon daemon(List<String> args) {
    return new Daemonizer.Daemon() {
      /**
       * 4 MiB G1 regions: a block frame (1 MiB of data and its header) is then an ordinary object and not a
       * humongous one, which G1 allocates region by region in the old generation (a region of its own for each
       * block received), fresh memory to fault in and a marking cycle to start. Measured on a 3-node loopback
       * cluster writing 1 GiB (docs/benchmarks.md, session 15): the nodes used 7-27 % less CPU.
       */
      @Override
      public List<String> jvmOptions() {
        return NODE_JVM;
      }

      @Override
      public List<String> childArguments(Path ready) {
        List<String> a = new java.util.ArrayList<>(args);
        a.addAll(List.of("--foreground", "--ready-file", ready.toString()));
        return a;
      }

      @Override
      public String what() {
        return "the node process";
      }
    };
  }
}
