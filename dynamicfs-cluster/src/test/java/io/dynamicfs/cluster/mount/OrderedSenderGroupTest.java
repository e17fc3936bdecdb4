package io.dynamicfs.cluster.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.meta.MetaOp;
import io.dynamicfs.core.meta.OpCodec;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** What one log entry of a mount's ordered stream carries ({@link OrderedSender#group}). */
class OrderedSenderGroupTest {
  private static OrderedSender.Item ahead(int valueBytes) {
    return OrderedSender.Item.of(0, new MetaOp.SetXattr(5, "user.x", new byte[valueBytes], 0, 1L), true,
        new CompletableFuture<>());
  }

  private static OrderedSender.Item waited() {
    return OrderedSender.Item.of(0, new MetaOp.Remove(1, "a", false, 0, 1L), false, new CompletableFuture<>());
  }

  private static long encodedBytes(List<OrderedSender.Item> group) {
    return OpCodec.encode(new MetaOp.Batch(group.stream().map(OrderedSender.Item::op).toList())).length;
  }

  @Test
  void group_manySmallFilesQueued_everyEntryStaysUnderTheByteBoundAndTheOrderIsKept() {
    ArrayDeque<OrderedSender.Item> queue = new ArrayDeque<>();
    List<OrderedSender.Item> all = new ArrayList<>();
    for (int i = 0; i < 3000; i++) { // 3000 ops of ~8 KiB: 24 MB queued, far beyond one entry
      OrderedSender.Item item = ahead(8000);
      queue.add(item);
      all.add(item);
    }
    List<OrderedSender.Item> sent = new ArrayList<>();
    List<OrderedSender.Item> group = new ArrayList<>();
    int entries = 0;
    while (!queue.isEmpty()) {
      OrderedSender.group(queue.poll(), queue, group);
      assertTrue(group.size() > 1, "ops applied ahead share an entry");
      // the Ratis write buffer (4 MiB by default) refuses anything larger, which fails the mount
      assertTrue(encodedBytes(group) <= OrderedSender.MAX_BATCH_BYTES + 64,
          () -> "a batch of " + group.size() + " ops encodes to " + encodedBytes(group) + " bytes");
      sent.addAll(group);
      entries++;
    }
    assertEquals(all, sent, "every op sent once, in queue order");
    assertTrue(entries >= 3000L * 8000 / OrderedSender.MAX_BATCH_BYTES, "entries: " + entries);
  }

  @Test
  void group_anOpThatWaitsGoesAlone_andEndsTheBatchBeforeIt() {
    ArrayDeque<OrderedSender.Item> queue = new ArrayDeque<>(List.of(ahead(10), ahead(10), waited(), ahead(10)));
    List<OrderedSender.Item> group = new ArrayList<>();
    OrderedSender.group(queue.poll(), queue, group);
    assertEquals(2, group.size());
    OrderedSender.group(queue.poll(), queue, group);
    assertEquals(1, group.size());
    assertTrue(!group.get(0).ahead());
    OrderedSender.group(queue.poll(), queue, group);
    assertEquals(1, group.size());
    assertTrue(queue.isEmpty());
  }

  @Test
  void group_oneOpOverTheBound_stillGoes_alone() {
    ArrayDeque<OrderedSender.Item> queue = new ArrayDeque<>(List.of(ahead(10)));
    List<OrderedSender.Item> group = new ArrayList<>();
    OrderedSender.group(ahead(OrderedSender.MAX_BATCH_BYTES + 1), queue, group);
    assertEquals(1, group.size());
    assertEquals(1, queue.size());
  }

  @Test
  void group_stopsAtMaxBatchOps() {
    ArrayDeque<OrderedSender.Item> queue = new ArrayDeque<>();
    for (int i = 0; i < OrderedSender.MAX_BATCH + 10; i++) {
      queue.add(ahead(1));
    }
    List<OrderedSender.Item> group = new ArrayList<>();
    OrderedSender.group(queue.poll(), queue, group);
    assertEquals(OrderedSender.MAX_BATCH, group.size());
    assertEquals(10, queue.size());
  }
}
