package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;

/** Log lines: JSON objects with the stable keys as top-level fields, or readable key="value" text. */
class LoggingTest {
  @TempDir
  Path tmp;

  private static List<String> logThrough(Path file, Logging.Format format) throws Exception {
    LoggerContext ctx = new LoggerContext();
    ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    ctx.start();
    ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(Logging.rollingFile(ctx, file, format));
    root.setLevel(Level.INFO);
    Logger log = ctx.getLogger("io.dynamicfs.test.Engine");
    log.atInfo().addKeyValue("op", "write").addKeyValue("path", "/docs/a b.txt").addKeyValue("ino", 42L)
        .addKeyValue("bytes", 4096).addKeyValue("latency_ms", 1.5).log("block committed");
    log.atError().addKeyValue("op", "read").addKeyValue("device", "/data/blocks").addKeyValue("node", "n1")
        .setCause(new java.io.IOException("disk on fire")).log("corrupt record");
    log.atDebug().addKeyValue("op", "lookup").log("below the level: not written");
    ctx.stop();
    return Files.readAllLines(file, StandardCharsets.UTF_8);
  }

  @Test
  void json_eachLineAnObject_withStableKeysOfTheirTypes() throws Exception {
    List<String> lines = logThrough(tmp.resolve("dynamicfs.log"), Logging.Format.JSON);
    assertEquals(2, lines.size(), lines.toString());
    ObjectMapper json = new ObjectMapper();
    List<JsonNode> events = new ArrayList<>();
    for (String line : lines) {
      events.add(json.readTree(line)); // throws if a line is not JSON
    }
    JsonNode a = events.get(0);
    for (String key : List.of("timestamp", "level", "logger", "thread", "message")) {
      assertTrue(a.hasNonNull(key), key + " missing: " + a);
    }
    assertEquals("INFO", a.get("level").asText());
    assertEquals("io.dynamicfs.test.Engine", a.get("logger").asText());
    assertEquals("block committed", a.get("message").asText());
    assertEquals("write", a.get("op").asText());
    assertEquals("/docs/a b.txt", a.get("path").asText());
    assertTrue(a.get("ino").isIntegralNumber(), a.toString());
    assertEquals(42, a.get("ino").asLong());
    assertEquals(4096, a.get("bytes").asLong());
    assertEquals(1.5, a.get("latency_ms").asDouble());
    assertTrue(a.get("timestamp").asText().endsWith("Z"), "UTC timestamps: " + a.get("timestamp"));
    JsonNode b = events.get(1);
    assertEquals("ERROR", b.get("level").asText());
    assertEquals("/data/blocks", b.get("device").asText());
    assertEquals("n1", b.get("node").asText());
    assertTrue(b.get("stack_trace").asText().contains("disk on fire"), b.toString());
    assertTrue(!a.has("@version") && !a.has("level_value"), "no logstash noise: " + a);
  }

  @Test
  void json_rollsBySize_everyLineOfEveryFileParses() throws Exception {
    Path file = tmp.resolve("dynamicfs.log");
    LoggerContext ctx = new LoggerContext();
    ctx.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
    ctx.start();
    ch.qos.logback.classic.Logger root = ctx.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(Logging.rollingFile(ctx, file, Logging.Format.JSON));
    Logger log = ctx.getLogger("io.dynamicfs.test.Rotation");
    String filler = "x".repeat(400);
    for (int i = 0; i < 40_000; i++) { // about 20 MB: past the 10 MB trigger
      log.atInfo().addKeyValue("ino", (long) i).addKeyValue("filler", filler).log("line");
      if (i % 4000 == 3999) {
        Thread.sleep(300); // the size is checked at most every 250 ms: let a check happen on a fast machine
      }
    }
    ctx.stop();
    assertTrue(Files.exists(tmp.resolve("dynamicfs.log.1")), "rolled to dynamicfs.log.1: " + listing());
    assertTrue(Files.size(file) < 11L << 20, "the live file stays near the 10 MB limit: " + Files.size(file));
    ObjectMapper json = new ObjectMapper();
    long lines = 0;
    for (Path p : List.of(file, tmp.resolve("dynamicfs.log.1"))) {
      for (String line : Files.readAllLines(p, StandardCharsets.UTF_8)) {
        assertEquals("line", json.readTree(line).get("message").asText());
        lines++;
      }
    }
    assertTrue(lines > 20_000, "lines kept: " + lines);
  }

  private String listing() throws java.io.IOException {
    StringBuilder b = new StringBuilder();
    try (var s = Files.list(tmp)) {
      s.forEach(p -> b.append(p.getFileName()).append('=').append(p.toFile().length()).append(' '));
    }
    return b.toString();
  }

  @Test
  void text_readableLine_withKeyValuePairs() throws Exception {
    List<String> lines = logThrough(tmp.resolve("dynamicfs.log"), Logging.Format.TEXT);
    assertTrue(lines.get(0).contains("INFO") && lines.get(0).contains("block committed"), lines.get(0));
    assertTrue(lines.get(0).contains("op=\"write\"") && lines.get(0).contains("ino=\"42\"")
        && lines.get(0).contains("path=\"/docs/a b.txt\""), lines.get(0));
    assertTrue(lines.stream().anyMatch(l -> l.contains("disk on fire")), lines.toString());
  }
}
