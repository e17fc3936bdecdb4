package io.dynamicfs.policy.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyRulesTest {
  private static final List<String> TIERS = List.of("fast", "slow");

  private static PolicyRules parse(String yaml) throws RulesException {
    return PolicyRules.parse(yaml, "rules.yaml", TIERS);
  }

  @Test
  void parse_everyKindOfRuleAndLimit_accepted() throws Exception {
    PolicyRules r = parse("""
        version: 1
        rules:
          - name: databases
            match: "db/**"
            pin: fast
          - match: "archive/**"
            never_move: true
          - name: old-logs
            match: "**/*.log"
            prefer: slow
            when: {idle_for: 7d}
          - name: busy
            match: "**"
            prefer: fast
            when:
              window: 1h
              accesses_at_least: 20
          - name: quiet
            match: "**"
            prefer: slow
            when: {window: 1d, accesses_at_most: 0.5}
        schedule:
          windows: ["22:00-06:00", "12:00-13:30"]
          days: [mon, tuesday, Sat]
        budget:
          mb_per_second: 50
          moves_per_hour: 600
        headroom:
          fast: 10%
          slow: 50G
        capacity: {fast: 200G}
        limits:
          min_residency: 0s
          cooldown: 2h
          pause_latency: 20ms
          pause_in_flight: 4
        """);
    assertEquals(new PolicyRules.Limits(Duration.ZERO, Duration.ofHours(2), Duration.ofMillis(20), 4), r.limits());
    assertEquals(5, r.rules().size());
    PolicyRules.Rule db = r.rules().get(0);
    assertEquals("databases", db.name());
    assertEquals(3, db.line(), "the line of the rule's first key");
    assertEquals(PolicyRules.Kind.PIN, db.kind());
    assertEquals("fast", db.tier());
    assertTrue(db.match().matches("db/a/b.sqlite"));
    PolicyRules.Rule archive = r.rules().get(1);
    assertEquals("rule 2", archive.name(), "unnamed rules are numbered");
    assertEquals(PolicyRules.Kind.NEVER_MOVE, archive.kind());
    assertNull(archive.tier());
    assertEquals(new PolicyRules.Condition(1, null, null, Duration.ofDays(7)), r.rules().get(2).when());
    assertEquals(new PolicyRules.Condition(1, 20.0, null, null), r.rules().get(3).when());
    assertEquals(new PolicyRules.Condition(2, null, 0.5, null), r.rules().get(4).when());
    assertEquals(List.of(new PolicyRules.TimeWindow(LocalTime.of(22, 0), LocalTime.of(6, 0)),
        new PolicyRules.TimeWindow(LocalTime.of(12, 0), LocalTime.of(13, 30))), r.schedule().windows());
    assertEquals(Set.of(DayOfWeek.MONDAY, DayOfWeek.TUESDAY, DayOfWeek.SATURDAY), r.schedule().days());
    assertEquals(50_000_000L, r.budget().bytesPerSecond());
    assertEquals(600, r.budget().movesPerHour());
    assertEquals(new PolicyRules.Headroom(10.0, null), r.headroom().get("fast"));
    assertEquals(new PolicyRules.Headroom(null, 50L << 30), r.headroom().get("slow"));
    assertEquals(10L << 30, r.headroom().get("fast").bytesOf(100L << 30));
    assertEquals(new PolicyRules.Headroom(null, 200L << 30), r.capacity().get("fast"));
    assertEquals(Map.of(), PolicyRules.none().capacity());
  }

  @Test
  void parse_emptyFile_noRulesNoLimits() throws Exception {
    PolicyRules r = parse("# nothing yet\n");
    assertEquals(List.of(), r.rules());
    assertEquals(PolicyRules.Budget.UNLIMITED, r.budget());
    assertEquals(PolicyRules.Limits.DEFAULTS, r.limits());
    assertEquals("minimum residency 10m, cooldown 1h, pause while foreground latency > 50ms or > 16 requests in flight",
        r.limits().describe());
    assertTrue(r.schedule().allows(LocalDateTime.of(2026, 1, 1, 3, 0)));
  }

  static Stream<Arguments> badFiles() {
    return Stream.of(
        Arguments.of("rulez: []\n", 1, "unknown key 'rulez' at the top level (known: version, rules, schedule"),
        Arguments.of("rules:\n  - match: a\n    pin: fast\n    tier: slow\n", 4, "unknown key 'tier' in a rule"),
        Arguments.of("rules:\n  - match: \"db/[abc\"\n    pin: fast\n", 2, "bad glob 'db/[abc': '[' at position 1 is not closed"),
        Arguments.of("rules:\n  - match: \"a/{b,c\"\n    pin: fast\n", 2, "bad glob 'a/{b,c': '{' is not closed"),
        Arguments.of("rules:\n  - match: \"a/../b\"\n    pin: fast\n", 2, "'..' segments are not allowed"),
        Arguments.of("rules:\n  - match: \"\"\n    pin: fast\n", 2, "empty pattern"),
        Arguments.of("rules:\n  - match: \"a/b**\"\n    pin: fast\n", 2, "'**' must be a whole path segment"),
        Arguments.of("rules:\n  - match: a\n    pin: nvme\n", 3, "unknown tier 'nvme' (tiers: fast, slow)"),
        Arguments.of("rules:\n  - match: a\n    prefer: ssd\n", 3, "unknown tier 'ssd'"),
        Arguments.of("budget:\n  mb_per_second: -5\n", 2, "mb_per_second must not be negative: -5"),
        Arguments.of("budget:\n  moves_per_hour: -1\n", 2, "moves_per_hour must not be negative"),
        Arguments.of("budget:\n  moves_per_hour: 1.5\n", 2, "moves_per_hour must be a whole number"),
        Arguments.of("budget:\n  mb_per_second: fast\n", 2, "mb_per_second must be a number"),
        Arguments.of("budget:\n  gb_per_day: 1\n", 2, "unknown key 'gb_per_day' in 'budget'"),
        Arguments.of("headroom:\n  fast: 10%\n  hdd: 5%\n", 3, "headroom for unknown tier 'hdd'"),
        Arguments.of("headroom:\n  fast: 120%\n", 2, "must be below 100%"),
        Arguments.of("headroom:\n  fast: -3G\n", 2, "must not be negative"),
        Arguments.of("headroom:\n  fast: lots\n", 2, "must be a share (10%) or a size (50G)"),
        Arguments.of("capacity:\n  nvme: 10G\n", 2, "capacity for unknown tier 'nvme'"),
        Arguments.of("capacity:\n  fast: -1G\n", 2, "capacity of 'fast' must not be negative"),
        Arguments.of("capacity:\n  fast: [1, 2]\n", 2, "capacity of 'fast' must be a share (10%) or a size (50G)"),
        Arguments.of("rules:\n  - match: a\n    prefer: fast\n    when: {window: 2h, accesses_at_least: 3}\n", 4,
            "window must be one of the tracker's half-lives: 1m, 1h, 1d (got 2h)"),
        Arguments.of("rules:\n  - match: a\n    prefer: fast\n    when:\n      accesses_at_least: 5\n"
            + "      accesses_at_most: 2\n", 6, "accesses_at_most 2 is below accesses_at_least 5"),
        Arguments.of("rules:\n  - match: a\n    prefer: fast\n    when: {accesses_at_least: -1}\n", 4,
            "accesses_at_least must not be negative"),
        Arguments.of("rules:\n  - match: a\n    prefer: fast\n    when: {idle_for: soon}\n", 4,
            "idle_for must be a duration such as 30m, 1h, 7d"),
        Arguments.of("rules:\n  - match: a\n    prefer: fast\n    when: {window: 1h}\n", 4, "gives only a window"),
        Arguments.of("rules:\n  - match: a\n    pin: fast\n    when: {idle_for: 1d}\n", 4,
            "'when' applies to prefer rules only: pin is unconditional"),
        Arguments.of("rules:\n  - match: a\n    pin: fast\n    prefer: slow\n", 2,
            "must have exactly one of pin, never_move, prefer (it has pin and prefer)"),
        Arguments.of("rules:\n  - name: x\n    match: a\n", 2, "rule 'x' must have exactly one of pin, never_move, prefer"),
        Arguments.of("rules:\n  - pin: fast\n", 2, "has no 'match'"),
        Arguments.of("rules:\n  - match: a\n    never_move: false\n", 3, "never_move takes true"),
        Arguments.of("rules:\n  - match: a\n    pin: fast\n    pin: slow\n", 4, "'pin' is given twice (first on line 3)"),
        Arguments.of("rules:\n  - name: x\n    match: a\n    pin: fast\n  - name: x\n    match: b\n    pin: fast\n", 5,
            "rule name 'x' is already used on line 2"),
        Arguments.of("rules: {match: a}\n", 1, "'rules' must be a list"),
        Arguments.of("schedule:\n  windows: [\"25:00-06:00\"]\n", 2, "25:00 is not a time of day"),
        Arguments.of("schedule:\n  windows: [\"nightly\"]\n", 2, "schedule window 'nightly' is not HH:MM-HH:MM"),
        Arguments.of("schedule:\n  windows: \"22:00-06:00\"\n", 2, "'windows' must be a list"),
        Arguments.of("schedule:\n  days: [mon, funday]\n", 2, "unknown day 'funday'"),
        Arguments.of("schedule:\n  days: []\n", 2, "'days' is empty"),
        Arguments.of("version: 2\n", 1, "version must be 1"),
        Arguments.of("limits:\n  cooldown: -1h\n", 2, "cooldown must not be negative"),
        Arguments.of("limits:\n  min_residency: soon\n", 2, "min_residency must be a duration"),
        Arguments.of("limits:\n  pause_latency: 0s\n", 2, "pause_latency must be positive"),
        Arguments.of("limits:\n  pause_in_flight: 0\n", 2, "pause_in_flight must be a whole number from 1"),
        Arguments.of("limits:\n  max_moves: 3\n", 2, "unknown key 'max_moves' in 'limits'"),
        Arguments.of("rules:\n  - match: a\n\tpin: fast\n", 3, "not valid YAML: while scanning for the next token: "
            + "found character '\\t(TAB)' that cannot start any token"),
        Arguments.of("rules: [\n", 2, "not valid YAML: while parsing a flow node: expected the node content"),
        Arguments.of("- a\n- b\n", 1, "the rules file must be a mapping"));
  }

  @ParameterizedTest
  @MethodSource("badFiles")
  void parse_badFile_refusedWithLineAndReason(String yaml, int line, String reason) {
    RulesException e = assertThrows(RulesException.class, () -> parse(yaml), yaml);
    assertTrue(e.reason().contains(reason), "reason '" + e.reason() + "' should contain '" + reason + "'");
    assertEquals(line, e.line(), "line of '" + e.reason() + "' in:\n" + yaml);
    assertEquals("rules.yaml, line " + line + ": " + e.reason(), e.in("rules.yaml"));
  }

  @Test
  void read_missingFile_saysSo(@TempDir Path tmp) {
    RulesException e = assertThrows(RulesException.class, () -> PolicyRules.read(tmp.resolve("none.yaml"), null));
    assertEquals("no such file", e.reason());
  }

  @Test
  void read_tierNamesUnchecked_whenTiersUnknown(@TempDir Path tmp) throws Exception {
    Path f = tmp.resolve("rules.yaml");
    Files.writeString(f, "rules:\n  - match: a\n    pin: nvme\n");
    assertEquals("nvme", PolicyRules.read(f, null).rules().get(0).tier());
    assertThrows(RulesException.class, () -> PolicyRules.read(f, TIERS));
  }

  @Test
  void decide_hardRulesFirst_thenTheFirstPreferenceThatHolds_elseTheModel() throws Exception {
    PolicyRules r = parse("""
        rules:
          - name: busy
            match: "**"
            prefer: fast
            when: {window: 1h, accesses_at_least: 10}
          - name: old
            match: "**"
            prefer: slow
            when: {idle_for: 1d}
          - name: db
            match: "db/**"
            pin: fast
          - name: frozen
            match: "db/frozen/**"
            never_move: true
        """);
    long now = 10L * 86_400_000;
    PolicyRules.Figures busy = new PolicyRules.Figures(now - 1000, new double[] {5, 12, 30});
    PolicyRules.Figures idle = new PolicyRules.Figures(now - 2L * 86_400_000, new double[] {0, 0, 0.3});
    PolicyRules.Figures lukewarm = new PolicyRules.Figures(now - 60_000, new double[] {0.5, 3, 4});

    PolicyRules.Decision d = r.decide("/db/frozen/x", busy, now);
    assertEquals("db", d.deciding().name(), "the first hard rule in the file, over an earlier preference");
    assertEquals(List.of("busy", "old", "db", "frozen"), d.matches().stream().map(m -> m.rule().name()).toList());
    assertTrue(d.matches().get(0).applies() && !d.matches().get(0).decides());
    assertTrue(d.summary().startsWith("hard rule 'db' (line 10): pin to fast"), d.summary());

    assertEquals("busy", r.decide("home/a", busy, now).deciding().name());
    PolicyRules.Decision old = r.decide("home/a", idle, now);
    assertEquals("old", old.deciding().name());
    assertFalse(old.matches().get(0).applies(), "busy's condition does not hold");
    assertEquals("old", r.decide("home/never-read", PolicyRules.Figures.NONE, now).deciding().name(),
        "a file with no recorded access has been idle as long as we know");

    PolicyRules.Decision none = r.decide("home/a", lukewarm, now);
    assertNull(none.deciding());
    assertEquals("no matching rule applies now: the model decides", none.summary());
    assertEquals("no rule matches: the model decides", PolicyRules.none().decide("x", busy, now).summary());
  }

  @Test
  void schedule_windowPastMidnight_belongsToTheDayItStarted() throws Exception {
    PolicyRules.Schedule s = parse("schedule:\n  windows: [\"22:00-06:00\"]\n  days: [fri]\n").schedule();
    LocalDateTime friday = LocalDateTime.of(2026, 12, 4, 0, 0); // a Friday
    assertTrue(s.allows(friday.withHour(23)));
    assertTrue(s.allows(friday.plusDays(1).withHour(5)), "Saturday 05:00 is Friday night's window");
    assertFalse(s.allows(friday.withHour(5)), "Friday 05:00 is Thursday night's");
    assertFalse(s.allows(friday.withHour(12)));
    PolicyRules.Schedule day = parse("schedule:\n  windows: [\"09:00-17:00\"]\n").schedule();
    assertTrue(day.allows(friday.withHour(9)));
    assertFalse(day.allows(friday.withHour(17)));
  }
}
