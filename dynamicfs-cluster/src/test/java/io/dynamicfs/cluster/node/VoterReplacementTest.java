package io.dynamicfs.cluster.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.meta.MetadataStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The leader's decision about a dead voter, each refusal on its own (the whole replacement: ClusterNodeTest). */
class VoterReplacementTest {
  private static final Duration AFTER = Duration.ofMinutes(30);
  private static final Duration LONG = Duration.ofMinutes(31);
  private final VoterReplacement policy = new VoterReplacement(AFTER);

  private static MetadataStore.Node node(int number, String state) {
    return new MetadataStore.Node(number, "n" + number, "127.0.0.1:" + (7000 + 10 * number),
        "127.0.0.1:" + (7001 + 10 * number), state);
  }

  private static String peer(int number) throws Exception {
    return Endpoint.parse("node address", node(number, "ACTIVE").raftAddress()).peerId();
  }

  private static Set<String> voters(int... numbers) throws Exception {
    java.util.Set<String> s = new java.util.HashSet<>();
    for (int n : numbers) {
      s.add(peer(n));
    }
    return s;
  }

  private static final List<MetadataStore.Node> FOUR = List.of(node(1, "ACTIVE"), node(2, "ACTIVE"), node(3, "ACTIVE"),
      node(4, "ACTIVE"));

  @Test
  void aVoterDeadLongerThanTheDelay_isReplaced_byTheLowestNumberedBlockOnlyNode() throws Exception {
    List<MetadataStore.Node> five = new java.util.ArrayList<>(FOUR);
    five.add(node(5, "ACTIVE"));
    VoterReplacement.Step s = policy.next(five, voters(1, 2, 3), Map.of(2, LONG), 2);
    VoterReplacement.Replace r = assertInstanceOf(VoterReplacement.Replace.class, s);
    assertEquals("n2", r.node().nodeId());
    assertEquals("n4", r.spare().nodeId());
    assertEquals(LONG, r.unreachable());
  }

  @Test
  void notYet_notAVoter_orNeverWhenTurnedOff() throws Exception {
    assertInstanceOf(VoterReplacement.Idle.class, policy.next(FOUR, voters(1, 2, 3), Map.of(2, AFTER.minusSeconds(1)), 2));
    assertInstanceOf(VoterReplacement.Idle.class, policy.next(FOUR, voters(1, 2, 3), Map.of(4, LONG), 2),
        "a dead block-only node is the replication manager's business");
    assertInstanceOf(VoterReplacement.Idle.class,
        new VoterReplacement(Duration.ZERO).next(FOUR, voters(1, 2, 3), Map.of(2, LONG), 2));
    assertInstanceOf(VoterReplacement.Idle.class, policy.next(FOUR, voters(1, 3), Map.of(2, LONG), 2),
        "with fewer than three voters a replacement is under way");
    assertThrows(IllegalArgumentException.class, () -> new VoterReplacement(Duration.ofSeconds(-1)));
  }

  @Test
  void noSpare_aDeadSpare_tooFewNodesForTheCopies_orNoMajorityLeft_refuseWithAReason() throws Exception {
    List<MetadataStore.Node> three = FOUR.subList(0, 3);
    assertTrue(((VoterReplacement.NoSpare) policy.next(three, voters(1, 2, 3), Map.of(2, LONG), 2)).why()
        .contains("no block-only node"));
    assertTrue(((VoterReplacement.NoSpare) policy.next(FOUR, voters(1, 2, 3), Map.of(2, LONG, 4, Duration.ofSeconds(5)),
        2)).why().contains("does not answer"));
    assertTrue(((VoterReplacement.NoSpare) policy.next(FOUR, voters(1, 2, 3), Map.of(2, LONG), 4)).why()
        .contains("redundancy needs 4"));
    // three voters of five nodes, two of them gone: the one left alone is no majority of the two that remain
    List<MetadataStore.Node> five = new java.util.ArrayList<>(FOUR);
    five.add(node(5, "ACTIVE"));
    assertTrue(((VoterReplacement.NoSpare) policy.next(five, voters(1, 2, 3), Map.of(2, LONG, 3, Duration.ofSeconds(1)),
        2)).why().contains("only 1 answer"));
  }

  @Test
  void aDrainingNodeOutsideTheGroup_isFinished_beforeAnotherReplacement() throws Exception {
    List<MetadataStore.Node> table = List.of(node(1, "ACTIVE"), node(2, "DRAINING"), node(3, "ACTIVE"),
        node(4, "ACTIVE"), node(5, "ACTIVE"));
    VoterReplacement.Finish f = assertInstanceOf(VoterReplacement.Finish.class,
        policy.next(table, voters(1, 3, 4), Map.of(2, LONG, 3, LONG), 2));
    assertEquals("n2", f.node().nodeId());
    // a DRAINING voter is a cluster leave in progress: not ours to finish
    assertInstanceOf(VoterReplacement.Idle.class, policy.next(table, voters(1, 2, 3), Map.of(), 2));
  }
}
