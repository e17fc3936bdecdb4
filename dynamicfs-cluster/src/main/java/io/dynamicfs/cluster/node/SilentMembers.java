package io.dynamicfs.cluster.node;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the leader does about members of the metadata group that stopped answering it, other than voters
 * (voters have {@link VoterReplacement}).
 *
 * <ul>
 *   <li>A <b>listener</b> is a cluster mount's replica. A mount leaves the group when it unmounts; one that
 *       dies instead (kill -9, a crashed or unplugged machine) stays in the configuration, and the leader
 *       keeps sending it the log and retrying its connection for as long as the cluster runs, one more for
 *       every such crash. One silent for longer than a limit is dropped. Dropping a live mount by mistake (a
 *       long pause or partition) costs that mount a round: it finds itself left out at its next membership
 *       check and puts itself back, and the leader sends it what it missed.
 *   <li>A <b>joining</b> member (a mount's replica or a node being added) that stops answering before the
 *       change is done should make Ratis give the change up after its staging timeout (three election
 *       timeouts), and mostly does; on a one-voter group with no listener it did not (still in progress 60 s
 *       after, nothing at the address), and meanwhile every other change is refused
 *       ({@code ReconfigurationInProgressException}): no mount could join or leave, no node be added or
 *       removed. A new leader starts without it, so the leader steps down once such a member has been silent
 *       for {@link #JOIN_SILENCE}. A joiner that is alive answers within a heartbeat, a checkpoint download
 *       included (each chunk is an answer).
 *   <li>A listener the leader has <b>no sender</b> for gets nothing, though the configuration names it: its
 *       mount stops receiving the log, cannot renew its session, and fails every operation once the session
 *       ends. Ratis 3.2.2 does this to every listener added under the current leader when a change fails
 *       because a member being added stopped answering: such listeners are never marked caught up
 *       ({@code LeaderStateImpl.checkStaging} marks only voters, {@code containsInConf} without roles), and the
 *       failure stops every sender not caught up. A new leader makes a sender for each listener of the
 *       configuration, so the leader steps down when one has been without a sender for two checks in a row
 *       (one alone may be a change in flight between the two reads).
 * </ul>
 *
 * <p>Used from one thread (the leader's repair duty).
 */
final class SilentMembers {
  /** How long a member being added may go without answering before its change is abandoned. */
  static final Duration JOIN_SILENCE = Duration.ofSeconds(30);

  private final Duration dropListenerAfter;
  /** The listeners without a sender at the previous check. */
  private Set<String> unfedBefore = Set.of();

  /** Drops listeners silent for longer than {@code dropListenerAfter}; {@link Duration#ZERO}: never. */
  SilentMembers(Duration dropListenerAfter) {
    this.dropListenerAfter = dropListenerAfter;
  }

  /** The ids of {@code silentMs} (listener id → milliseconds since its last answer) due to be dropped. */
  Set<String> listenersToDrop(Map<String, Long> silentMs) {
    Set<String> due = new TreeSet<>();
    if (dropListenerAfter.isZero()) {
      return due;
    }
    silentMs.forEach((id, ms) -> {
      if (ms > dropListenerAfter.toMillis()) {
        due.add(id);
      }
    });
    return due;
  }

  /** A listener without a sender at this check and the one before ({@code unfed}: those now), if any. */
  Optional<String> starved(Set<String> unfed) {
    Optional<String> both = unfed.stream().filter(unfedBefore::contains).sorted().findFirst();
    unfedBefore = Set.copyOf(unfed);
    return both;
  }

  /** A member being added that has been silent too long ({@code silentMs} as above), if any. */
  Optional<String> stuckJoiner(Map<String, Long> silentMs) {
    return silentMs.entrySet().stream().filter(e -> e.getValue() > JOIN_SILENCE.toMillis()).map(Map.Entry::getKey)
        .sorted().findFirst();
  }
}
