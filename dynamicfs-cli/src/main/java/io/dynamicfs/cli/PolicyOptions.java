package io.dynamicfs.cli;

import io.dynamicfs.core.engine.AccessObserver;
import io.dynamicfs.policy.mount.MountTracker;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import picocli.CommandLine.Option;

/**
 * The mount's policy engine options: the access tracker (on by default, its tables and ring log under
 * DATA/policy, or the state directory of a cluster mount).
 */
final class PolicyOptions {

  @Option(names = "--policy-tracking", paramLabel = "on/off", defaultValue = "on",
      description = "Track every read and write (per file and per block, cache hits included) for the policy "
          + "engine, kept in DATA/policy across mounts (default ${DEFAULT-VALUE}). See docs/policy.md.")
  String tracking;

  @Option(names = "--policy-track-files", paramLabel = "N", defaultValue = "100000",
      description = "Files the tracker keeps figures for; colder ones are evicted (default ${DEFAULT-VALUE}; "
          + "about 160 bytes of memory each).")
  int trackFiles;

  @Option(names = "--policy-track-extents", paramLabel = "N", defaultValue = "250000",
      description = "Blocks the tracker keeps figures for; colder ones are evicted (default ${DEFAULT-VALUE}; "
          + "about 130 bytes of memory each).")
  int trackExtents;

  /** What the mount gets: the tracker (null when off, {@code off} saying why). */
  record Opened(MountTracker tracker, String off) {
    AccessObserver observer() {
      return tracker == null ? AccessObserver.NONE : tracker;
    }
  }

  /** Why the options cannot be used (checked before a background child starts), or null. */
  String check() {
    if (!tracking.equals("on") && !tracking.equals("off")) {
      return "--policy-tracking must be on or off, not '" + tracking + "'";
    }
    if (trackFiles < 8 || trackFiles > (1 << 29)) {
      return "--policy-track-files must be 8.." + (1 << 29) + ": " + trackFiles;
    }
    if (trackExtents < 8 || trackExtents > (1 << 29)) {
      return "--policy-track-extents must be 8.." + (1 << 29) + ": " + trackExtents;
    }
    return null;
  }

  /** Opens the tracker in {@code policyDir} unless tracking is off. */
  Opened open(Path policyDir, int blockSize, Collection<String> tiers, Logger log) {
    if (tracking.equals("off")) {
      return new Opened(null, "--policy-tracking off");
    }
    try {
      MountTracker.Settings s = MountTracker.Settings.defaults().withCapacities(trackFiles, trackExtents);
      return new Opened(MountTracker.open(policyDir, blockSize, s), null);
    } catch (IOException | RuntimeException e) {
      // statistics are an optimisation: a mount goes on without them
      log.atWarn().setMessage("access tracking is off: its directory cannot be used")
          .addKeyValue("event", "policy.tracker.unavailable").addKeyValue("dir", policyDir.toString())
          .addKeyValue("error", String.valueOf(e.getMessage())).log();
      return new Opened(null, "cannot use " + policyDir + ": " + e.getMessage());
    }
  }

  List<String> childArguments() {
    List<String> a = new ArrayList<>(List.of("--policy-tracking", tracking, "--policy-track-files",
        Integer.toString(trackFiles), "--policy-track-extents", Integer.toString(trackExtents)));
    return a;
  }

  void putConfig(Map<String, Object> c) {
    c.put("policy_tracking", tracking.toLowerCase(Locale.ROOT));
  }
}
