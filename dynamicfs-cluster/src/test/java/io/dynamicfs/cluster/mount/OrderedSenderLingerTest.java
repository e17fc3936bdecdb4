package io.dynamicfs.cluster.mount;

import static io.dynamicfs.cluster.node.ClusterTests.freeEndpoint;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.cluster.node.ClusterAdmin;
import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpApplier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mount's ordered stream lingers over ops applied ahead so that they share log entries, and never makes
 * anyone wait for the linger: a sync, or an op that is waited for queued behind them, sends them at once.
 * Against a real one-node group on 127.0.0.1; the lingers are far longer than any test may take, so a send
 * that waited for one would fail by timeout.
 */
class OrderedSenderLingerTest {
  private static final Duration FOREVER = Duration.ofHours(1);
  private static final Duration PATIENCE = Duration.ofSeconds(30);

  @TempDir Path tmp;
  private ClusterNode node;
  private ClusterAdmin admin;
  private OrderedSender sender;

  @BeforeEach
  void start() throws Exception {
    node = ClusterNode.init(tmp.resolve("n1"), "n1", freeEndpoint(), "replicate-2", FormatOptions.DEFAULT,
        new ClusterNode.Options(Duration.ofSeconds(1), Duration.ofMillis(500), 1 << 20));
    admin = ClusterAdmin.connect(node.token(), List.of(node.file().listen()), Duration.ofSeconds(30));
  }

  @AfterEach
  void stop() throws Exception {
    if (sender != null) {
      sender.close();
    }
    if (admin != null) {
      admin.close();
    }
    if (node != null) {
      node.close();
    }
  }

  private List<CompletableFuture<OpApplier.Result>> queueAhead(long firstKey, int n) throws Exception {
    List<CompletableFuture<OpApplier.Result>> answers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      answers.add(sender.enqueue(firstKey + i, new MetaOp.Noop(), true));
    }
    return answers;
  }

  private static Set<Long> entries(List<CompletableFuture<OpApplier.Result>> answers) {
    Set<Long> indexes = new TreeSet<>();
    for (CompletableFuture<OpApplier.Result> a : answers) {
      indexes.add(a.join().index());
    }
    return indexes;
  }

  @Test
  void opsAppliedAhead_waitForCompany_andASyncSendsThemAtOnce() throws Exception {
    sender = new OrderedSender(admin.meta(), FOREVER);
    List<CompletableFuture<OpApplier.Result>> answers = queueAhead(1, 300);
    Thread.sleep(300);
    assertTrue(answers.stream().noneMatch(CompletableFuture::isDone), "nothing is sent while it lingers");
    assertTimeoutPreemptively(PATIENCE, sender::awaitAnswered, "a sync does not wait for the linger");
    assertEquals(1, entries(answers).size(), "300 ops queued together went as one entry: " + entries(answers));
  }

  @Test
  void anOpThatIsWaitedFor_sendsTheOpsAheadOfItAtOnce_inOrder() throws Exception {
    sender = new OrderedSender(admin.meta(), FOREVER);
    List<CompletableFuture<OpApplier.Result>> ahead = queueAhead(1, 20);
    CompletableFuture<OpApplier.Result> waited = sender.enqueue(21, new MetaOp.Noop(), false);
    OpApplier.Result r = assertTimeoutPreemptively(PATIENCE, () -> waited.get());
    Set<Long> aheadEntries = entries(ahead);
    assertEquals(1, aheadEntries.size(), "the ops ahead went together: " + aheadEntries);
    assertTrue(r.index() > aheadEntries.iterator().next(), "the waited-for op is logged after them");
  }

  @Test
  void aLingerEndsByItself() throws Exception {
    sender = new OrderedSender(admin.meta(), Duration.ofMillis(200));
    List<CompletableFuture<OpApplier.Result>> answers = queueAhead(1, 5);
    assertTimeoutPreemptively(PATIENCE, () -> CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get());
    assertEquals(1, entries(answers).size());
  }

  @Test
  void aFullBatch_goesWithoutWaitingForTheLinger() throws Exception {
    sender = new OrderedSender(admin.meta(), FOREVER);
    List<CompletableFuture<OpApplier.Result>> answers = queueAhead(1, OrderedSender.MAX_BATCH);
    assertTimeoutPreemptively(PATIENCE,
        () -> CompletableFuture.allOf(answers.toArray(CompletableFuture[]::new)).get());
  }
}
