package io.dynamicfs.core.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The scrub's pace on a virtual clock: what it waits, and when it does not. */
class ByteRateTest {
  private long now = 1_000;
  private final List<Long> sleeps = new ArrayList<>();

  private ByteRate rate(long bytesPerSecond) {
    return new ByteRate(bytesPerSecond, () -> now, nanos -> {
      sleeps.add(nanos);
      now += nanos;
    });
  }

  @Test
  void waitsUntilTheTotalIsDue_fromTheStart() {
    ByteRate r = rate(1_000_000); // 1 MB/s: a byte is due every microsecond
    assertTrue(r.awaitTotal(500_000));
    assertEquals(List.of(500_000_000L), sleeps);
    now += 2_000_000_000L; // the caller was slow: the next 1.5 MB are already due
    assertTrue(r.awaitTotal(2_000_000));
    assertEquals(1, sleeps.size());
    assertTrue(r.awaitTotal(3_000_000));
    assertEquals(500_000_000L, sleeps.get(1));
    assertTrue(r.limited());
  }

  @Test
  void unlimited_orUnderAMillisecond_neverWaits() {
    ByteRate none = rate(0);
    assertTrue(none.awaitTotal(Long.MAX_VALUE / 2));
    assertFalse(none.limited());
    assertTrue(rate(1_000_000_000).awaitTotal(999_000)); // due in 0.999 ms
    assertEquals(List.of(), sleeps);
  }

  @Test
  void again_startsANewPassAtTheSameRate() {
    ByteRate r = rate(1_000);
    now += 10_000_000_000L;
    ByteRate second = r.again();
    assertTrue(r.awaitTotal(5_000)); // 5 s due, 10 s passed
    assertTrue(second.awaitTotal(5_000));
    assertEquals(List.of(5_000_000_000L), sleeps);
  }

  @Test
  void interrupted_answersFalse_andKeepsTheFlag() {
    ByteRate r = new ByteRate(1, () -> 0L, nanos -> {
      throw new InterruptedException();
    });
    assertFalse(r.awaitTotal(10));
    assertTrue(Thread.interrupted());
  }
}
