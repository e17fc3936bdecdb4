package io.dynamicfs.core.intent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link IntentLog}: records round-trip checked, damage is EIO, fsyncs group, files roll and are reclaimed. */
class IntentLogTest {
  private static final long MIB = 1 << 20;

  @TempDir Path dir;

  private static IntentLog.Range range(long ino, long offset, byte[] data) {
    return new IntentLog.Range(ino, offset, data, 0, data.length);
  }

  @Test
  void appendSyncRead_returnsTheBytes_andChecksThePlace() throws IOException {
    try (IntentLog log = new IntentLog(new DirectoryLogStorage(dir), 8 * MIB)) {
      byte[] a = "hello".getBytes();
      byte[] b = new byte[5000];
      new Random(1).nextBytes(b);
      IntentLog.Ticket t = log.append(List.of(range(7, 100, a), new IntentLog.Range(7, 9000, b, 10, 4000)));
      log.sync(t);
      assertArrayEquals(a, log.read(t.file(), t.position(0), 7, 100, 5, t.crc(0)));
      assertArrayEquals(java.util.Arrays.copyOfRange(b, 10, 4010), log.read(t.file(), t.position(1), 7, 9000, 4000,
          t.crc(1)));
      // the record belongs to inode 7 at offset 100: asking for anything else is EIO, never other bytes
      assertEquals(Errno.EIO, assertThrows(FsException.class,
          () -> log.read(t.file(), t.position(0), 8, 100, 5, t.crc(0))).errno());
      assertEquals(Errno.EIO, assertThrows(FsException.class,
          () -> log.read(t.file(), t.position(0), 7, 101, 5, t.crc(0))).errno());
      assertEquals(Errno.EIO, assertThrows(FsException.class,
          () -> log.read(t.file(), t.position(0), 7, 100, 5, t.crc(0) ^ 1)).errno());
      log.release(t);
    }
  }

  @Test
  void read_flippedPayloadByte_failsEio() throws IOException {
    DirectoryLogStorage storage = new DirectoryLogStorage(dir);
    try (IntentLog log = new IntentLog(storage, 8 * MIB)) {
      IntentLog.Ticket t = log.append(List.of(range(3, 0, new byte[] {1, 2, 3, 4})));
      log.sync(t);
      try (FileChannel ch = FileChannel.open(storage.path(t.file()), StandardOpenOption.WRITE)) {
        ch.write(ByteBuffer.wrap(new byte[] {9}), t.position(0) + IntentLog.HEADER + 2);
      }
      FsException e = assertThrows(FsException.class, () -> log.read(t.file(), t.position(0), 3, 0, 4, t.crc(0)));
      assertEquals(Errno.EIO, e.errno());
    }
  }

  @Test
  void concurrentSyncs_shareDeviceSyncs() throws Exception {
    // a device sync of 2 ms (what a disk without a write cache takes), so the test does not depend on how
    // fast this machine's fsync is (on tmpfs it does nothing, and nothing would overlap)
    PowerLossLogStorage storage = new PowerLossLogStorage(dir) {
      @Override
      public void sync(int file) throws IOException {
        try {
          Thread.sleep(2);
        } catch (InterruptedException e) {
          throw new IOException(e);
        }
        super.sync(file);
      }
    };
    int threads = 8;
    int each = 50;
    try (IntentLog log = new IntentLog(storage, 64 * MIB)) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        long ino = i + 1;
        fs.add(pool.submit(() -> {
          start.await();
          for (int k = 0; k < each; k++) {
            IntentLog.Ticket t = log.append(List.of(range(ino, k * 4096L, new byte[4096])));
            log.sync(t);
            log.release(t);
          }
          return null;
        }));
      }
      start.countDown();
      for (Future<?> f : fs) {
        f.get();
      }
      pool.shutdown();
      System.out.printf("IntentLogTest: %d fsyncs took %d device syncs%n", threads * each, log.syncs());
      assertTrue(log.syncs() < threads * each, "fsyncs were grouped: " + log.syncs() + " device syncs");
    }
  }

  @Test
  void reclaim_spares_theActiveFile_pinnedFiles_andReferencedFiles() throws IOException {
    try (IntentLog log = new IntentLog(new DirectoryLogStorage(dir), 8 * MIB)) {
      IntentLog.Ticket a = log.append(List.of(range(1, 0, new byte[100])));
      log.sync(a);
      log.roll();
      IntentLog.Ticket b = log.append(List.of(range(1, 0, new byte[100])));
      log.sync(b);
      log.roll();
      IntentLog.Ticket c = log.append(List.of(range(1, 0, new byte[100])));
      log.sync(c);
      log.release(c);
      // a: pinned; b: released but referenced; c: active
      log.release(b);
      assertEquals(0, log.reclaim(() -> Set.of(b.file())));
      assertEquals(Set.of(a.file(), b.file(), c.file()), log.files());
      log.release(a);
      assertTrue(log.reclaim(() -> Set.of(b.file())) > 0);
      assertEquals(Set.of(b.file(), c.file()), log.files());
      log.roll();
      log.reclaim(Set::of);
      assertEquals(Set.of(), log.files());
      assertFalse(log.full());
    }
  }

  @Test
  void reopen_afterPowerLoss_keepsSyncedRecords_andAppendsToANewFile() throws IOException {
    PowerLossLogStorage storage = new PowerLossLogStorage(dir);
    IntentLog log = new IntentLog(storage, 8 * MIB);
    byte[] kept = new byte[3000];
    new Random(5).nextBytes(kept);
    IntentLog.Ticket t = log.append(List.of(range(9, 4096, kept)));
    log.sync(t);
    IntentLog.Ticket lost = log.append(List.of(range(9, 0, new byte[20000])));
    storage.crash(new Random(42));
    assertTrue(storage.unsyncedBytesLost() > 0);
    try (IntentLog again = new IntentLog(new DirectoryLogStorage(dir), 8 * MIB)) {
      assertArrayEquals(kept, again.read(t.file(), t.position(0), 9, 4096, kept.length, t.crc(0)));
      IntentLog.Ticket next = again.append(List.of(range(9, 0, new byte[] {1})));
      assertTrue(next.file() > t.file(), "a reopened log never appends after a possibly torn tail");
      assertTrue(lost.file() == t.file());
    }
  }
}
