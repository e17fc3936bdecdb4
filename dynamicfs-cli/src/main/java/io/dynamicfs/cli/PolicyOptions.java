package io.dynamicfs.cli;

import io.dynamicfs.core.engine.AccessObserver;
import io.dynamicfs.policy.mount.MountTracker;
import io.dynamicfs.policy.rules.PolicyRules;
import io.dynamicfs.policy.rules.RulesException;
import java.io.IOException;
import java.nio.file.Files;
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
 * DATA/policy, or the state directory of a cluster mount) and the rules file.
 */
final class PolicyOptions {
  static final String RULES_FILE = "rules.yaml";

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

  @Option(names = "--policy-rules", paramLabel = "FILE",
      description = "The policy rules (YAML; see docs/policy.md). Default: DATA/policy/rules.yaml when it "
          + "exists. A file that does not validate refuses the mount. Check one with 'dynamicfs policy check'.")
  Path rules;

  @Option(names = "--policy-execute", paramLabel = "on/off", defaultValue = "off",
      description = "Let the policy engine move files between tiers on its own: plan and execute every "
          + "--policy-interval, at the rules' budget, pausing while the foreground is busy; every move and "
          + "refusal goes to DATA/policy/audit.jsonl (default ${DEFAULT-VALUE}: moves run on 'dynamicfs policy "
          + "apply' only). See docs/policy.md.")
  String execute;

  @Option(names = "--policy-interval", paramLabel = "DURATION", defaultValue = "5m",
      description = "How often the automatic executor plans and moves (with --policy-execute on): a number "
          + "with s, m or h (default ${DEFAULT-VALUE}).")
  String interval;

  @Option(names = "--policy-horizon", paramLabel = "DURATION", defaultValue = "1h",
      description = "What the hotness model predicts for tier placement: a read within this time. Also the length "
          + "of a training window: the model trained on this mount's accesses faces its gate at the start of each "
          + "window, from the third on (a number with s, m or h, 1s to 24h; default ${DEFAULT-VALUE}).")
  String horizon;

  /**
   * What the mount gets: the rules in force, where they are read again on a reload ({@code rulesFile}, which
   * must exist when {@code explicit}), the tier names they may name (null: not checked), and the tracker (null
   * when off, {@code off} saying why).
   */
  record Opened(PolicyRules rules, Path rulesFile, boolean explicit, Collection<String> tiers, MountTracker tracker,
      String off) {
    AccessObserver observer() {
      return tracker == null ? AccessObserver.NONE : tracker;
    }

    /** Lets {@code policy} read the rules again on {@code dynamicfs policy reload}. */
    io.dynamicfs.policy.mount.MountPolicy reloadable(io.dynamicfs.policy.mount.MountPolicy policy) {
      policy.rulesFrom(rulesFile, explicit, tiers);
      return policy;
    }
  }

  /** Why the options cannot be used (checked before a background child starts), or null. */
  String check() {
    if (!tracking.equals("on") && !tracking.equals("off")) {
      return "--policy-tracking must be on or off, not '" + tracking + "'";
    }
    if (!execute.equals("on") && !execute.equals("off")) {
      return "--policy-execute must be on or off, not '" + execute + "'";
    }
    if (horizon() == null) {
      return "--policy-horizon must be a duration of 1s to 24h such as 30m or 1h, not '" + horizon + "'";
    }
    if (interval() == null) {
      return "--policy-interval must be a duration of 10s to 24h such as 30s, 5m or 1h, not '" + interval + "'";
    }
    if (trackFiles < 8 || trackFiles > (1 << 29)) {
      return "--policy-track-files must be 8.." + (1 << 29) + ": " + trackFiles;
    }
    if (trackExtents < 8 || trackExtents > (1 << 29)) {
      return "--policy-track-extents must be 8.." + (1 << 29) + ": " + trackExtents;
    }
    if (rules != null) {
      try {
        PolicyRules.read(rules, null); // the tiers are checked once DATA is open
      } catch (RulesException e) {
        return "--policy-rules " + e.in(rules.toString());
      }
    }
    return null;
  }

