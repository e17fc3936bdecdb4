package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsTest {
  @Test
  void wholeNumbersWithAUnit_orZero() {
    assertEquals(Duration.ofSeconds(45), Durations.parse("45s"));
    assertEquals(Duration.ofMinutes(30), Durations.parse(" 30m "));
    assertEquals(Duration.ofHours(12), Durations.parse("12h"));
    assertEquals(Duration.ofDays(7), Durations.parse("7d"));
    assertEquals(Duration.ZERO, Durations.parse("0"));
    assertEquals(Duration.ofDays(999_999_999), Durations.parse("999999999d"));
  }

  @Test
  void anythingElse_isRefusedWithTheValue() {
    for (String bad : new String[] {"", "7", "1w", "-1d", "d", "1.5h", "7 days", "1234567890s", "12H"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Durations.parse(bad), bad);
      assertEquals("'" + bad + "' is not a duration (a whole number with s, m, h or d, e.g. 30m, 12h, 7d; or 0)",
          e.getMessage());
    }
  }
}
