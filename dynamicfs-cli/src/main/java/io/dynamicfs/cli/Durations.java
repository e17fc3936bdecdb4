package io.dynamicfs.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses command-line durations: a whole number with s, m, h or d (30m, 12h, 7d), or 0. The rules file has a
 * richer grammar of its own (fractions, ms and w, errors with the line: {@code PolicyRules}).
 */
public final class Durations {
  private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(s|m|h|d)?");

  private Durations() {}

  /** The duration {@code value} spells; IllegalArgumentException saying so if it spells none. */
  public static Duration parse(String value) {
    Matcher m = DURATION.matcher(value.trim());
    if (!m.matches() || (m.group(2) == null && Long.parseLong(m.group(1)) != 0)) {
      throw new IllegalArgumentException(
          "'" + value + "' is not a duration (a whole number with s, m, h or d, e.g. 30m, 12h, 7d; or 0)");
    }
    long n = Long.parseLong(m.group(1));
    return m.group(2) == null ? Duration.ZERO : switch (m.group(2)) {
      case "s" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofDays(n);
    };
  }
}
