package io.dynamicfs.cluster.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The block transport's warm-up: real calls through a scratch server, nothing left behind, never a failed start. */
class BlockPathWarmupTest {
  private static final ClusterCredentials CREDS =
      new ClusterCredentials(UUID.fromString("7b0e3c52-1f4d-4c1a-9a55-2d8e6f0a4b13"), "warmup-test-token");

  @TempDir Path tmp;

  @Test
  void callsTheScratchServer_untilEnoughRan_thenLeavesNoDirectoryAndNoThread() throws Exception {
    Set<Thread> before = Thread.getAllStackTraces().keySet();

    long ops = BlockPathWarmup.run(tmp, CREDS, 1 << 20, Duration.ofSeconds(60));

    // every call is a put, get, range read, contains or delete answered by the server (a failed one ends the run
    // with 0), and the run goes on to the minimum unless its budget ends first
    assertTrue(ops >= BlockPathWarmup.MIN_OPS, ops + " calls");
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(), left.toList(), "the scratch store is deleted");
    }
    Thread.sleep(200); // Netty's event loops end just after their group's close returns
    List<String> leftThreads = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> !before.contains(t) && t.isAlive() && t.getName().startsWith("dfs-")).map(Thread::getName)
        .toList();
    assertEquals(List.of(), leftThreads, "the scratch server's and client's threads ended with them");
  }

  @Test
  void aScratchPlaceThatCannotBeMade_isLoggedAndRunsNothing() throws Exception {
    Path notADirectory = Files.writeString(tmp.resolve("file"), "x");

    assertEquals(0, BlockPathWarmup.run(notADirectory, CREDS, 1 << 20, Duration.ofSeconds(5)));
    assertEquals("x", Files.readString(notADirectory), "what was there is left alone");
  }

  @Test
  void noBudget_runsNothing() throws Exception {
    assertEquals(0, BlockPathWarmup.run(tmp, CREDS, 1 << 20, Duration.ZERO));
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(), left.toList());
    }
  }
}
