package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Progress: plain lines that stay few, and a bar that fits the terminal. */
class ProgressReporterTest {
  @Test
  void lines_onePerPhaseAndTenth_finalHundredOnce() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    long[] now = {0};
    ProgressReporter.Lines p = new ProgressReporter.Lines("warmup", ProgressReporter.Unit.BYTES,
        new PrintStream(buf, true, StandardCharsets.UTF_8), () -> now[0]);
    p.progress("scan", 0, 0);
    for (long done = 0; done <= 1000; done++) {
      p.progress("warm", done << 20, 1000L << 20);
    }
    p.progress("warm", 1000L << 20, 1000L << 20); // repeated end: not said again
    List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals("warmup: scan", lines.get(0));
    assertEquals("warmup: warm 0% (0 B of 1000.0 MiB)", lines.get(1));
    assertEquals("warmup: warm 100% (1000.0 MiB of 1000.0 MiB)", lines.get(lines.size() - 1));
    assertEquals(12, lines.size(), "a phase line, then 0%, 10% ... 100%: " + lines);
  }

  @Test
  void lines_slowWork_saysSomethingEveryFiveSeconds() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    long[] now = {0};
    ProgressReporter.Lines p = new ProgressReporter.Lines("gc", ProgressReporter.Unit.ITEMS,
        new PrintStream(buf, true, StandardCharsets.UTF_8), () -> now[0]);
    p.progress("compact", 0, 1000);
    now[0] += 6_000_000_000L;
    p.progress("compact", 3, 1000); // still 0%, but 6 s later
    now[0] += 1_000_000_000L;
    p.progress("compact", 4, 1000); // 1 s later: quiet
    List<String> lines = buf.toString(StandardCharsets.UTF_8).lines().toList();
    assertEquals(List.of("gc: compact 0% (0 of 1000)", "gc: compact 0% (3 of 1000)"), lines);
  }

  @Test
  void bar_fitsTheWidth_andFillsWithProgress() {
    ProgressReporter.Bar b = new ProgressReporter.Bar("fsck", ProgressReporter.Unit.ITEMS,
        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), 60);
    String half = b.render("verify", 50, 100);
    assertEquals(59, half.length(), half);
    assertTrue(half.startsWith("fsck verify [") && half.contains(" 50%  50 / 100"), half);
    long filled = half.chars().filter(c -> c == '=').count();
    String full = b.render("verify", 100, 100);
    assertTrue(full.chars().filter(c -> c == '=').count() > filled && full.contains("100%"), full);
  }

  @Test
  void bytes_humanUnits() {
    assertEquals("0 B", ProgressReporter.bytes(0));
    assertEquals("1.5 KiB", ProgressReporter.bytes(1536));
    assertEquals("3.0 GiB", ProgressReporter.bytes(3L << 30));
  }
}
