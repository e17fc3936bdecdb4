package io.dynamicfs.cli.storage;

import io.dynamicfs.core.engine.TierMove;
import io.dynamicfs.core.storage.Device;
import io.dynamicfs.core.storage.Scrubber;
import io.dynamicfs.core.storage.Tier;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/** Human-readable tables for the storage commands. */
final class Reports {
  private Reports() {}

  static String bytes(long b) {
    if (b < 0) {
      return "?";
    }
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = b;
    int u = 0;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? b + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  static void scrub(PrintStream out, Scrubber.Report r) {
    double secs = Math.max(0.001, r.took().toMillis() / 1000.0);
    out.printf(Locale.ROOT, "scrub%s: %d blocks, %s read in %.1f s (%s/s)%n", r.cancelled() ? " (cancelled)" : "",
        r.blocks(), bytes(r.bytes()), secs, bytes((long) (r.bytes() / secs)));
    out.printf(Locale.ROOT, "  healthy %d, repaired %d, degraded %d, unrepairable %d%n", r.healthy(), r.repaired(),
        r.degraded(), r.unrepairable());
    out.printf(Locale.ROOT, "  %-8s %-8s %10s %10s  %s%n", "TIER", "HEALTH", "BAD", "REPAIRED", "DEVICE");
    for (Scrubber.DeviceReport d : r.devices()) {
      out.printf(Locale.ROOT, "  %-8s %-8s %10d %10d  %s%n", d.tier(), d.health(), d.badRecords(), d.repairs(),
          d.device());
    }
    for (String f : r.unrepairableFiles()) {
      out.println("  unrepairable: " + f);
    }
  }

  static void tiers(PrintStream out, List<Tier.Status> tiers) {
    out.printf(Locale.ROOT, "%-8s %-12s %-7s %10s %10s %10s %9s %6s %8s  %s%n", "TIER", "REDUNDANCY", "HEALTH",
        "CAPACITY", "FREE", "USED", "RECORDS", "BAD", "REPAIRED", "DEVICE");
    for (Tier.Status t : tiers) {
      for (Device.DeviceStatus d : t.devices()) {
        out.printf(Locale.ROOT, "%-8s %-12s %-7s %10s %10s %10s %9d %6d %8d  %s%s%n", t.name(), t.redundancy(),
            d.health(), bytes(d.capacityBytes()), bytes(d.freeBytes()), bytes(d.usedBytes()), d.records(),
            d.badRecords(), d.repairs(), d.directory(), d.problem() == null ? "" : "  (" + d.problem() + ")");
      }
      if (t.degradedWrites() > 0) {
        out.printf(Locale.ROOT, "%-8s %d degraded writes since mount (run 'dynamicfs scrub' once devices are back)%n",
            t.name(), t.degradedWrites());
      }
    }
  }

  static void move(PrintStream out, String tier, TierMove.Result r) {
    out.printf(Locale.ROOT, "tier move: %d files, %d blocks, %d moved to '%s' (%s)%n", r.files(), r.blocks(),
        r.blocksMoved(), tier, bytes(r.bytesMoved()));
  }
}
