package io.dynamicfs.policy.act;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy's audit log: one JSON object a line ({@link AuditEntry}), appended and synced line by line to
 * {@code DATA/policy/audit.jsonl}; never rewritten. At {@value #ROTATE_BYTES} bytes the file becomes
 * {@code audit.jsonl.1} (the previous one is dropped) and a new one starts. Every line is also a structured
 * log event ({@code policy.action}).
 *
 * <p>Opening reads both files back, oldest first, into {@link MoveHistory} (cooldown and budget survive a
 * restart) and writes an {@code interrupted} line for every move that started and never ended: the daemon
 * died during it (the tier move itself is crash-safe; this only records it). A line cut short by a crash is
 * skipped and logged.
 *
 * <p>Thread-safe: appends are serialised on {@code this}.
 */
public final class AuditLog implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(AuditLog.class);
  static final String FILE = "audit.jsonl";
  static final long ROTATE_BYTES = 64L << 20;

  private static final ObjectMapper JSON = new ObjectMapper()
      .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
      .setSerializationInclusion(JsonInclude.Include.NON_NULL)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  private final Path file;
  private final MoveHistory history;
  // @GuardedBy("this")
  private FileChannel out;
  // @GuardedBy("this")
  private long size;

  private AuditLog(Path file, MoveHistory history) throws IOException {
    this.file = file;
    this.history = history;
    openChannel();
  }

  /** Opens (or starts) the log in {@code dir}, reading what it holds into a fresh {@link MoveHistory}. */
  public static AuditLog open(Path dir, long nowMillis) throws IOException {
    Files.createDirectories(dir);
    Path file = dir.resolve(FILE);
    MoveHistory h = new MoveHistory();
    Map<Long, AuditEntry> open = new LinkedHashMap<>();
    Consumer<AuditEntry> feed = e -> {
      if ("started".equals(e.outcome())) {
        open.put(e.ino(), e);
      } else {
        if (!"refused".equals(e.outcome())) {
          open.remove(e.ino());
        }
        h.add(e);
      }
    };
    read(dir.resolve(FILE + ".1"), feed);
    read(file, feed);
    AuditLog a = new AuditLog(file, h);
    for (AuditEntry s : open.values()) {
      a.append(new AuditEntry(java.time.Instant.ofEpochMilli(nowMillis).toString(), nowMillis, "interrupted",
          s.trigger(), s.path(), s.ino(), s.action(), s.from(), s.to(), s.bytes(), s.expectedBytes(), s.score(),
          s.prediction(), s.decider(), s.rule(), null, null, null, null,
          "the daemon stopped during this move (started " + s.time() + "); the tier move is crash-safe: each "
              + "block is on one tier or the other, the next plan moves the rest"));
    }
    return a;
  }

  /** Every entry held (the rotated file first), oldest first. */
  public static List<AuditEntry> readAll(Path dir) throws IOException {
    List<AuditEntry> all = new ArrayList<>();
    read(dir.resolve(FILE + ".1"), all::add);
    read(dir.resolve(FILE), all::add);
    return all;
  }

  private static void read(Path f, Consumer<AuditEntry> to) throws IOException {
    if (!Files.exists(f)) {
      return;
    }
    try (BufferedReader r = Files.newBufferedReader(f, StandardCharsets.UTF_8)) {
      int n = 0;
      for (String line = r.readLine(); line != null; line = r.readLine()) {
        n++;
        if (line.isBlank()) {
          continue;
        }
        try {
          to.accept(JSON.readValue(line, AuditEntry.class));
        } catch (IOException e) {
          log.atWarn().setMessage("audit log line unreadable, skipped").addKeyValue("event", "policy.audit.bad_line")
              .addKeyValue("file", f.toString()).addKeyValue("line", n).addKeyValue("error", e.getMessage()).log();
        }
      }
    }
  }

  private void openChannel() throws IOException {
    boolean torn = false;
    if (Files.exists(file) && Files.size(file) > 0) { // a line cut short by a crash?
      try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ)) {
        ByteBuffer last = ByteBuffer.allocate(1);
        in.read(last, in.size() - 1);
        torn = last.get(0) != '\n';
      }
    }
    out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    size = out.size();
    if (torn) { // end it, so the next line is a line of its own
      out.write(ByteBuffer.wrap(new byte[] {'\n'}));
      out.force(false);
      size++;
    }
  }

  public MoveHistory history() {
    return history;
  }

  public Path file() {
    return file;
  }

  /** Appends {@code e} (synced before this returns), adds it to the history and logs it. */
  public synchronized void append(AuditEntry e) throws IOException {
    byte[] line = (JSON.writeValueAsString(e) + "\n").getBytes(StandardCharsets.UTF_8);
    if (size > 0 && size + line.length > ROTATE_BYTES) {
      out.close();
      Files.move(file, file.resolveSibling(FILE + ".1"), StandardCopyOption.REPLACE_EXISTING);
      openChannel();
    }
    ByteBuffer b = ByteBuffer.wrap(line);
    while (b.hasRemaining()) {
      out.write(b);
    }
    out.force(false);
    size += line.length;
    if (!"started".equals(e.outcome())) {
      history.add(e);
    }
    var ev = ("failed".equals(e.outcome()) || "interrupted".equals(e.outcome()) ? log.atWarn() : log.atInfo())
        .setMessage("policy action " + e.outcome()).addKeyValue("event", "policy.action")
        .addKeyValue("outcome", e.outcome()).addKeyValue("trigger", e.trigger()).addKeyValue("path", e.path())
        .addKeyValue("ino", e.ino()).addKeyValue("action", e.action()).addKeyValue("from", e.from())
        .addKeyValue("to", e.to()).addKeyValue("bytes", e.bytes()).addKeyValue("decider", e.decider())
        .addKeyValue("rule", e.rule());
    if (e.score() != null) {
      ev = ev.addKeyValue("score", e.score());
    }
    if (e.failedChecks() != null) {
      ev = ev.addKeyValue("failed_checks", String.join("; ", e.failedChecks()));
    }
    if (e.movedBytes() != null) {
      ev = ev.addKeyValue("moved_bytes", e.movedBytes()).addKeyValue("duration_ms", e.durationMillis());
    }
    if (e.error() != null) {
      ev = ev.addKeyValue("error", e.error());
    }
    ev.log();
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
