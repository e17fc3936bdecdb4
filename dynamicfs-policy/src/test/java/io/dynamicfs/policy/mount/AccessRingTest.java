package io.dynamicfs.policy.mount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class AccessRingTest {
  @Test
  void offer_full_dropsAndCounts_thenWrapsAround() {
    AccessRing r = new AccessRing(4);
    for (int i = 0; i < 4; i++) {
      assertTrue(r.offer(i, i * 10, i + 1, i == 2, 100 + i));
    }
    assertFalse(r.offer(9, 0, 1, false, 0), "a full ring refuses");
    assertEquals(1, r.dropped());
    List<String> got = new ArrayList<>();
    assertEquals(4, r.poll((ino, off, len, w, t) -> got.add(ino + "@" + off + "+" + len + (w ? "w" : "r") + t)));
    assertEquals(List.of("0@0+1r100", "1@10+2r101", "2@20+3w102", "3@30+4r103"), got);
    assertEquals(0, r.poll((ino, off, len, w, t) -> got.add("more")));
    for (int lap = 0; lap < 3; lap++) { // cells are reused lap after lap
      long expected = lap;
      assertTrue(r.offer(7, lap, 1, false, lap));
      assertEquals(1, r.poll((ino, off, len, w, t) -> assertEquals(expected, off)));
    }
  }

  /** Four producers and one consumer: every access is consumed or counted dropped, each producer's in order. */
  @Test
  void offer_concurrentProducers_nothingLostNothingReordered() throws Exception {
    AccessRing r = new AccessRing(1 << 8);
    int producers = 4;
    int each = 200_000;
    long[] lastSeen = new long[producers];
    java.util.Arrays.fill(lastSeen, -1);
    long[] consumed = new long[1];
    AtomicBoolean outOfOrder = new AtomicBoolean();
    AccessRing.Sink sink = (ino, off, len, w, t) -> {
      int p = (int) ino;
      if (off <= lastSeen[p]) {
        outOfOrder.set(true);
      }
      lastSeen[p] = off;
      consumed[0]++;
    };
    List<Thread> threads = new ArrayList<>();
    for (int p = 0; p < producers; p++) {
      int id = p;
      Thread t = new Thread(() -> {
        for (int i = 0; i < each; i++) {
          r.offer(id, i, 1, false, i);
        }
      });
      threads.add(t);
      t.start();
    }
    while (threads.stream().anyMatch(Thread::isAlive)) {
      r.poll(sink);
    }
    for (Thread t : threads) {
      t.join();
    }
    r.poll(sink);
    assertFalse(outOfOrder.get(), "a producer's accesses came out of order");
    assertEquals((long) producers * each, consumed[0] + r.dropped(), "consumed " + consumed[0] + ", dropped " + r.dropped());
    assertTrue(consumed[0] > 0);
  }
}
