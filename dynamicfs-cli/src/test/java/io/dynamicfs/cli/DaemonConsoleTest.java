package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A background daemon's output lands in its log directory, the JVM's own last words included. */
class DaemonConsoleTest {
  @TempDir
  Path tmp;

  /** The child: takes the console, prints on both streams, logs a warning, then runs out of heap. */
  public static final class Child {
    public static void main(String[] args) throws Exception {
      DaemonConsole.capture(Path.of(args[0]));
      System.out.println("printed on stdout");
      System.err.println("printed on stderr");
      org.slf4j.LoggerFactory.getLogger(Child.class).warn("a logged warning");
      List<byte[]> hog = new ArrayList<>();
      while (true) {
        hog.add(new byte[1 << 20]);
      }
    }
  }

  @Test
  void aDaemonOutOfHeap_leavesTheJvmsMessageInConsoleOut_notWhereItsParentPointed() throws Exception {
    Path logs = Files.createDirectories(tmp.resolve("logs"));
    Path parentSaw = tmp.resolve("parent-saw.txt");
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx48m",
        "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"), Child.class.getName(),
        logs.toString()).redirectErrorStream(true).redirectOutput(parentSaw.toFile()).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child did not exit");
    assertEquals(3, p.exitValue(), Files.readString(parentSaw)); // ExitOnOutOfMemoryError's code
    String console = Files.readString(logs.resolve(DaemonConsole.FILE), StandardCharsets.UTF_8);
    assertTrue(console.contains("pid " + p.pid() + " started"), console);
    assertTrue(console.contains("printed on stdout"), console);
    assertTrue(console.contains("printed on stderr"), console);
    assertTrue(console.contains("Terminating due to java.lang.OutOfMemoryError"), console);
    assertFalse(console.contains("a logged warning"), "log events belong in the log file, not the console: " + console);
    String parent = Files.readString(parentSaw);
    assertFalse(parent.contains("OutOfMemoryError") || parent.contains("printed on"), parent);
  }

  @Test
  void aLargeConsoleFile_isMovedAsideAtTheNextStart() throws Exception {
    Path logs = Files.createDirectories(tmp.resolve("logs"));
    byte[] old = new byte[(int) DaemonConsole.ROTATE_AT + 1];
    java.util.Arrays.fill(old, (byte) 'x');
    Files.write(logs.resolve(DaemonConsole.FILE), old);
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx48m",
        "-XX:+ExitOnOutOfMemoryError", "-cp", System.getProperty("java.class.path"), Child.class.getName(),
        logs.toString()).redirectErrorStream(true).redirectOutput(tmp.resolve("out.txt").toFile()).start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the child did not exit");
    assertEquals(old.length, Files.size(logs.resolve(DaemonConsole.FILE + ".1")));
    String console = Files.readString(logs.resolve(DaemonConsole.FILE), StandardCharsets.UTF_8);
    assertTrue(console.length() < 10_000 && console.contains("Terminating due to"), console);
  }
}
