package io.dynamicfs.fuse.lowlevel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD) // a wrong gate parks the test thread for good
class ReaderGateTest {
  private final AtomicBoolean exited = new AtomicBoolean();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  @AfterEach
  void stop() throws InterruptedException {
    exited.set(true);
    pool.shutdownNow();
    assertTrue(pool.awaitTermination(10, TimeUnit.SECONDS), "a thread stayed parked in the gate");
  }

  private static void waitFor(java.util.function.BooleanSupplier c, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!c.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
      Thread.sleep(1);
    }
  }

  /** A thread that calls enter while every reader slot is taken, once it has parked. */
  private Future<Boolean> parkedSpare(ReaderGate gate) throws InterruptedException {
    Future<Boolean> spare = pool.submit(gate::enter);
    waitFor(() -> gate.parked() == 1, "the spare parked");
    return spare;
  }

  @Test
  void onlyTheReadersGetIn_theRestPark() throws Exception {
    try (ReaderGate gate = new ReaderGate(2, exited::get, "test-watch")) {
      AtomicInteger in = new AtomicInteger();
      for (int i = 0; i < 5; i++) {
        pool.submit(() -> {
          if (gate.enter()) {
            in.incrementAndGet();
          }
        });
      }
      waitFor(() -> in.get() == 2 && gate.parked() == 3, "two readers and three parked");
      Thread.sleep(20); // the readers keep reading (no leave): nobody else may get in
      assertEquals(2, in.get());
      assertEquals(2, gate.reading());
      assertEquals(0, gate.takeovers());
    }
  }

  @Test
  void aReaderThatComesBackQuickly_wakesNobody() throws Exception {
    // a stall far longer than any preemption of this thread: the watcher must not step in here
    try (ReaderGate gate = new ReaderGate(1, TimeUnit.SECONDS.toNanos(30), exited::get, "test-watch")) {
      CountDownLatch spareParked = new CountDownLatch(1);
      assertTrue(gate.enter());
      Future<Boolean> spare = pool.submit(() -> {
        spareParked.countDown();
        return gate.enter();
      });
      spareParked.await();
      waitFor(() -> gate.parked() == 1, "the spare parked");
      for (int i = 0; i < 10_000; i++) { // a caller's requests: each taken and answered within microseconds
        gate.leave(false);
        assertTrue(gate.enter());
      }
      assertEquals(0, gate.woken(), "the spare was woken although the reader never stayed away");
      assertEquals(1, gate.parked());
      assertFalse(spare.isDone());
    }
  }

  @Test
  void whenEveryReaderIsBusyPastTheStall_aParkedThreadTakesOver() throws Exception {
    try (ReaderGate gate = new ReaderGate(2, exited::get, "test-watch")) {
      assertTrue(gate.enter());
      assertTrue(gate.enter());
      Future<Boolean> spare = parkedSpare(gate);
      gate.leave(false); // both readers took a metadata request that then waited (a Raft round, a GC pause)
      gate.leave(false);
      assertTrue(spare.get(5, TimeUnit.SECONDS), "the parked thread was not sent to read the device");
      assertEquals(1, gate.reading());
      waitFor(() -> gate.takeovers() == 1, "the watcher to count its takeover");
    }
  }

  @Test
  void afterAQuietSpell_aStallIsStillNoticed() throws Exception {
    try (ReaderGate gate = new ReaderGate(1, exited::get, "test-watch")) {
      assertTrue(gate.enter());
      Future<Boolean> spare = parkedSpare(gate);
      Thread.sleep(1500); // no request: the watcher rests a second at a time
      long before = System.nanoTime();
      gate.leave(false);
      assertTrue(spare.get(5, TimeUnit.SECONDS));
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - before);
      assertTrue(tookMs < 500, "the resting watcher noticed the stall only after " + tookMs + " ms");
    }
  }

  @Test
  void aRequestThatMovesData_withNobodyLeftReading_wakesAParkedThreadAtOnce() throws Exception {
    try (ReaderGate gate = new ReaderGate(1, exited::get, "test-watch")) {
      assertTrue(gate.enter());
      Future<Boolean> spare = parkedSpare(gate);
      gate.leave(true); // a READ of a block held by another node
      assertTrue(spare.get(5, TimeUnit.SECONDS));
      assertEquals(1, gate.woken());
      assertEquals(0, gate.takeovers(), "the spare waited for the watcher instead of being woken at once");
    }
  }

  @Test
  void dataRequestsMayBlock_metadataRequestsDoNot() {
    for (int opcode : new int[] {15, 16, 20, 30, 33, 43, 47, -1}) { // READ WRITE FSYNC ... unknown
      assertTrue(ReaderGate.mayBlock(opcode), "opcode " + opcode);
    }
    for (int opcode : new int[] {1, 2, 3, 4, 10, 14, 18, 25, 35, 39, 42}) { // LOOKUP FORGET ... FLUSH ... IOCTL
      assertFalse(ReaderGate.mayBlock(opcode), "opcode " + opcode);
    }
  }

  @Test
  void readsAndWritesWakeAtOnceOnlyWhileTheRecentOnesWereSlow() {
    try (ReaderGate gate = new ReaderGate(1, exited::get, "test-watch")) {
      assertTrue(gate.wakesAtOnce(15), "a fresh mount treats READ as possibly slow");
      for (int i = 0; i < 40; i++) {
        gate.served(15, TimeUnit.MICROSECONDS.toNanos(15)); // small files' READs from memory
      }
      assertFalse(gate.wakesAtOnce(15), "quick READs wake nobody");
      assertFalse(gate.wakesAtOnce(16), "nor WRITEs after them");
      assertTrue(gate.wakesAtOnce(20), "an FSYNC always does");
      assertTrue(gate.wakesAtOnce(-1), "so does a request of unknown kind");
      assertFalse(gate.wakesAtOnce(1), "a LOOKUP never does");
      for (int i = 0; i < 40; i++) {
        gate.served(1, TimeUnit.MILLISECONDS.toNanos(5)); // slow metadata does not count
      }
      assertFalse(gate.wakesAtOnce(15));
      for (int i = 0; i < 4; i++) {
        gate.served(15, TimeUnit.MICROSECONDS.toNanos(400)); // cold random reads of a big file
      }
      assertTrue(gate.wakesAtOnce(15), "a few slow READs bring the wake back");
    }
  }

  @Test
  void whenTheSessionExits_everyParkedThreadReturns() throws Exception {
    ReaderGate gate = new ReaderGate(1, exited::get, "test-watch");
    assertTrue(gate.enter());
    List<Future<Boolean>> spares = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      spares.add(pool.submit(gate::enter));
    }
    waitFor(() -> gate.parked() == 4, "four parked");
    exited.set(true);
    gate.wakeAll();
    for (Future<Boolean> f : spares) {
      assertFalse(f.get(5, TimeUnit.SECONDS), "a parked thread was let in after the session exited");
    }
    gate.close();
  }

  @Test
  void refusesNoReaders() {
    assertThrows(IllegalArgumentException.class, () -> new ReaderGate(0, exited::get, "test-watch"));
  }
}
