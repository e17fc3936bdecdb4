package io.dynamicfs.fuse.lowlevel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** DeviceSpin over a pipe standing in for /dev/fuse: spinning, sleeping in poll, the blocking mode, the property. */
class DeviceSpinTest {
  private static final int F_GETFL = 3;
  private static final int O_NONBLOCK = 04000;

  /** The pipe calls the test needs. */
  public interface Pipes {
    int pipe(int[] fds);

    long read(int fd, byte[] buf, long n);

    long write(int fd, byte[] buf, long n);

    int close(int fd);

    int fcntl(int fd, int cmd, int arg);
  }

  private static final Pipes C = LibraryLoader.create(Pipes.class).failImmediately().load("c");
  private final int[] fds = new int[2];
  private final byte[] buf = new byte[64];

  @BeforeEach
  void pipe() {
    assertEquals(0, C.pipe(fds));
  }

  @AfterEach
  void close() {
    C.close(fds[0]);
    C.close(fds[1]);
  }

  /** A read of the pipe as libfuse's receive answers: bytes, 0 at the end, -errno. */
  private IntSupplier reader() {
    jnr.ffi.Runtime rt = jnr.ffi.Runtime.getRuntime(C);
    return () -> {
      long n = C.read(fds[0], buf, buf.length);
      return n >= 0 ? (int) n : -rt.getLastError();
    };
  }

  private Thread writeLater(long delayMs, String text) {
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(delayMs);
      } catch (InterruptedException e) {
        return;
      }
      byte[] b = text.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      C.write(fds[1], b, b.length);
    });
    t.start();
    return t;
  }

  @Test
  void aRequestWithinTheSpell_isTakenWithoutSleeping() throws Exception {
    DeviceSpin spin = DeviceSpin.on(fds[0], TimeUnit.SECONDS.toNanos(5));
    assertTrue((C.fcntl(fds[0], F_GETFL, 0) & O_NONBLOCK) != 0, "the device is read without blocking");
    Pointer pfd = DeviceSpin.pollFd();
    Thread w = writeLater(20, "abc");
    assertEquals(3, spin.receive(reader(), pfd, () -> false));
    w.join();
    assertEquals(1, spin.atOnce());
    assertEquals(0, spin.slept());
  }

  @Test
  void aRequestAfterTheSpell_wakesTheReaderFromPoll() throws Exception {
    DeviceSpin spin = DeviceSpin.on(fds[0], TimeUnit.MICROSECONDS.toNanos(100));
    Pointer pfd = DeviceSpin.pollFd();
    Thread w = writeLater(300, "abcd");
    long t0 = System.nanoTime();
    assertEquals(4, spin.receive(reader(), pfd, () -> false));
    w.join();
    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(250), "waited for the write");
    assertEquals(0, spin.atOnce());
    assertEquals(1, spin.slept());
  }

  /**
   * Quiet seconds keep the reader asleep while the session lives; once it has ended, the next quiet second
   * gives the caller -EAGAIN (to see that), and nothing is counted.
   */
  @Test
  @org.junit.jupiter.api.Timeout(10)
  void quietSeconds_keepTheReaderAsleep_untilTheSessionEnded() {
    DeviceSpin spin = DeviceSpin.on(fds[0], TimeUnit.MICROSECONDS.toNanos(100));
    long t0 = System.nanoTime();
    long endsAt = t0 + TimeUnit.MILLISECONDS.toNanos(1500);
    assertEquals(-11, spin.receive(reader(), DeviceSpin.pollFd(), () -> System.nanoTime() - endsAt > 0));
    assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(1500), "slept past the first quiet second");
    assertEquals(0, spin.atOnce() + spin.slept());
  }

  @Test
  void theEndOfTheDevice_endsTheWait() {
    DeviceSpin spin = DeviceSpin.on(fds[0], TimeUnit.MICROSECONDS.toNanos(100));
    C.close(fds[1]);
    fds[1] = -1;
    assertEquals(0, spin.receive(reader(), DeviceSpin.pollFd(), () -> false), "0 bytes: the session ended");
  }

  @Test
  void noSpell_leavesTheDeviceBlocking_andReadsOnce() throws Exception {
    DeviceSpin spin = DeviceSpin.on(fds[0], 0);
    assertEquals(0, C.fcntl(fds[0], F_GETFL, 0) & O_NONBLOCK, "blocking as opened");
    Thread w = writeLater(50, "xy");
    assertEquals(2, spin.receive(reader(), DeviceSpin.pollFd(), () -> false));
    w.join();
    assertEquals(0, spin.atOnce() + spin.slept(), "nothing counted without a spell");
  }

  @Test
  void theSpellProperty_refusesWhatIsNotMicroseconds() {
    String old = System.getProperty("dfs.fuse.spinUs");
    try {
      for (String bad : new String[] {"-1", "fast", "1000001"}) {
        System.setProperty("dfs.fuse.spinUs", bad);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            DeviceSpin::spinNsFromSystemProperty, bad);
        assertTrue(e.getMessage().contains("dfs.fuse.spinUs=" + bad), e.getMessage());
      }
      System.setProperty("dfs.fuse.spinUs", "0");
      assertEquals(0, DeviceSpin.spinNsFromSystemProperty());
      System.clearProperty("dfs.fuse.spinUs");
      assertEquals(TimeUnit.MICROSECONDS.toNanos(DeviceSpin.DEFAULT_SPIN_US), DeviceSpin.spinNsFromSystemProperty());
    } finally {
      if (old == null) {
        System.clearProperty("dfs.fuse.spinUs");
      } else {
        System.setProperty("dfs.fuse.spinUs", old);
      }
    }
  }
}