  /**
   * Reads the rules ({@code --policy-rules}, else {@code policyDir/rules.yaml} if present) against
   * {@code tiers} (null: names not checked), then opens the tracker in {@code policyDir} unless tracking is
   * off. A bad rules file is an IllegalArgumentException with the one line to show.
   */
  Opened open(Path policyDir, int blockSize, Collection<String> tiers, Logger log) {
    Path file = rules != null ? rules : policyDir.resolve(RULES_FILE);
    PolicyRules r = PolicyRules.none();
    if (rules != null || Files.isRegularFile(file)) {
      try {
        r = PolicyRules.read(file, tiers);
      } catch (RulesException e) {
        throw new IllegalArgumentException((rules != null ? "--policy-rules " : "") + e.in(file.toString()));
      }
      log.atInfo().setMessage("policy rules loaded").addKeyValue("event", "policy.rules.loaded")
          .addKeyValue("path", file.toString()).addKeyValue("rules", r.rules().size()).log();
    }
    if (tracking.equals("off")) {
      return new Opened(r, file, rules != null, tiers, null, "--policy-tracking off");
    }
    try {
      MountTracker.Settings s = MountTracker.Settings.defaults().withCapacities(trackFiles, trackExtents)
          .withHorizon(horizon());
      return new Opened(r, file, rules != null, tiers, MountTracker.open(policyDir, blockSize, s), null);
    } catch (IOException | RuntimeException e) {
      // statistics are an optimisation: a mount goes on without them
      log.atWarn().setMessage("access tracking is off: its directory cannot be used")
          .addKeyValue("event", "policy.tracker.unavailable").addKeyValue("dir", policyDir.toString())
          .addKeyValue("error", String.valueOf(e.getMessage())).log();
      return new Opened(r, file, rules != null, tiers, null, "cannot use " + policyDir + ": " + e.getMessage());
    }
  }

  /** The automatic executor's interval, or null when {@code --policy-interval} is not one (10 s to 24 h). */
  java.time.Duration interval() {
    return duration(interval, java.time.Duration.ofSeconds(10));
  }

  /** The model's horizon, or null when {@code --policy-horizon} is not one (1 s to 24 h). */
  java.time.Duration horizon() {
    return duration(horizon, java.time.Duration.ofSeconds(1));
  }

  /** {@code text} as a number of s, m or h from {@code min} to 24 h, else null. */
  private static java.time.Duration duration(String text, java.time.Duration min) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,9})(s|m|h)").matcher(text.trim());
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    java.time.Duration d = switch (m.group(2)) {
      case "s" -> java.time.Duration.ofSeconds(n);
      case "m" -> java.time.Duration.ofMinutes(n);
      default -> java.time.Duration.ofHours(n);
    };
    return d.compareTo(min) < 0 || d.compareTo(java.time.Duration.ofHours(24)) > 0 ? null : d;
  }

  /** The automatic executor's interval when it is on, else null. */
  java.time.Duration autoInterval() {
    return execute.equals("on") ? interval() : null;
  }

  List<String> childArguments() {
    List<String> a = new ArrayList<>(List.of("--policy-execute", execute, "--policy-interval", interval,
        "--policy-horizon", horizon,
        "--policy-tracking", tracking, "--policy-track-files",
        Integer.toString(trackFiles), "--policy-track-extents", Integer.toString(trackExtents)));
    if (rules != null) {
      a.add("--policy-rules");
      a.add(rules.toAbsolutePath().toString());
    }
    return a;
  }

  void putConfig(Map<String, Object> c) {
    c.put("policy_tracking", tracking.toLowerCase(Locale.ROOT));
    c.put("policy_execute", execute.toLowerCase(Locale.ROOT));
    c.put("policy_interval", interval);
    c.put("policy_horizon", horizon);
    if (rules != null) {
      c.put("policy_rules", rules.toAbsolutePath().toString());
    }
  }
}
