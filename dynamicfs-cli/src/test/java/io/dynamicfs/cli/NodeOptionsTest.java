package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The node options' spellings, the scrub schedule's in particular, and what a background child gets. */
class NodeOptionsTest {
  private static NodeOptions parse(String... args) {
    NodeOptions o = new NodeOptions();
    new CommandLine(o).parseArgs(args);
    return o;
  }

  @Test
  void scrubEvery_hoursDaysOrZero_andTheDefaultIsAWeek() {
    assertEquals(Duration.ofDays(7), parse().scrubEvery());
    assertEquals(Duration.ofDays(7), parse().options().scrubEvery());
    assertEquals(Duration.ofHours(12), parse("--scrub-every", "12h").scrubEvery());
    assertEquals(Duration.ofDays(30), parse("--scrub-every", "30d").options().scrubEvery());
    assertEquals(Duration.ZERO, parse("--scrub-every", "0").scrubEvery());
  }

  @Test
  void scrubEvery_badSpellings_nameTheOption() {
    for (String bad : new String[] {"7", "1w", "-1d", "d", "7 days", "9999999d"}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> parse("--scrub-every", bad).options(), bad);
      assertTrue(e.getMessage().startsWith("--scrub-every must be"), e.getMessage());
    }
  }

  @Test
  void replaceVoterAfter_defaultsToHalfAnHour_zeroIsNever_negativeIsRefused() {
    assertEquals(Duration.ofMinutes(30), parse().options().replaceVoterAfter());
    assertEquals(Duration.ZERO, parse("--replace-voter-after", "0").options().replaceVoterAfter());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> parse("--replace-voter-after", "-5").options());
    assertTrue(e.getMessage().startsWith("--replace-voter-after must be"), e.getMessage());
  }

  @Test
  void orphanGrace_defaultsToAnHour_zeroIsOff_negativeIsRefused() {
    assertEquals(Duration.ofHours(1), parse().options().orphanGrace());
    assertEquals(Duration.ZERO, parse("--orphan-grace", "0").options().orphanGrace());
    assertEquals(Duration.ofSeconds(20), parse("--orphan-grace", "20").options().orphanGrace());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> parse("--orphan-grace", "-1").options());
    assertTrue(e.getMessage().startsWith("--orphan-grace must be"), e.getMessage());
  }

  @Test
  void scrubRate_isASizePerSecond_32MByDefault_zeroUnlimited() {
    assertEquals(32L << 20, parse().options().scrubBytesPerSecond());
    assertEquals(100L << 20, parse("--scrub-rate", "100M").options().scrubBytesPerSecond());
    assertEquals(0, parse("--scrub-rate", "0").options().scrubBytesPerSecond());
  }

  @Test
  void childArguments_carryTheSchedule() {
    NodeOptions o = parse("--scrub-every", "3d", "--dead-node-after", "30", "--replace-voter-after", "90",
        "--scrub-rate", "5M", "--block-tls", "--orphan-grace", "45");
    NodeOptions child = parse(o.childArguments().toArray(String[]::new));
    assertEquals(o.options(), child.options());
    assertTrue(child.options().blockTls());
    assertEquals(false, parse().options().blockTls());
  }
}
