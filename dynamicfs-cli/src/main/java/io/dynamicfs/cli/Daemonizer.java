package io.dynamicfs.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs a daemon (a mount, a cluster node) in a detached child JVM (a new session via setsid when
 * available) and returns once the child reports that it is up, or prints the child's error. The JVM cannot
 * fork, so the child is this same program started again with {@code --foreground --ready-file}.
 */
public final class Daemonizer {
  /**
   * Every daemon runs C1-compiled code only. C2's compiling took a third of each daemon's CPU for minutes
   * after a start (profiled on a 3-node cluster and its mount), and with C1 alone every phase of the shared
   * benchmark was faster on a single-node mount and on a cluster, and used a quarter less CPU
   * (docs/storage.md § JIT; figures in docs/benchmarks.md, "Session 12"). The one loop that needed C2,
   * SHA-256, runs in native code (core's Sha256).
   */
  static final String JIT = "-XX:TieredStopAtLevel=1";

  /**
   * A daemon whose heap ran out exits. Left running, it has threads that died mid-task and goes on half
   * alive: a mount that ran out of heap while catching up with the cluster's log spun two cores for minutes
   * and never served, where an exit leaves a mount point that answers ENOTCONN and a node that Raft and the
   * replication manager see as down.
   */
  static final String ON_OOM = "-XX:+ExitOnOutOfMemoryError";

  /** What to start: the child's JVM options and its arguments (with the ready file it reports to). */
  public interface Daemon {
    List<String> jvmOptions();

    List<String> childArguments(Path ready);

    /** What the daemon is, for messages ("the mount process", "the node process"). */
    String what();
  }

  private final Daemon command;

  public Daemonizer(Daemon command) {
    this.command = command;
  }

  Daemonizer(MountCommand mount) {
    this(new Daemon() {
      @Override
      public List<String> jvmOptions() {
        return MountCommand.daemonJvmOptions(mount.cacheMemory());
      }

      @Override
      public List<String> childArguments(Path ready) {
        return mount.childArguments(ready);
      }

      @Override
      public String what() {
        return "the mount process";
      }
    });
  }

  /**
   * The {@code dfs.*} system properties this command was started with, as {@code -D} options for the
   * daemon: the tuning knobs (e.g. {@code -Ddfs.fuse.spinUs}) reach the process that uses them when they
   * are given to {@code dynamicfs} through {@code DFS_JAVA_OPTS}. Sorted, so the command line is stable.
   */
  static List<String> forwardedProperties(java.util.Properties props) {
    List<String> out = new ArrayList<>();
    for (String k : new java.util.TreeSet<>(props.stringPropertyNames())) {
      if (k.startsWith("dfs.")) {
        out.add("-D" + k + "=" + props.getProperty(k));
      }
    }
    return out;
  }

  public int start() throws IOException, InterruptedException {
    Path ready = Files.createTempFile("dynamicfs-ready-", ".txt");
    Path output = Files.createTempFile("dynamicfs-daemon-", ".out");
    try {
      Files.delete(ready);
      List<String> cmd = new ArrayList<>();
      if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
        cmd.add("/usr/bin/setsid");
      }
      cmd.add(ProcessHandle.current().info().command().orElse("java"));
      cmd.addAll(command.jvmOptions());
      cmd.addAll(forwardedProperties(System.getProperties()));
      cmd.add("-cp");
      cmd.add(System.getProperty("java.class.path"));
      cmd.add(Main.class.getName());
      cmd.addAll(command.childArguments(ready));
      Process child = new ProcessBuilder(cmd)
          .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .redirectErrorStream(true)
          .redirectOutput(output.toFile())
          .start();
      long deadline = System.nanoTime() + 180_000_000_000L;
      while (System.nanoTime() < deadline) {
        Optional<String> line = readLine(ready);
        if (line.isPresent() && line.get().startsWith("ok")) {
          return 0;
        }
        if (line.isPresent() && line.get().startsWith("error: ")) {
          child.waitFor();
          System.err.println("dynamicfs: " + line.get().substring(7));
          return child.exitValue() == 0 ? Main.EXIT_USAGE : child.exitValue();
        }
        if (!child.isAlive()) {
          System.err.println("dynamicfs: " + command.what() + " exited (code " + child.exitValue() + ") before it was up:");
          System.err.print(tail(output));
          System.err.println("  (once it knows its log directory, a daemon writes its output to console.out there)");
          return 1;
        }
        Thread.sleep(50);
      }
      child.destroy();
      System.err.println("dynamicfs: " + command.what() + " did not come up within 180 s");
      return 1;
    } finally {
      Files.deleteIfExists(ready);
      Files.deleteIfExists(output);
    }
  }

  private static Optional<String> readLine(Path p) throws IOException {
    if (!Files.exists(p)) {
      return Optional.empty();
    }
    String s = Files.readString(p, StandardCharsets.UTF_8);
    return s.endsWith("\n") ? Optional.of(s.trim()) : Optional.empty();
  }

  private static String tail(Path p) throws IOException {
    List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
    StringBuilder sb = new StringBuilder();
    for (String l : lines.subList(Math.max(0, lines.size() - 20), lines.size())) {
      sb.append("  ").append(l).append('\n');
    }
    return sb.toString();
  }
}
