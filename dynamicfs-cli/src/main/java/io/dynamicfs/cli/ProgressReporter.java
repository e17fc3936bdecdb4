package io.dynamicfs.cli;

import io.dynamicfs.core.api.ProgressListener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Shows how long work (fsck, warmup, gc, and the scrub and tier moves to come) is getting on, on stderr so
 * that stdout keeps only results: on a terminal a bar redrawn in place, otherwise plain lines, one per
 * phase and then at most one per {@link Lines#EVERY_NANOS} or per tenth of the work, so logs stay short.
 * Use it as the {@link ProgressListener} of the work and close it when done.
 */
public abstract class ProgressReporter implements ProgressListener, AutoCloseable {
  /** What the counts are. */
  public enum Unit { BYTES, ITEMS }

  final String label;
  final Unit unit;
  final PrintStream out;

  ProgressReporter(String label, Unit unit, PrintStream out) {
    this.label = label;
    this.unit = unit;
    this.out = out;
  }

  /** A bar when stderr is a terminal (a console is attached), plain lines otherwise. */
  public static ProgressReporter create(String label, Unit unit) {
    return System.console() != null ? new Bar(label, unit, System.err, terminalWidth())
        : new Lines(label, unit, System.err, System::nanoTime);
  }

  private static int terminalWidth() {
    try {
      return Math.max(40, Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "80")));
    } catch (NumberFormatException e) {
      return 80;
    }
  }

  /** Ends the display (the bar's line is finished). */
  @Override
  public abstract void close();

  String amount(long n) {
    return unit == Unit.BYTES ? bytes(n) : Long.toString(n);
  }

  public static String bytes(double n) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (n >= 1024 && u < units.length - 1) {
      n /= 1024;
      u++;
    }
    return u == 0 ? String.format(Locale.ROOT, "%.0f %s", n, units[u])
        : String.format(Locale.ROOT, "%.1f %s", n, units[u]);
  }

  static int percent(long done, long total) {
    return total <= 0 ? 0 : (int) Math.min(100, done * 100 / total);
  }

  /** Redraws {@code label phase [=====>    ]  45%  1.2 GiB / 3.0 GiB} on one line. */
  static final class Bar extends ProgressReporter {
    private final int width;
    private long lastDraw;
    private String lastPhase;
    private boolean drawn;

    Bar(String label, Unit unit, PrintStream out, int width) {
      super(label, unit, out);
      this.width = width;
    }

    @Override
    public synchronized void progress(String phase, long done, long total) {
      long now = System.nanoTime();
      if (phase.equals(lastPhase) && now - lastDraw < 50_000_000L && done < total) {
        return;
      }
      if (lastPhase != null && !phase.equals(lastPhase)) {
        out.print('\n');
      }
      lastPhase = phase;
      lastDraw = now;
      out.print('\r' + render(phase, done, total));
      out.flush();
      drawn = true;
    }

    String render(String phase, long done, long total) {
      String head = label + " " + phase + " ";
      String tail = total > 0 ? String.format(Locale.ROOT, " %3d%%  %s / %s", percent(done, total), amount(done),
          amount(total)) : "  " + amount(done);
      int barWidth = Math.max(10, width - head.length() - tail.length() - 3);
      StringBuilder b = new StringBuilder(head).append('[');
      int filled = total > 0 ? (int) (barWidth * Math.min(1.0, (double) done / total)) : 0;
      for (int i = 0; i < barWidth; i++) {
        b.append(i < filled ? '=' : i == filled && total > 0 ? '>' : ' ');
      }
      String line = b.append(']').append(tail).toString();
      return line.length() >= width ? line.substring(0, width - 1) : line + " ".repeat(width - 1 - line.length());
    }

    @Override
    public synchronized void close() {
      if (drawn) {
        out.print('\n');
        out.flush();
      }
    }
  }

  /** Plain lines: {@code warmup: warm 40% (1.2 GiB of 3.0 GiB)}. */
  static final class Lines extends ProgressReporter {
    static final long EVERY_NANOS = 5_000_000_000L;
    private final java.util.function.LongSupplier clock;
    private String lastPhase;
    private long lastAt;
    private int lastTenth = -1;
    private boolean finished;

    Lines(String label, Unit unit, PrintStream out, java.util.function.LongSupplier clock) {
      super(label, unit, out);
      this.clock = clock;
    }

    @Override
    public synchronized void progress(String phase, long done, long total) {
      long now = clock.getAsLong();
      int tenth = total > 0 ? (int) Math.min(10, done * 10 / total) : -1;
      boolean newPhase = !phase.equals(lastPhase);
      if (!newPhase && tenth == lastTenth && now - lastAt < EVERY_NANOS) {
        return;
      }
      if (!newPhase && finished) {
        return; // 100% of this phase already said
      }
      lastPhase = phase;
      lastAt = now;
      lastTenth = tenth;
      finished = total > 0 && done >= total;
      if (total > 0) {
        out.printf(Locale.ROOT, "%s: %s %d%% (%s of %s)%n", label, phase, percent(done, total), amount(done),
            amount(total));
      } else if (done > 0) {
        out.printf(Locale.ROOT, "%s: %s (%s)%n", label, phase, amount(done));
      } else {
        out.printf(Locale.ROOT, "%s: %s%n", label, phase);
      }
      out.flush();
    }

    @Override
    public void close() {}
  }
}
