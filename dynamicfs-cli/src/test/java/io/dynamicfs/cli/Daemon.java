package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.fuse.FuseMount;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A real `dynamicfs mount --foreground` in a separate JVM, for tests that kill it or talk to it. */
final class Daemon implements AutoCloseable {
  final Process process;
  final Path mnt;
  final Path log;

  private Daemon(Process process, Path mnt, Path log) {
    this.process = process;
    this.mnt = mnt;
    this.log = log;
  }

  static Daemon start(Path data, Path mnt, Path work, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("mount", data.toString(), mnt.toString()));
    args.addAll(List.of(extra));
    return startWith(args, mnt, work, "-Xmx1g");
  }

  /**
   * Any long-running `dynamicfs` command ({@code args}, to which --foreground and --ready-file are added) in
   * a separate JVM with {@code heap}; returns once it reports ready. {@code mnt} is detached on close, if any.
   */
  static Daemon startWith(List<String> args, Path mnt, Path work, String heap) throws Exception {
    return startWith(args, mnt, work, List.of(heap), java.util.Map.of());
  }

  /** As {@link #startWith(List, Path, Path, String)}, with JVM options {@code jvm} and {@code env} added. */
  static Daemon startWith(List<String> args, Path mnt, Path work, List<String> jvm, java.util.Map<String, String> env)
      throws Exception {
    Path ready = work.resolve("ready-" + System.nanoTime());
    Path log = work.resolve("daemon-" + System.nanoTime() + ".log");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(jvm);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(args);
    cmd.addAll(List.of("--foreground", "--ready-file", ready.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().putAll(env);
    Process p = pb.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (Files.exists(ready)) {
        String s = Files.readString(ready, StandardCharsets.UTF_8);
        if (s.startsWith("ok")) {
          return new Daemon(p, mnt, log);
        }
        if (s.startsWith("error")) {
          p.waitFor(10, TimeUnit.SECONDS);
          throw new AssertionError("daemon failed: " + s + Files.readString(log));
        }
      }
      if (!p.isAlive()) {
        throw new AssertionError("daemon exited " + p.exitValue() + ": " + Files.readString(log));
      }
      Thread.sleep(50);
    }
    p.destroyForcibly();
    throw new AssertionError("daemon did not mount in 60 s: " + Files.readString(log));
  }

  /** SIGKILL, then detach the dead mount so the directory is usable again. */
  void kill9() throws Exception {
    process.destroyForcibly();
    assertTrue(process.waitFor(30, TimeUnit.SECONDS));
    detach(mnt);
  }

  static void detach(Path mnt) throws Exception {
    if (mnt == null) {
      return;
    }
    for (int i = 0; i < 50 && FuseMount.isMounted(mnt); i++) {
      new ProcessBuilder("fusermount", "-u", "-z", mnt.toString()).redirectErrorStream(true).start().waitFor();
      if (FuseMount.isMounted(mnt)) {
        new ProcessBuilder("umount", "-l", mnt.toString()).redirectErrorStream(true).start().waitFor();
        Thread.sleep(100);
      }
    }
  }

  /** Clean stop: SIGTERM, as an init system would send. */
  int terminate() throws Exception {
    process.destroy();
    assertTrue(process.waitFor(120, TimeUnit.SECONDS), "daemon did not stop on SIGTERM");
    return process.exitValue();
  }

  @Override
  public void close() throws Exception {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
    detach(mnt);
  }

  /** Starts any other `dynamicfs` command in a separate JVM, output (both streams) into {@code log}. */
  static Process command(Path log, String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g",
        "-cp", System.getProperty("java.class.path"), Main.class.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  String output() throws IOException {
    return Files.readString(log);
  }

  /**
   * What a test prints when this process did not do what it should: its last {@code lines} lines of output,
   * of {@code logFile} (a node's DATA/logs/dynamicfs.log; may be null), and its threads (jstack) if alive.
   */
  String diagnostics(Path logFile, int lines) {
    StringBuilder b = new StringBuilder();
    b.append("\n--- process ").append(process.pid()).append(process.isAlive() ? " (alive)" : " (exited "
        + process.exitValue() + ")").append(", last output:\n").append(tail(log, lines));
    if (logFile != null) {
      b.append("\n--- last lines of ").append(logFile).append(":\n").append(tail(logFile, lines));
    }
    if (process.isAlive()) {
      b.append("\n--- threads:\n").append(threadDump());
    }
    return b.toString();
  }

  /** jstack of the process (from this JVM's JDK), or why there is none. */
  String threadDump() {
    try {
      Path out = Files.createTempFile("jstack-", ".txt");
      try {
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jstack").toString(),
            Long.toString(process.pid())).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          return "(jstack did not finish in 30 s)";
        }
        return Files.readString(out);
      } finally {
        Files.deleteIfExists(out);
      }
    } catch (IOException e) {
      return "(no thread dump: " + e + ")";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "(interrupted)";
    }
  }

  /** The last {@code lines} lines of {@code file}, or why not. */
  static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException | RuntimeException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
