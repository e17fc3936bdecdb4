package io.dynamicfs.cli.storage;

import java.io.PrintStream;
import java.util.Locale;

/** Progress of a long storage command: a rewritten line on a terminal, a line every few seconds otherwise. */
final class ProgressLines {
  private final PrintStream out;
  private final String what;
  private final boolean terminal = System.console() != null;
  private long last;

  ProgressLines(PrintStream out, String what) {
    this.out = out;
    this.what = what;
  }

  void update(long done, long total, String detail) {
    long now = System.nanoTime();
    boolean end = done >= total;
    if (!end && now - last < (terminal ? 200_000_000L : 5_000_000_000L)) {
      return;
    }
    last = now;
    int pct = total <= 0 ? 100 : (int) (done * 100 / total);
    if (terminal) {
      int width = 30;
      int fill = pct * width / 100;
      out.printf(Locale.ROOT, "\r%s [%s%s] %3d%% %s", what, "#".repeat(fill), " ".repeat(width - fill), pct, detail);
      if (end) {
        out.println();
      }
    } else {
      out.printf(Locale.ROOT, "%s: %d%% (%d/%d) %s%n", what, pct, done, total, detail);
    }
    out.flush();
  }
}
