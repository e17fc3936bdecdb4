package io.dynamicfs.cluster.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SilentMembersTest {
  @Test
  void onlyListenersSilentLongerThanTheLimit_areDropped() {
    SilentMembers s = new SilentMembers(Duration.ofMinutes(3));
    assertEquals(Set.of("dead"), s.listenersToDrop(Map.of("dead", 180_001L, "edge", 180_000L, "live", 40L)));
  }

  @Test
  void aZeroLimit_dropsNoListener() {
    assertEquals(Set.of(), new SilentMembers(Duration.ZERO).listenersToDrop(Map.of("dead", Long.MAX_VALUE)));
  }

  @Test
  void aJoinerIsStuck_onlyOnceSilentLongerThanTheJoinLimit() {
    SilentMembers s = new SilentMembers(Duration.ZERO);
    long limit = SilentMembers.JOIN_SILENCE.toMillis();
    assertEquals(Optional.empty(), s.stuckJoiner(Map.of("slow", limit, "fresh", 0L)));
    assertEquals(Optional.of("gone"), s.stuckJoiner(Map.of("slow", limit, "gone", limit + 1)));
  }

  @Test
  void aListenerIsStarved_onlyWhenWithoutASenderAtTwoChecksInARow() {
    SilentMembers s = new SilentMembers(Duration.ZERO);
    assertEquals(Optional.empty(), s.starved(Set.of("a")));
    assertEquals(Optional.empty(), s.starved(Set.of("b")));
    assertEquals(Optional.of("b"), s.starved(Set.of("b", "c")));
    assertEquals(Optional.empty(), s.starved(Set.of()));
  }
}
