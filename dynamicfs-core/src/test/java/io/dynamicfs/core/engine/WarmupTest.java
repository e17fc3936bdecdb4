package io.dynamicfs.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileSystem;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The start-up warm-up: what it runs, through which layers, and that it leaves nothing and never fails a start. */
class WarmupTest {
  @TempDir Path tmp;

  @Test
  void runsEveryRequestKindThroughTheGivenLayers_countsThem_andLeavesNothingBehind() throws IOException {
    Map<String, AtomicLong> calls = new ConcurrentHashMap<>();
    java.util.Set<Thread> before = Thread.getAllStackTraces().keySet();
    long ops = Warmup.run(tmp, Duration.ofSeconds(20), fs -> counting(fs, calls));

    long counted = calls.values().stream().mapToLong(AtomicLong::get).sum();
    assertEquals(counted, ops, "every call the warm-up made went through the layers it was given: " + calls);
    for (String kind : List.of("mkdir", "lookup", "create", "write", "flush", "release", "getattr", "open", "read",
        "setattr", "rename", "fsync", "readdir", "unlink", "rmdir")) {
      assertTrue(calls.containsKey(kind), kind + " was never run: " + calls);
    }
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(), left.toList(), "the scratch filesystem is deleted");
    }
    List<String> engineThreads = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> !before.contains(t) && t.isAlive() && t.getName().startsWith("dfs-")).map(Thread::getName)
        .toList();
    assertEquals(List.of(), engineThreads, "the scratch engine's threads ended with it");
  }

  @Test
  void aScratchPlaceThatCannotBeMade_isLoggedAndRunsNothing() throws IOException {
    Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
    Map<String, AtomicLong> calls = new ConcurrentHashMap<>();

    assertEquals(0, Warmup.run(notADirectory, Duration.ofSeconds(5), fs -> counting(fs, calls)));
    assertEquals(Map.of(), calls);
    assertEquals("x", Files.readString(notADirectory), "what was there is left alone");
  }

  @Test
  void noBudget_runsNothing_andLeavesNothingBehind() throws IOException {
    Map<String, AtomicLong> calls = new ConcurrentHashMap<>();

    assertEquals(0, Warmup.run(tmp, Duration.ZERO, fs -> counting(fs, calls)));
    try (Stream<Path> left = Files.list(tmp)) {
      assertEquals(List.of(), left.toList());
    }
  }

  /** {@code fs} with every call counted by method name (a failing call counts too: it reached the layer). */
  private static FileSystem counting(FileSystem fs, Map<String, AtomicLong> calls) {
    return (FileSystem) Proxy.newProxyInstance(FileSystem.class.getClassLoader(), new Class<?>[] {FileSystem.class},
        (proxy, method, args) -> {
          calls.computeIfAbsent(method.getName(), k -> new AtomicLong()).incrementAndGet();
          try {
            return method.invoke(fs, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
