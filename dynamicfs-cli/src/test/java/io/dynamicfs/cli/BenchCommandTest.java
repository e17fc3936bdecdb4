package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.dynamicfs.fuse.FuseMount;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dynamicfs bench} on a plain directory and on a real DynamicFS mount, in CI-sized settings. */
class BenchCommandTest {
  private static final List<String> PHASES = List.of("big-write", "big-read", "small-write", "small-read",
      "create", "stat", "unlink");

  @TempDir
  Path tmp;

  record Result(int code, String out, String err) {}

  static Result run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cl = Main.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  private static String[] small(Path dir, String... more) {
    List<String> a = new ArrayList<>(List.of("bench", dir.toString(), "--threads", "2", "--big-file-size", "3M",
        "--io-size", "1M", "--small-files", "5", "--small-file-size", "64K", "--meta-files", "25"));
    a.addAll(List.of(more));
    return a.toArray(String[]::new);
  }

  private static List<String> list(Path p) throws Exception {
    try (Stream<Path> s = Files.list(p)) {
      return s.map(x -> x.getFileName().toString()).toList();
    }
  }

  @Test
  void bench_plainDirectory_json_everyPhaseCountedAndCleanedUp() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("plain"));
    Result r = run(small(dir, "--json"));
    assertEquals(0, r.code(), r.toString());
    JsonNode root = new ObjectMapper().readTree(r.out());
    assertEquals(dir.toString(), root.get("dir").asText());
    assertEquals(2, root.get("settings").get("threads").asInt());
    assertTrue(root.has("load_average_before") && root.has("page_cache_eviction"), r.out());
    List<String> names = new ArrayList<>();
    for (JsonNode p : root.get("phases")) {
      names.add(p.get("phase").asText());
      assertTrue(p.get("seconds").asDouble() > 0, p.toString());
      assertTrue(p.get("ops_per_s").asDouble() > 0, p.toString());
      assertTrue(p.get("latency_p99_ms").asDouble() >= p.get("latency_p50_ms").asDouble(), p.toString());
    }
    assertEquals(PHASES, names);
    JsonNode bigWrite = root.get("phases").get(0);
    assertEquals(6, bigWrite.get("ops").asLong(), "3 one-MiB writes on each of 2 threads");
    assertEquals(6L << 20, bigWrite.get("bytes").asLong());
    assertEquals(10L * (64 << 10), root.get("phases").get(3).get("bytes").asLong());
    assertEquals(50, root.get("phases").get(5).get("ops").asLong());
    assertEquals(List.of(), list(dir), "bench must remove everything it created");
  }

  @Test
  void bench_dynamicFsMount_table_thenFsckClean() throws Exception {
    Path data = Files.createDirectories(tmp.resolve("data"));
    Path mnt = Files.createDirectories(tmp.resolve("mnt"));
    Result r;
    try (Daemon d = Daemon.start(data, mnt, tmp, "--cache-memory", "16M")) {
      assertTrue(FuseMount.isMounted(mnt));
      r = run(small(mnt));
      assertEquals(List.of(), list(mnt), "bench must remove everything it created");
      assertEquals(0, run("umount", mnt.toString()).code());
      assertTrue(d.process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
      assertEquals(0, d.process.exitValue(), d.output());
    }
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().contains("fuse.dynamicfs"), r.out());
    for (String phase : PHASES) {
      assertTrue(r.out().lines().anyMatch(l -> l.startsWith(phase + " ")), phase + " missing in\n" + r.out());
    }
    assertEquals(0, run("fsck", data.toString()).code(), "fsck after bench");
  }

  @Test
  void bench_badInput_exit2_oneLine() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("d"));
    Result r = run("bench", dir.toString(), "--threads", "0");
    assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
    assertTrue(r.err().startsWith("dynamicfs: --threads must be between 1 and 256"), r.err());
    r = run("bench", dir.toString(), "--io-size", "1000");
    assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
    assertTrue(r.err().contains("multiple of 4K"), r.err());
    r = run("bench", tmp.resolve("missing").toString());
    assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
    assertTrue(r.err().contains("is not a directory"), r.err());
    r = run("bench", dir.toString(), "--small-file-size", "lots");
    assertEquals(Main.EXIT_USAGE, r.code(), r.toString());
    assertTrue(r.err().contains("is not a size"), r.err());
    assertEquals(List.of(), list(dir));
  }

  @Test
  void bench_skippedPhases_onlyMetadata() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("m"));
    Result r = run("bench", dir.toString(), "--big-file-size", "0", "--small-files", "0", "--meta-files", "10",
        "--json");
    assertEquals(0, r.code(), r.toString());
    List<String> names = new ArrayList<>();
    new ObjectMapper().readTree(r.out()).get("phases").forEach(p -> names.add(p.get("phase").asText()));
    assertEquals(List.of("create", "stat", "unlink"), names);
  }

  @Test
  void bench_terminatedMidRun_stillRemovesItsFiles() throws Exception {
    Path dir = Files.createDirectories(tmp.resolve("killed"));
    Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
        System.getProperty("java.class.path"), Main.class.getName(), "bench", dir.toString(), "--big-file-size", "4G")
        .redirectErrorStream(true).redirectOutput(tmp.resolve("bench.out").toFile()).start();
    try {
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
      while (list(dir).isEmpty() && p.isAlive() && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(1, list(dir).size(), "the run's work directory: " + Files.readString(tmp.resolve("bench.out")));
      Thread.sleep(300); // into the big write
      p.destroy(); // SIGTERM, as Ctrl-C or a timeout would
      assertTrue(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS));
    } finally {
      p.destroyForcibly();
    }
    assertEquals(List.of(), list(dir), "a terminated bench must still remove what it wrote: "
        + Files.readString(tmp.resolve("bench.out")));
  }
}
