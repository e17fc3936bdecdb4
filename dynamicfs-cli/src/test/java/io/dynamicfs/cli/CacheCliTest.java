package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cache and preset options: bad values get one line and exit 2; good ones mount and persist L2. */
class CacheCliTest {
  @TempDir
  Path tmp;

  private record Result(int code, String err) {}

  private static Result run(String... args) {
    StringWriter err = new StringWriter();
    PrintStream oldErr = System.err;
    ByteArrayOutputStream rawErr = new ByteArrayOutputStream();
    System.setErr(new PrintStream(rawErr, true, StandardCharsets.UTF_8));
    try {
      var cl = Main.commandLine();
      cl.setOut(new PrintWriter(new StringWriter(), true));
      cl.setErr(new PrintWriter(err, true));
      int code = cl.execute(args);
      return new Result(code, err + rawErr.toString(StandardCharsets.UTF_8));
    } finally {
      System.setErr(oldErr);
    }
  }

  private Path dir(String name) throws Exception {
    return Files.createDirectories(tmp.resolve(name));
  }

  private void assertUsageError(String expected, String... extra) throws Exception {
    Path data = dir("data");
    String[] args = Stream.concat(Stream.of("mount", data.toString(), dir("mnt").toString(), "--foreground"),
        Stream.of(extra)).toArray(String[]::new);
    Result r = run(args);
    assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
    assertTrue(r.err().startsWith("dynamicfs: ") && r.err().contains(expected), r.err());
    assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    try (Stream<Path> s = Files.list(data)) {
      assertEquals(0, s.count(), "DATA untouched");
    }
  }

  @Test
  void mount_badAdmission_exit2() throws Exception {
    assertUsageError("unknown cache admission policy 'often'", "--cache-admission", "often");
  }

  @Test
  void mount_badPreset_exit2() throws Exception {
    assertUsageError("unknown FUSE preset 'turbo'", "--fuse-preset", "turbo");
  }

  @Test
  void mount_tinyCacheSize_exit2() throws Exception {
    assertUsageError("--cache-size must be at least 16M", "--cache-dir", tmp.resolve("c").toString(),
        "--cache-size", "1M");
  }

  @Test
  void mount_badCacheSize_exit2() throws Exception {
    Result r = run("mount", dir("data").toString(), dir("mnt").toString(), "--foreground", "--cache-dir",
        tmp.resolve("c").toString(), "--cache-size", "lots");
    assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
  }

  @Test
  void mount_cacheDirInsideMountPoint_exit2() throws Exception {
    assertUsageError("must not be inside the mount point", "--cache-dir", tmp.resolve("mnt/cache").toString());
  }

  @Test
  void mount_cacheDirIsAFile_exit2() throws Exception {
    Path f = Files.writeString(tmp.resolve("file"), "x");
    assertUsageError("is not a directory", "--cache-dir", f.toString());
  }

  @Test
  void mount_withDiskCache_remountServesFromIt_andLogsSummaries() throws Exception {
    Path data = dir("data");
    Path mnt = dir("mnt");
    Path cache = tmp.resolve("cache");
    byte[] b = new byte[3 << 20];
    new Random(5).nextBytes(b);
    String[] opts = {"--cache-dir", cache.toString(), "--cache-size", "64M", "--cache-admission", "always",
        "--fuse-preset", "safe"};
    try (Daemon d = Daemon.start(data, mnt, tmp, opts)) {
      Files.write(mnt.resolve("f"), b);
      d.terminate(); // SIGTERM: clean unmount (the JVM exits 143)
    }
    try (Daemon d = Daemon.start(data, mnt, tmp, opts)) {
      assertArrayEquals(b, Files.readAllBytes(mnt.resolve("f"))); // admits the blocks into L2
      d.terminate(); // SIGTERM: clean unmount (the JVM exits 143)
    }
    try (Stream<Path> s = Files.walk(cache)) {
      assertEquals(3, s.filter(p -> p.getFileName().toString().length() == 64).count(), "3 blocks of 1 MiB");
    }
    try (Daemon d = Daemon.start(data, mnt, tmp, opts)) {
      assertArrayEquals(b, Files.readAllBytes(mnt.resolve("f")));
      d.terminate(); // SIGTERM: clean unmount (the JVM exits 143)
    }
    String log = Files.readString(data.resolve("logs/dynamicfs.log"));
    com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
    java.util.List<com.fasterxml.jackson.databind.JsonNode> events = new java.util.ArrayList<>();
    for (String line : log.lines().toList()) {
      events.add(json.readTree(line));
    }
    assertTrue(events.stream().anyMatch(e -> "safe".equals(e.path("preset").asText())), "preset reached the mount");
    assertEquals(3, events.stream().filter(e -> e.path("message").asText().equals("dynamicfs stopped")
        && e.path("clean").asBoolean()).count());
    com.fasterxml.jackson.databind.JsonNode l2 = events.stream()
        .filter(e -> e.path("message").asText().equals("cache summary") && e.path("cache_level").asText().equals("l2"))
        .reduce((first, second) -> second).orElseThrow();
    assertTrue(l2.path("misses").asLong() == 0 && l2.path("hits").asLong() > 0, l2.toString());
    assertTrue(events.stream().anyMatch(e -> e.path("message").asText().equals("cache summary")
        && e.path("cache_level").asText().equals("l1")));
    assertFalse(events.stream().anyMatch(e -> e.path("level").asText().equals("ERROR")), "no errors logged");
  }
}
