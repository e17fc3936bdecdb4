package io.dynamicfs.policy.mount;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.Inode;
import io.dynamicfs.core.meta.MetadataStore;
import io.dynamicfs.core.meta.PathIndex;
import io.dynamicfs.core.storage.Device;
import io.dynamicfs.core.storage.Redundancy;
import io.dynamicfs.core.storage.Tier;
import io.dynamicfs.policy.model.Features;
import io.dynamicfs.policy.act.MoveHistory;
import io.dynamicfs.policy.model.Predictor;
import io.dynamicfs.policy.rules.PolicyRules;
import io.dynamicfs.policy.track.AccessTable;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Builds a {@link Plan}: the moves of whole files between tiers the engine would make now, with the safety
 * checks each passed or failed. Nothing is executed.
 *
 * <p><b>Targets.</b> For every regular file with stored blocks: a hard rule (never_move holds it, pin names
 * its tier), else a preference whose condition holds, else the ranking. The ranking fills the fast tier
 * (the first: where new data lands) with the files of the highest score (the decider's P(read within the
 * horizon, 1 h by default), or an uncalibrated heuristic's score, for the file's hottest block) that fit into its room (free space, plus what the
 * ranked files hold there already, less the headroom and what rule moves take); the others belong on the
 * slow tier (the last). Middle tiers are left to the rules.
 *
 * <p><b>Checks</b>, in the order moves would run (rule moves, then demotions, which make room, then
 * promotions by score): the schedule; the budget (moves per hour, bytes per hour at the MB/s given); free
 * space less the headroom on the target tier, counting the moves accepted before; the file is not open; it
 * did not change within the minimum residency (the rules' {@code limits}, default 10 min); the cooldown (not
 * moved within the rules' cooldown, default 1 h, by the audit log's {@link MoveHistory}); the budget counts the
 * moves the log shows in the last hour; for ranked moves the hysteresis (a promotion must beat the best
 * file left out by a margin, a demotion lose to the worst file kept by one); for ranked promotions the
 * benefit (the bytes expected to be read in the next hour, from the 1 h counter and the mean access size, at
 * least {@value #BENEFIT_FACTOR} times the bytes to move). A demotion has no benefit check of its own: it is
 * proposed only when the fast tier's room is short, to make room for files ranked above it.
 */
final class Planner {
  static final double BENEFIT_FACTOR = 1.5;
  /** Hysteresis margins: on a probability (as the evaluation's tier), on a heuristic's log-count score. */
  static final double MARGIN_PROBABILITY = 0.02;
  static final double MARGIN_SCORE = 0.1;

  private final DynamicFileSystem fs;
  private final MountTracker tracker;
  private final PolicyRules rules;
  private final Predictor predictor;
  private final long horizonMillis;
  private final MoveHistory history;
  private final long now;
  private final ZoneId zone;
  private final DiskSpace disks;
  /** The paths {@link #plan} looked up, kept for the warm part of the same plan (null: none looked up). */
  private PathIndex paths;

  /**
   * Capacity and usable bytes of a tier's devices' filesystems, each filesystem counted once, unscaled:
   * {@link #DISKS} asks the operating system; tests give fixed figures, so that other processes writing to
   * the same disk cannot change a plan under them.
   */
  @FunctionalInterface
  interface DiskSpace {
    DiskSpace DISKS = Planner::disks;

    /** {total, usable} bytes. */
    long[] of(Tier t);
  }

  Planner(DynamicFileSystem fs, MountTracker tracker, PolicyRules rules, Predictor predictor, long horizonMillis,
      MoveHistory history, long nowMillis, ZoneId zone, DiskSpace disks) {
    this.disks = disks;
    this.fs = fs;
    this.history = history;
    this.tracker = tracker;
    this.rules = rules;
    this.predictor = predictor;
    this.horizonMillis = horizonMillis;
    this.now = nowMillis;
    this.zone = zone;
  }

  /** A file as the plan sees it. */
  private static final class FileState {
    final long ino;
    final long[] bytesPerTier;
    String path;
    PolicyRules.Figures figures = PolicyRules.Figures.NONE;
    double score;
    double count1h;
    double meanAccessBytes;
    long mtimeNanos;
    double[] features;

    FileState(long ino, int tiers) {
      this.ino = ino;
      this.bytesPerTier = new long[tiers];
    }

    long stored() {
      long s = 0;
      for (long b : bytesPerTier) {
        s += b;
      }
      return s;
    }

    long notOn(int tier) {
      return stored() - bytesPerTier[tier];
    }
  }

  /** A move to check: the file, where to, why, and whether the ranking (not a rule) chose it. */
  private record Move(FileState file, String action, int to, String reason, boolean ranked, String hysteresis,
      boolean hysteresisOk) {}

  Plan plan() throws IOException {
    String decider = predictor.describe();
    List<String> notes = new ArrayList<>();
    if (fs.storage() == null) {
      notes.add("a cluster mount: the cluster's nodes hold the tiers and move blocks, not a mount");
      return new Plan(Instant.ofEpochMilli(now).toString(), decider, List.of(), List.of(), 0, 0, notes);
    }
    List<Tier> tiers = fs.storage().tiers();
    List<Plan.TierSpace> space = new ArrayList<>();
    if (tiers.size() < 2) {
      space.add(space(tiers.get(0), 0));
      notes.add("one tier: there is nowhere to move anything");
      return new Plan(Instant.ofEpochMilli(now).toString(), decider, space, List.of(), 0, 0, notes);
    }
    Map<Long, FileState> files = scan(tiers.size());
    long[] stored = new long[tiers.size()];
    for (FileState f : files.values()) {
      for (int t = 0; t < stored.length; t++) {
        stored[t] += f.bytesPerTier[t];
      }
    }
    for (int t = 0; t < tiers.size(); t++) {
      space.add(space(tiers.get(t), stored[t]));
    }
    paths = PathIndex.scan(fs.metadata());
    for (FileState f : files.values()) {
      f.path = paths.pathOf(f.ino);
    }
    files.values().removeIf(f -> f.path.startsWith("inode ")); // removed while open: nothing to place
    if (tracker != null) {
      figures(files);
    } else {
      notes.add("tracking is off: every file ranks as never read");
    }

    int fast = 0;
    int slow = tiers.size() - 1;
    int held = 0;
    List<Move> ruleMoves = new ArrayList<>();
    List<FileState> ranked = new ArrayList<>();
    long[] ruleIn = new long[tiers.size()];
    long[] ruleOut = new long[tiers.size()];
    for (FileState f : files.values()) {
      PolicyRules.Decision d = rules.decide(f.path, f.figures, now);
      PolicyRules.Rule r = d.deciding();
      if (r == null) {
        ranked.add(f);
        continue;
      }
      int to = r.kind() == PolicyRules.Kind.NEVER_MOVE ? -1 : tierIndex(tiers, r.tier());
      if (to < 0 || f.notOn(to) == 0) {
        held++;
        continue;
      }
      ruleMoves.add(new Move(f, "move", to, d.summary(), false, null, true));
      ruleIn[to] += f.notOn(to);
      for (int t = 0; t < tiers.size(); t++) {
        if (t != to) {
          ruleOut[t] += f.bytesPerTier[t];
        }
      }
    }

    // the ranking: fill the fast tier's room with the highest scores
    ranked.sort(Comparator.comparingDouble((FileState f) -> -f.score).thenComparingLong(f -> f.ino));
    long onFast = 0;
    for (FileState f : ranked) {
      onFast += f.bytesPerTier[fast];
    }
    Plan.TierSpace fastSpace = space.get(fast);
    long room = fastSpace.freeBytes() + onFast - fastSpace.headroomBytes() - ruleIn[fast] + ruleOut[fast];
    Set<Long> keep = new HashSet<>();
    long used = 0;
    double lowestKept = Double.POSITIVE_INFINITY;
    double bestLeftOut = Double.NEGATIVE_INFINITY;
    for (FileState f : ranked) {
      if (used + f.stored() <= room) {
        keep.add(f.ino);
        used += f.stored();
        lowestKept = Math.min(lowestKept, f.score);
      } else {
        bestLeftOut = Math.max(bestLeftOut, f.score);
      }
    }
    double margin = predictor.probability() ? MARGIN_PROBABILITY : MARGIN_SCORE;
    List<Move> demotions = new ArrayList<>();
    List<Move> promotions = new ArrayList<>();
    for (FileState f : ranked) {
      if (keep.contains(f.ino) && f.notOn(fast) > 0) {
        boolean ok = bestLeftOut == Double.NEGATIVE_INFINITY || f.score >= bestLeftOut + margin;
        String why = bestLeftOut == Double.NEGATIVE_INFINITY ? "every ranked file fits on " + tiers.get(fast).name()
            : "score " + num(f.score) + (ok ? " beats" : " does not beat") + " the best file left out ("
                + num(bestLeftOut) + ") by the margin " + num(margin);
        promotions.add(new Move(f, "promote", fast, "ranked " + rank(ranked, f) + " of " + ranked.size()
            + " by " + decider + " (score " + num(f.score) + "): within the room of " + tiers.get(fast).name(),
            true, why, ok));
      } else if (!keep.contains(f.ino) && f.bytesPerTier[fast] > 0) {
        boolean ok = lowestKept == Double.POSITIVE_INFINITY || f.score <= lowestKept - margin;
        String why = lowestKept == Double.POSITIVE_INFINITY ? "no ranked file fits on " + tiers.get(fast).name()
            : "score " + num(f.score) + (ok ? " loses to" : " does not lose to") + " the worst file kept ("
                + num(lowestKept) + ") by the margin " + num(margin);
        demotions.add(new Move(f, "demote", slow, "ranked " + rank(ranked, f) + " of " + ranked.size() + " by "
            + decider + " (score " + num(f.score) + "): past the room of " + tiers.get(fast).name(), true, why, ok));
      } else {
        held++;
      }
    }
    demotions.sort(Comparator.comparingDouble((Move m) -> m.file().score));

    List<Plan.Proposal> out = new ArrayList<>();
    Budget budget = new Budget(tiers.size());
    for (List<Move> group : List.of(ruleMoves, demotions, promotions)) {
      for (Move m : group) {
        out.add(check(m, tiers, space, budget));
      }
    }
    notes.add("files the tracker has no figures for rank as never read (not read since tracking began, or "
        + "evicted as cold)");
    notes.add("a block shared by several files (dedup) moves with each of them");
    notes.add("nothing is executed: this is a plan");
    return new Plan(Instant.ofEpochMilli(now).toString(), decider, space, out, files.size(), held, notes);
  }

  /** What the moves accepted so far take: counts and bytes against the budget, bytes into and out of each tier. */
  private static final class Budget {
    int moves;
    long bytes;
    final long[] in;
    final long[] out;

    Budget(int tiers) {
      in = new long[tiers];
      out = new long[tiers];
    }
  }

  /** The path index the last {@link #plan} scanned, or null when it needed none (fewer than two tiers). */
  PathIndex paths() {
    return paths;
  }

  private Plan.Proposal check(Move m, List<Tier> tiers, List<Plan.TierSpace> space, Budget b) throws IOException {
    FileState f = m.file();
    long bytes = f.notOn(m.to());
    List<Plan.Check> checks = new ArrayList<>();
    LocalDateTime local = LocalDateTime.ofInstant(Instant.ofEpochMilli(now), zone);
    boolean inSchedule = rules.schedule().allows(local);
    checks.add(new Plan.Check("schedule", inSchedule, inSchedule ? "moves may run now (" + rules.schedule().describe()
        + ")" : "outside the schedule (" + rules.schedule().describe() + ")"));

    PolicyRules.Budget limit = rules.budget();
    Integer perHour = limit.movesPerHour();
    Long bps = limit.bytesPerSecond();
    long[] done = history == null ? new long[2] : history.lastHour(now); // executed in the last hour
    boolean movesOk = perHour == null || done[0] + b.moves + 1 <= perHour;
    boolean bytesOk = bps == null || done[1] + b.bytes + bytes <= bps * 3600;
    String taken = done[0] == 0 ? "" : "; " + done[0] + " moves, " + mib(done[1]) + " done in the last hour";
    checks.add(new Plan.Check("budget", movesOk && bytesOk, !movesOk ? "the " + perHour + " moves per hour are taken"
        + taken : !bytesOk ? "over the hour's " + mib(bps * 3600) + " at " + num(bps / 1e6) + " MB/s ("
            + mib(done[1] + b.bytes) + " taken)" : limit.describe() + taken));

    Plan.TierSpace target = space.get(m.to());
    long freeAfter = target.freeBytes() - b.in[m.to()] + b.out[m.to()] - bytes;
    boolean spaceOk = freeAfter >= target.headroomBytes();
    checks.add(new Plan.Check("space", spaceOk, (spaceOk ? "leaves " : "would leave ") + mib(freeAfter) + " free on "
        + target.name() + (spaceOk ? ", headroom " : ", below the headroom of ") + mib(target.headroomBytes())));

    boolean open = fs.isOpen(f.ino);
    checks.add(new Plan.Check("open", !open, open ? "open: a move waits until it is closed" : "not open"));

    PolicyRules.Limits limits = rules.limits();
    long ageMillis = now - f.mtimeNanos / 1_000_000;
    boolean settled = ageMillis >= limits.minResidency().toMillis();
    checks.add(new Plan.Check("residency", settled, (settled ? "unchanged for " : "changed ")
        + duration(Math.max(0, ageMillis)) + (settled ? "" : " ago") + ", minimum residency "
        + PolicyRules.duration(limits.minResidency())));
    MoveHistory.LastMove last = history == null ? null : history.lastMove(f.ino);
    boolean cooled = last == null || now - last.millis() >= limits.cooldown().toMillis();
    checks.add(new Plan.Check("cooldown", cooled, last == null ? "no earlier move of this file in the audit log"
        : (cooled ? "last moved " : "moved ") + duration(Math.max(0, now - last.millis())) + " ago (" + last.action()
            + " to " + last.to() + "), cooldown " + PolicyRules.duration(limits.cooldown())));
    if (m.ranked()) {
      checks.add(new Plan.Check("hysteresis", m.hysteresisOk(), m.hysteresis()));
    }
    if (m.ranked() && m.action().equals("promote")) {
      double expected = f.count1h * f.meanAccessBytes;
      boolean worth = expected >= BENEFIT_FACTOR * bytes;
      checks.add(new Plan.Check("benefit", worth, "expected " + mib((long) expected) + " accessed in the next hour ("
          + num(f.count1h) + " accesses in the 1h count x " + mib((long) f.meanAccessBytes) + ") against "
          + mib(bytes) + " to move: " + (bytes == 0 ? "-" : String.format(Locale.ROOT, "%.2fx", expected / bytes))
          + ", needs " + BENEFIT_FACTOR + "x"));
    }
    boolean refused = checks.stream().anyMatch(c -> !c.ok());
    Map<String, Double> features = null;
    if (f.features != null) {
      features = new java.util.LinkedHashMap<>();
      for (int i = 0; i < f.features.length; i++) {
        features.put(Features.NAMES.get(i), MountPolicy.round(f.features[i]));
      }
    }
    if (!refused) {
      b.moves++;
      b.bytes += bytes;
      b.in[m.to()] += bytes;
      for (int t = 0; t < f.bytesPerTier.length; t++) {
        if (t != m.to()) {
          b.out[t] += f.bytesPerTier[t];
        }
      }
    }
    return new Plan.Proposal(f.path, f.ino, m.action(), where(tiers, f), tiers.get(m.to()).name(), bytes, m.reason(),
        m.ranked() ? MountPolicy.round(f.score) : null, checks, refused, (long) (f.count1h * f.meanAccessBytes),
        predictor.probability() && m.ranked() ? MountPolicy.round(f.score) : null, features);
  }

  /** Stored bytes per tier of every regular file: one scan of the block lists, a block record read per block. */
  private Map<Long, FileState> scan(int nTiers) throws FsException {
    MetadataStore meta = fs.metadata();
    Map<Long, FileState> files = new HashMap<>();
    meta.forEachChunk((ino, c) -> {
      if (c.isInline()) {
        return;
      }
      BlockRecord r = meta.block(c.id());
      if (r == null || r.tier() >= nTiers) {
        return;
      }
      files.computeIfAbsent(ino, i -> new FileState(i, nTiers)).bytesPerTier[r.tier()] += c.length();
    });
    for (java.util.Iterator<FileState> it = files.values().iterator(); it.hasNext(); ) {
      FileState f = it.next();
      Inode i = meta.inode(f.ino);
      if (i == null || !i.isRegular()) {
        it.remove();
      } else {
        f.mtimeNanos = i.mtimeNs();
      }
    }
    return files;
  }

  /** The tracker's figures and the score of each file's hottest block, read under the tracker's lock. */
  private void figures(Map<Long, FileState> files) {
    Predictor m = predictor;
    tracker.query(t -> {
      Features features = new Features(t, horizonMillis);
      double[] x = new double[Features.COUNT];
      features.extract(-1, -1, now, x); // never seen
      double unseen = m.score(x);
      for (FileState f : files.values()) {
        f.score = unseen;
      }
      AccessTable ex = t.extents();
      for (int s = 0; s < ex.slots(); s++) {
        if (!ex.occupied(s)) {
          continue;
        }
        FileState f = files.get(MountTracker.inodeOf(ex.key(s)));
        if (f != null) {
          features.extract(f.ino, ex.key(s), now, x);
          double score = m.score(x);
          if (f.features == null || score > f.score) {
            f.features = x.clone();
          }
          f.score = Math.max(f.score, score);
        }
      }
      AccessTable ft = t.files();
      for (FileState f : files.values()) {
        int s = ft.find(f.ino);
        if (s < 0) {
          continue;
        }
        double[] c = new double[ft.counters()];
        for (int i = 0; i < c.length; i++) {
          c[i] = ft.counter(s, i, now);
        }
        f.figures = new PolicyRules.Figures(ft.lastAccess(s), c);
        f.count1h = c[Math.min(1, c.length - 1)];
        f.meanAccessBytes = ft.accesses(s) == 0 ? 0 : (double) ft.bytes(s) / ft.accesses(s);
      }
      return null;
    });
  }

  /**
   * Capacity and free space of a tier: its devices' filesystems, each counted once, scaled by its redundancy;
   * with a {@code capacity} rule, at most that, and free only what its files' {@code stored} bytes leave of it
   * (below zero when they hold more: demotions come first then).
   */
  private Plan.TierSpace space(Tier t, long stored) {
    Redundancy r = t.redundancy();
    double efficiency = r instanceof Redundancy.ReedSolomon rs ? rs.data() / (double) (rs.data() + rs.parity())
        : 1.0 / ((Redundancy.Replicate) r).copies();
    long[] tf = disks.of(t);
    double total = tf[0] * efficiency;
    double free = tf[1] * efficiency;
    PolicyRules.Headroom h = rules.headroom().get(t.name());
    PolicyRules.Headroom cap = rules.capacity().get(t.name());
    if (cap != null) {
      long most = cap.bytesOf((long) total);
      total = Math.min(total, most);
      free = Math.min(free, most - stored);
    }
    return new Plan.TierSpace(t.name(), (long) total, (long) free, h == null ? 0 : h.bytesOf((long) total));
  }

  /** A tier's devices' filesystems, each counted once; a device not online adds no free space. */
  private static long[] disks(Tier t) {
    Set<FileStore> seen = new HashSet<>();
    long total = 0;
    long free = 0;
    for (Device d : t.devices()) {
      try {
        FileStore s = Files.getFileStore(d.directory());
        if (seen.add(s)) {
          total += s.getTotalSpace();
          if (d.health() == Device.Health.ONLINE) {
            free += s.getUsableSpace();
          }
        }
      } catch (IOException e) {
        // a missing device adds no space
      }
    }
    return new long[] {total, free};
  }

  private static int tierIndex(List<Tier> tiers, String name) {
    for (int i = 0; i < tiers.size(); i++) {
      if (tiers.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  private static String where(List<Tier> tiers, FileState f) {
    List<String> on = new ArrayList<>();
    for (int t = 0; t < tiers.size(); t++) {
      if (f.bytesPerTier[t] > 0) {
        on.add(tiers.get(t).name());
      }
    }
    return String.join("+", on);
  }

  private static int rank(List<FileState> ranked, FileState f) {
    return ranked.indexOf(f) + 1;
  }

  static String num(double v) {
    return String.format(Locale.ROOT, "%.3g", v);
  }

  static String mib(long bytes) {
    String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = bytes;
    int u = 0;
    while (Math.abs(v) >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return u == 0 ? bytes + " B" : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  static String duration(long millis) {
    long s = millis / 1000;
    return s >= 86400 ? s / 86400 + "d" : s >= 3600 ? s / 3600 + "h" : s >= 60 ? s / 60 + "m" : s + "s";
  }
}
