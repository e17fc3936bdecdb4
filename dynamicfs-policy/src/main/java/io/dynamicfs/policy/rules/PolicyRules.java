package io.dynamicfs.policy.rules;

import io.dynamicfs.policy.rules.YamlTree.ListNode;
import io.dynamicfs.policy.rules.YamlTree.MapNode;
import io.dynamicfs.policy.rules.YamlTree.Node;
import io.dynamicfs.policy.rules.YamlTree.Scalar;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The operator's rules file (YAML), validated as a whole: every problem is a {@link RulesException} naming
 * the line and the reason. See docs/policy.md for the format; in short:
 *
 * <pre>
 * rules:                        # in order; see "precedence" below
 *   - name: databases           # optional (default "rule N")
 *     match: "db/**"            # a path glob from the filesystem's root ({@link PathGlob})
 *     pin: fast                 # hard: belongs on this tier, never moved off it
 *   - match: "archive/**"
 *     never_move: true          # hard: never moved
 *   - match: "**&#47;*.log"
 *     prefer: slow              # a preference: decides over the model when its condition holds
 *     when: {idle_for: 7d}
 *   - match: "**"
 *     prefer: fast
 *     when: {window: 1h, accesses_at_least: 20}
 * schedule: {windows: ["22:00-06:00"], days: [mon, tue, wed, thu, fri]}
 * budget: {mb_per_second: 50, moves_per_hour: 600}
 * headroom: {fast: 10%, slow: 50G}
 * capacity: {fast: 500G}       # the most the policy lets a tier hold (a share of its disk, or a size)
 * limits: {min_residency: 10m, cooldown: 1h, pause_latency: 50ms, pause_in_flight: 16}
 * </pre>
 *
 * <p><b>Precedence</b>: hard rules (pin, never_move; the first that matches a path decides), then the safety
 * limits (headroom, budget, schedule, and the action's own checks) which may refuse any move, a pinned
 * file's too, then preferences (the first whose glob matches and whose condition holds), then the model.
 *
 * <p>Conditions read the tracker's decayed access counters: {@code window} is one of its half-lives
 * ({@link #WINDOWS}); {@code accesses_at_least}/{@code accesses_at_most} bound the counter at that half-life
 * (an access counts 1, halved every window since); {@code idle_for} is the time since the last access.
 */
public record PolicyRules(String source, List<Rule> rules, Schedule schedule, Budget budget,
    Map<String, Headroom> headroom, Limits limits, Map<String, Headroom> capacity) {

  /** The tracker's half-lives, by the names a condition's {@code window} uses. */
  public static final Map<String, Duration> WINDOWS = windows();

  private static Map<String, Duration> windows() {
    Map<String, Duration> m = new LinkedHashMap<>();
    m.put("1m", Duration.ofMinutes(1));
    m.put("1h", Duration.ofHours(1));
    m.put("1d", Duration.ofDays(1));
    return java.util.Collections.unmodifiableMap(m);
  }

  private static final List<String> TOP = List.of("version", "rules", "schedule", "budget", "headroom", "capacity",
      "limits");
  private static final List<String> LIMITS = List.of("min_residency", "cooldown", "pause_latency", "pause_in_flight");
  private static final List<String> RULE = List.of("name", "match", "pin", "never_move", "prefer", "when");
  private static final List<String> WHEN = List.of("window", "accesses_at_least", "accesses_at_most", "idle_for");
  private static final List<String> SCHEDULE = List.of("windows", "days");
  private static final List<String> BUDGET = List.of("mb_per_second", "moves_per_hour");
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d|w)");
  private static final Pattern SIZE = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*([KMGT]i?B?|B)?", Pattern.CASE_INSENSITIVE);
  private static final Pattern PERCENT = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*%");
  private static final Pattern TIME_WINDOW = Pattern.compile("(\\d{1,2}):(\\d{2})\\s*-\\s*(\\d{1,2}):(\\d{2})");

  public PolicyRules {
    rules = List.copyOf(rules);
    headroom = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(headroom));
    capacity = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(capacity));
  }

  /** Rules without a {@code capacity} section. */
  public PolicyRules(String source, List<Rule> rules, Schedule schedule, Budget budget, Map<String, Headroom> headroom,
      Limits limits) {
    this(source, rules, schedule, budget, headroom, limits, Map.of());
  }

  /** No rules, no limits: the model decides everything. */
  public static PolicyRules none() {
    return new PolicyRules("(none)", List.of(), Schedule.ALWAYS, Budget.UNLIMITED, Map.of(), Limits.DEFAULTS);
  }

  // ---- the parts -------------------------------------------------------------------------------

  /** What a rule does. */
  public enum Kind {
    /** Hard: the file belongs on {@code tier}; never moved off it. */
    PIN,
    /** Hard: never moved. */
    NEVER_MOVE,
    /** A preference for {@code tier} while the condition holds: over the model, under the safety limits. */
    PREFER;

    public boolean hard() {
      return this != PREFER;
    }

    public String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** One rule, with the line it starts on. {@code tier} is null for never_move; {@code when} may be null. */
  public record Rule(String name, int line, PathGlob match, Kind kind, String tier, Condition when) {
    public String describe() {
      String what = switch (kind) {
        case PIN -> "pin to " + tier;
        case NEVER_MOVE -> "never move";
        case PREFER -> "prefer " + tier;
      };
      return what + " for " + match + (when == null ? "" : " when " + when.describe());
    }
  }

  /** A file's access figures, as a condition reads them: -1 for no recorded access. */
  public record Figures(long lastAccessMillis, double[] counters) {
    public static final Figures NONE = new Figures(-1, new double[WINDOWS.size()]);
  }

  /**
   * A condition on a file's accesses; every part given must hold. {@code window} indexes {@link #WINDOWS}.
   */
  public record Condition(int window, Double accessesAtLeast, Double accessesAtMost, Duration idleFor) {
    public boolean holds(Figures f, long nowMillis) {
      double c = f.counters()[window];
      if (accessesAtLeast != null && !(c >= accessesAtLeast)) {
        return false;
      }
      if (accessesAtMost != null && !(c <= accessesAtMost)) {
        return false;
      }
      if (idleFor != null) {
        return f.lastAccessMillis() < 0 || nowMillis - f.lastAccessMillis() >= idleFor.toMillis();
      }
      return true;
    }

    public String describe() {
      List<String> parts = new ArrayList<>();
      String w = new ArrayList<>(WINDOWS.keySet()).get(window);
      if (accessesAtLeast != null) {
        parts.add("accesses over " + w + " >= " + num(accessesAtLeast));
      }
      if (accessesAtMost != null) {
        parts.add("accesses over " + w + " <= " + num(accessesAtMost));
      }
      if (idleFor != null) {
        parts.add("idle for " + duration(idleFor));
      }
      return String.join(" and ", parts);
    }
  }

  /** When moves may run: daily windows (local time; one may wrap past midnight) on some days. */
  public record Schedule(List<TimeWindow> windows, Set<DayOfWeek> days) {
    public static final Schedule ALWAYS = new Schedule(List.of(), EnumSet.allOf(DayOfWeek.class));

    public Schedule {
      windows = List.copyOf(windows);
      days = java.util.Collections.unmodifiableSet(days.isEmpty() ? EnumSet.noneOf(DayOfWeek.class) : EnumSet.copyOf(days));
    }

    /** Whether a move may run at {@code t} (a window past midnight belongs to the day it started). */
    public boolean allows(LocalDateTime t) {
      if (windows.isEmpty()) {
        return days.contains(t.getDayOfWeek());
      }
      LocalTime now = t.toLocalTime();
      for (TimeWindow w : windows) {
        if (!w.wraps() && !now.isBefore(w.from()) && now.isBefore(w.to()) && days.contains(t.getDayOfWeek())) {
          return true;
        }
        if (w.wraps()) {
          if (!now.isBefore(w.from()) && days.contains(t.getDayOfWeek())) {
            return true;
          }
          if (now.isBefore(w.to()) && days.contains(t.getDayOfWeek().minus(1))) {
            return true;
          }
        }
      }
      return false;
    }

    public String describe() {
      String d = days.size() == 7 ? "every day" : days.stream().map(x -> x.name().substring(0, 3).toLowerCase(Locale.ROOT))
          .reduce((a, b) -> a + "," + b).orElse("no day");
      return windows.isEmpty() ? "any time, " + d
          : String.join(", ", windows.stream().map(TimeWindow::toString).toList()) + ", " + d;
    }
  }

  /** A daily window [from, to); {@code to} before {@code from} wraps past midnight. */
  public record TimeWindow(LocalTime from, LocalTime to) {
    boolean wraps() {
      return to.isBefore(from);
    }

    @Override
    public String toString() {
      return from + "-" + to;
    }
  }

  /** How much moving may cost: bytes per second and moves per hour; null is unlimited, 0 allows none. */
  public record Budget(Long bytesPerSecond, Integer movesPerHour) {
    public static final Budget UNLIMITED = new Budget(null, null);

    public String describe() {
      return (bytesPerSecond == null ? "unlimited MB/s" : num(bytesPerSecond / 1e6) + " MB/s") + ", "
          + (movesPerHour == null ? "unlimited moves" : movesPerHour + " moves") + " per hour";
    }
  }

  /**
   * The executor's safety limits: a file changed within {@code minResidency} or moved within {@code cooldown}
   * is not moved; moving pauses while the foreground's mean read and write latency over the last second is
   * above {@code pauseLatency} or more than {@code pauseInFlight} requests are in flight.
   */
  public record Limits(Duration minResidency, Duration cooldown, Duration pauseLatency, int pauseInFlight) {
    public static final Limits DEFAULTS = new Limits(Duration.ofMinutes(10), Duration.ofHours(1),
        Duration.ofMillis(50), 16);

    public String describe() {
      return "minimum residency " + duration(minResidency) + ", cooldown " + duration(cooldown)
          + ", pause while foreground latency > " + duration(pauseLatency) + " or > " + pauseInFlight
          + " requests in flight";
    }
  }

  /**
   * A share of a tier's disk or a number of bytes: the space it keeps free ({@code headroom}), or the most the
   * policy lets it hold ({@code capacity}).
   */
  public record Headroom(Double percent, Long bytes) {
    /** The bytes for a tier of {@code capacity} bytes. */
    public long bytesOf(long capacity) {
      return percent != null ? (long) (capacity * percent / 100) : bytes;
    }

    public String describe() {
      return percent != null ? num(percent) + "%" : bytes + " bytes";
    }
  }

  /** One rule whose glob matched a path: whether it applies (its condition holds) and whether it decides. */
  public record Match(Rule rule, boolean applies, boolean decides) {}

  /** The rules' say on one path: every rule that matched, in order, and the one that decides (or null). */
  public record Decision(List<Match> matches, Rule deciding) {
    /** A sentence: what the rules decide, or that the model does. */
    public String summary() {
      if (deciding == null) {
        return matches.isEmpty() ? "no rule matches: the model decides"
            : "no matching rule applies now: the model decides";
      }
      return (deciding.kind().hard() ? "hard rule " : "preference ") + "'" + deciding.name() + "' (line "
          + deciding.line() + "): " + deciding.describe();
    }
  }

  /** What the rules decide for {@code path} with these access figures. */
  public Decision decide(String path, Figures f, long nowMillis) {
    Rule deciding = null;
    for (Rule r : rules) { // a hard rule anywhere in the file outranks every preference
      if (r.kind().hard() && r.match().matches(path)) {
        deciding = r;
        break;
      }
    }
    boolean hard = deciding != null;
    List<Match> out = new ArrayList<>();
    for (Rule r : rules) {
      if (!r.match().matches(path)) {
        continue;
      }
      boolean applies = r.when() == null || r.when().holds(f, nowMillis);
      if (!hard && deciding == null && applies) {
        deciding = r;
      }
      out.add(new Match(r, applies, r == deciding));
    }
    return new Decision(out, deciding);
  }

  // ---- reading ---------------------------------------------------------------------------------

  /**
   * Reads and validates the rules file at {@code file}. {@code tiers}: the tier names rules may name (null:
   * not checked, e.g. offline without a DATA).
   */
  public static PolicyRules read(Path file, Collection<String> tiers) throws RulesException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new RulesException(0, "no such file");
    } catch (IOException e) {
      throw new RulesException(0, "cannot read: " + e.getMessage());
    }
    return parse(text, file.toString(), tiers);
  }

  /** Parses and validates rules from {@code text}; {@code source} names it in {@link #source()}. */
  public static PolicyRules parse(String text, String source, Collection<String> tiers) throws RulesException {
    Node root = YamlTree.parse(text);
    if (root == null) {
      return new PolicyRules(source, List.of(), Schedule.ALWAYS, Budget.UNLIMITED, Map.of(), Limits.DEFAULTS);
    }
    MapNode top = map(root, "the rules file");
    known(top, TOP, "at the top level");
    if (top.entries().containsKey("version")) {
      Node v = top.entries().get("version");
      if (!(v instanceof Scalar s && s.value() instanceof Number n && n.intValue() == 1 && n.doubleValue() == 1)) {
        throw new RulesException(v.line(), "version must be 1 (the only format there is)");
      }
    }
    List<Rule> rules = new ArrayList<>();
    Node rn = top.entries().get("rules");
    if (rn != null && !(rn instanceof Scalar s && s.value() == null)) {
      if (!(rn instanceof ListNode list)) {
        throw new RulesException(rn.line(), "'rules' must be a list of rules (each starting with '- ')");
      }
      Map<String, Integer> names = new HashMap<>();
      for (Node item : list.items()) {
        Rule r = rule(item, rules.size() + 1, tiers);
        Integer dup = names.putIfAbsent(r.name(), r.line());
        if (dup != null) {
          throw new RulesException(r.line(), "rule name '" + r.name() + "' is already used on line " + dup);
        }
        rules.add(r);
      }
    }
    Schedule schedule = top.entries().containsKey("schedule") ? schedule(top.entries().get("schedule")) : Schedule.ALWAYS;
    Budget budget = top.entries().containsKey("budget") ? budget(top.entries().get("budget")) : Budget.UNLIMITED;
    Map<String, Headroom> headroom = top.entries().containsKey("headroom")
        ? amounts(top.entries().get("headroom"), tiers, "headroom") : Map.of();
    Map<String, Headroom> capacity = top.entries().containsKey("capacity")
        ? amounts(top.entries().get("capacity"), tiers, "capacity") : Map.of();
    Limits limits = top.entries().containsKey("limits") ? limits(top.entries().get("limits")) : Limits.DEFAULTS;
    return new PolicyRules(source, rules, schedule, budget, headroom, limits, capacity);
  }

  private static Rule rule(Node n, int number, Collection<String> tiers) throws RulesException {
    MapNode m = map(n, "a rule");
    known(m, RULE, "in a rule");
    String name = m.entries().containsKey("name") ? text(m.entries().get("name"), "name") : "rule " + number;
    if (name.isBlank()) {
      throw new RulesException(m.entries().get("name").line(), "a rule's name must not be empty");
    }
    Node match = m.entries().get("match");
    if (match == null) {
      throw new RulesException(m.line(), "rule '" + name + "' has no 'match' (a path glob, e.g. \"db/**\")");
    }
    PathGlob glob;
    try {
      glob = PathGlob.compile(text(match, "match"));
    } catch (IllegalArgumentException e) {
      throw new RulesException(match.line(), "bad glob '" + ((Scalar) match).text() + "': " + e.getMessage());
    }
    List<String> actions = new ArrayList<>();
    for (String k : List.of("pin", "never_move", "prefer")) {
      if (m.entries().containsKey(k)) {
        actions.add(k);
      }
    }
    if (actions.size() != 1) {
      throw new RulesException(m.line(), "rule '" + name + "' must have exactly one of pin, never_move, prefer"
          + (actions.isEmpty() ? "" : " (it has " + String.join(" and ", actions) + ")"));
    }
    Kind kind = Kind.valueOf(actions.get(0).toUpperCase(Locale.ROOT));
    Node action = m.entries().get(actions.get(0));
    String tier = null;
    if (kind == Kind.NEVER_MOVE) {
      if (!(action instanceof Scalar s && Boolean.TRUE.equals(s.value()))) {
        throw new RulesException(action.line(), "never_move takes true (leave the rule out otherwise)");
      }
    } else {
      tier = text(action, kind.key());
      if (tiers != null && !tiers.contains(tier)) {
        throw new RulesException(action.line(), "unknown tier '" + tier + "' (tiers: " + String.join(", ", tiers) + ")");
      }
    }
    Condition when = null;
    if (m.entries().containsKey("when")) {
      Node w = m.entries().get("when");
      if (kind != Kind.PREFER) {
        throw new RulesException(w.line(), "'when' applies to prefer rules only: " + kind.key()
            + " is unconditional");
      }
      when = condition(w);
    }
    return new Rule(name, m.line(), glob, kind, tier, when);
  }

  private static Condition condition(Node n) throws RulesException {
    MapNode m = map(n, "'when'");
    known(m, WHEN, "in 'when'");
    if (m.entries().isEmpty()) {
      throw new RulesException(m.line(), "'when' is empty: give accesses_at_least, accesses_at_most or idle_for");
    }
    int window = 1;
    if (m.entries().containsKey("window")) {
      Node w = m.entries().get("window");
      Duration d = duration(w, "window");
      window = new ArrayList<>(WINDOWS.values()).indexOf(d);
      if (window < 0) {
        throw new RulesException(w.line(), "window must be one of the tracker's half-lives: "
            + String.join(", ", WINDOWS.keySet()) + " (got " + ((Scalar) w).text() + ")");
      }
    }
    Double atLeast = m.entries().containsKey("accesses_at_least")
        ? nonNegative(m.entries().get("accesses_at_least"), "accesses_at_least") : null;
    Double atMost = m.entries().containsKey("accesses_at_most")
        ? nonNegative(m.entries().get("accesses_at_most"), "accesses_at_most") : null;
    if (atLeast != null && atMost != null && atLeast > atMost) {
      throw new RulesException(m.entries().get("accesses_at_most").line(), "accesses_at_most " + num(atMost)
          + " is below accesses_at_least " + num(atLeast) + ": the condition never holds");
    }
    Duration idle = m.entries().containsKey("idle_for") ? duration(m.entries().get("idle_for"), "idle_for") : null;
    if (atLeast == null && atMost == null && idle == null) {
      throw new RulesException(m.line(), "'when' gives only a window: add accesses_at_least, accesses_at_most or idle_for");
    }
    return new Condition(window, atLeast, atMost, idle);
  }

  private static Schedule schedule(Node n) throws RulesException {
    MapNode m = map(n, "'schedule'");
    known(m, SCHEDULE, "in 'schedule'");
    List<TimeWindow> windows = new ArrayList<>();
    if (m.entries().containsKey("windows")) {
      for (Node w : list(m.entries().get("windows"), "windows")) {
        String t = text(w, "a schedule window");
        Matcher x = TIME_WINDOW.matcher(t.trim());
        if (!x.matches()) {
          throw new RulesException(w.line(), "schedule window '" + t + "' is not HH:MM-HH:MM");
        }
        LocalTime from = time(w, Integer.parseInt(x.group(1)), Integer.parseInt(x.group(2)));
        LocalTime to = time(w, Integer.parseInt(x.group(3)), Integer.parseInt(x.group(4)));
        if (from.equals(to)) {
          throw new RulesException(w.line(), "schedule window '" + t + "' is empty (use no windows for any time)");
        }
        windows.add(new TimeWindow(from, to));
      }
    }
    Set<DayOfWeek> days = EnumSet.allOf(DayOfWeek.class);
    if (m.entries().containsKey("days")) {
      days = EnumSet.noneOf(DayOfWeek.class);
      for (Node d : list(m.entries().get("days"), "days")) {
        String t = text(d, "a day").trim().toLowerCase(Locale.ROOT);
        DayOfWeek day = null;
        for (DayOfWeek x : DayOfWeek.values()) {
          String full = x.name().toLowerCase(Locale.ROOT);
          if (t.equals(full) || t.equals(full.substring(0, 3))) {
            day = x;
          }
        }
        if (day == null) {
          throw new RulesException(d.line(), "unknown day '" + t + "' (mon, tue, wed, thu, fri, sat, sun)");
        }
        days.add(day);
      }
      if (days.isEmpty()) {
        throw new RulesException(m.entries().get("days").line(), "'days' is empty: moves could never run");
      }
    }
    return new Schedule(windows, days);
  }

  private static LocalTime time(Node n, int h, int m) throws RulesException {
    if (h == 24 && m == 0) {
      return LocalTime.MAX;
    }
    if (h > 23 || m > 59) {
      throw new RulesException(n.line(), String.format(Locale.ROOT, "%d:%02d is not a time of day", h, m));
    }
    return LocalTime.of(h, m);
  }

  private static Budget budget(Node n) throws RulesException {
    MapNode m = map(n, "'budget'");
    known(m, BUDGET, "in 'budget'");
    Long bps = null;
    if (m.entries().containsKey("mb_per_second")) {
      double mb = nonNegative(m.entries().get("mb_per_second"), "mb_per_second");
      bps = (long) (mb * 1_000_000);
    }
    Integer moves = null;
    if (m.entries().containsKey("moves_per_hour")) {
      Node mv = m.entries().get("moves_per_hour");
      double v = nonNegative(mv, "moves_per_hour");
      if (v != Math.rint(v) || v > Integer.MAX_VALUE) {
        throw new RulesException(mv.line(), "moves_per_hour must be a whole number: " + ((Scalar) mv).text());
      }
      moves = (int) v;
    }
    return new Budget(bps, moves);
  }

  private static Limits limits(Node n) throws RulesException {
    MapNode m = map(n, "'limits'");
    known(m, LIMITS, "in 'limits'");
    Map<String, Node> e = m.entries();
    Limits d = Limits.DEFAULTS;
    Duration residency = e.containsKey("min_residency") ? duration(e.get("min_residency"), "min_residency", true)
        : d.minResidency();
    Duration cooldown = e.containsKey("cooldown") ? duration(e.get("cooldown"), "cooldown", true) : d.cooldown();
    Duration latency = e.containsKey("pause_latency") ? duration(e.get("pause_latency"), "pause_latency", false)
        : d.pauseLatency();
    int inFlight = d.pauseInFlight();
    if (e.containsKey("pause_in_flight")) {
      Node x = e.get("pause_in_flight");
      double v = nonNegative(x, "pause_in_flight");
      if (v != Math.rint(v) || v < 1 || v > 1_000_000) {
        throw new RulesException(x.line(), "pause_in_flight must be a whole number from 1 to 1000000: "
            + ((Scalar) x).text());
      }
      inFlight = (int) v;
    }
    return new Limits(residency, cooldown, latency, inFlight);
  }

  /**
   * A tier's share of its disk (10%) or a size (50G), per tier: the {@code headroom} to keep free, or the
   * {@code capacity} the policy lets the tier hold ({@code what} names the section in errors).
   */
  private static Map<String, Headroom> amounts(Node n, Collection<String> tiers, String what) throws RulesException {
    MapNode m = map(n, "'" + what + "'");
    Map<String, Headroom> out = new LinkedHashMap<>();
    for (Map.Entry<String, Node> e : m.entries().entrySet()) {
      int line = m.keyLines().get(e.getKey());
      if (tiers != null && !tiers.contains(e.getKey())) {
        throw new RulesException(line, what + " for unknown tier '" + e.getKey() + "' (tiers: "
            + String.join(", ", tiers) + ")");
      }
      if (!(e.getValue() instanceof Scalar s) || s.value() == null || s.value() instanceof Boolean) {
        throw new RulesException(e.getValue().line(), what + " of '" + e.getKey()
            + "' must be a share (10%) or a size (50G)");
      }
      String t = s.text().trim();
      if (t.startsWith("-")) {
        throw new RulesException(s.line(), what + " of '" + e.getKey() + "' must not be negative: " + t);
      }
      Matcher pct = PERCENT.matcher(t);
      Matcher size = SIZE.matcher(t);
      if (pct.matches()) {
        double p = Double.parseDouble(pct.group(1));
        if (p >= 100) {
          throw new RulesException(s.line(), what + " of '" + e.getKey() + "' must be below 100%: " + t);
        }
        out.put(e.getKey(), new Headroom(p, null));
      } else if (size.matches()) {
        out.put(e.getKey(), new Headroom(null, bytes(size.group(1), size.group(2))));
      } else {
        throw new RulesException(s.line(), what + " of '" + e.getKey() + "' must be a share (10%) or a size (50G): " + t);
      }
    }
    return out;
  }

  private static long bytes(String number, String unit) {
    double v = Double.parseDouble(number);
    String u = unit == null ? "" : unit.toUpperCase(Locale.ROOT);
    long mult = switch (u.isEmpty() ? 'B' : u.charAt(0)) {
      case 'K' -> 1L << 10;
      case 'M' -> 1L << 20;
      case 'G' -> 1L << 30;
      case 'T' -> 1L << 40;
      default -> 1;
    };
    return (long) (v * mult);
  }

  // ---- node helpers ----------------------------------------------------------------------------

  private static MapNode map(Node n, String what) throws RulesException {
    if (!(n instanceof MapNode m)) {
      throw new RulesException(n.line(), what + " must be a mapping of keys to values");
    }
    return m;
  }

  private static List<Node> list(Node n, String what) throws RulesException {
    if (n instanceof ListNode l) {
      return l.items();
    }
    throw new RulesException(n.line(), "'" + what + "' must be a list, e.g. [a, b]");
  }

  private static void known(MapNode m, List<String> keys, String where) throws RulesException {
    for (Map.Entry<String, Integer> k : m.keyLines().entrySet()) {
      if (!keys.contains(k.getKey())) {
        throw new RulesException(k.getValue(), "unknown key '" + k.getKey() + "' " + where + " (known: "
            + String.join(", ", keys) + ")");
      }
    }
  }

  private static String text(Node n, String what) throws RulesException {
    if (n instanceof Scalar s && s.value() instanceof String str) {
      return str;
    }
    throw new RulesException(n.line(), "'" + what + "' must be text");
  }

  private static double nonNegative(Node n, String what) throws RulesException {
    if (!(n instanceof Scalar s) || !(s.value() instanceof Number v)) {
      throw new RulesException(n.line(), what + " must be a number");
    }
    double d = v.doubleValue();
    if (d < 0 || Double.isNaN(d) || Double.isInfinite(d)) {
      throw new RulesException(n.line(), what + " must not be negative: " + s.text());
    }
    return d;
  }

  private static Duration duration(Node n, String what) throws RulesException {
    return duration(n, what, false);
  }

  private static Duration duration(Node n, String what, boolean zeroAllowed) throws RulesException {
    if (!(n instanceof Scalar s) || s.value() == null || s.value() instanceof Boolean) {
      throw new RulesException(n.line(), what + " must be a duration such as 30m, 1h, 7d");
    }
    String t = s.text().trim();
    if (t.startsWith("-")) {
      throw new RulesException(n.line(), what + " must not be negative: " + t);
    }
    Matcher x = DURATION.matcher(t);
    if (!x.matches()) {
      throw new RulesException(n.line(), what + " must be a duration such as 30m, 1h, 7d (s, m, h, d, w): " + t);
    }
    double v = Double.parseDouble(x.group(1));
    long unit = switch (x.group(2)) {
      case "ms" -> 1L;
      case "s" -> 1_000L;
      case "m" -> 60_000L;
      case "h" -> 3_600_000L;
      case "d" -> 86_400_000L;
      default -> 7 * 86_400_000L;
    };
    Duration d = Duration.ofMillis((long) (v * unit));
    if (d.isZero() && !zeroAllowed) {
      throw new RulesException(n.line(), what + " must be positive: " + t);
    }
    return d;
  }

  static String num(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : String.format(Locale.ROOT, "%.3g", v);
  }

  public static String duration(Duration d) {
    long ms = d.toMillis();
    if (ms == 0) {
      return "0s";
    }
    for (Map.Entry<String, Long> u : List.of(Map.entry("d", 86_400_000L),
        Map.entry("h", 3_600_000L), Map.entry("m", 60_000L), Map.entry("s", 1_000L))) {
      if (ms % u.getValue() == 0 && ms > 0) {
        return ms / u.getValue() + u.getKey();
      }
    }
    return ms + "ms";
  }
}
