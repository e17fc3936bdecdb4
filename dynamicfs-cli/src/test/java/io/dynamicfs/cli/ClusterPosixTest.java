package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.fuse.LowLevelCases;
import io.dynamicfs.fuse.MountUnderTest;
import io.dynamicfs.fuse.PosixCases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mounted POSIX cases of the fuse module on a cluster mount: three node processes (replicate-2) on
 * 127.0.0.1 and one {@code mount --cluster} per FUSE preset, each case in a fresh directory of its own on
 * the mount. Afterwards the mounts are unmounted cleanly and fsck of the cluster must be clean.
 */
class ClusterPosixTest {
  enum Preset {
    BALANCED("balanced"), SAFE("safe");

    final String name;

    Preset(String name) {
      this.name = name;
    }
  }

  @TempDir
  static Path tmp;
  private static ClusterFixture cluster;
  private static final Map<Preset, Daemon> mounts = new EnumMap<>(Preset.class);
  private static final AtomicInteger cases = new AtomicInteger();

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ClusterFixture.start(tmp, 3, "replicate-2");
  }

  @AfterAll
  static void unmountAndCheck() throws Exception {
    try (ClusterFixture c = cluster) {
      for (Daemon d : mounts.values()) {
        c.unmount(d);
      }
      mounts.clear();
      c.assertFsckClean();
    }
  }

  private static synchronized Daemon mounted(Preset preset) throws Exception {
    Daemon d = mounts.get(preset);
    if (d == null) {
      d = cluster.mount(tmp.resolve("mnt-" + preset.name), preset.name);
      mounts.put(preset, d);
    }
    return d;
  }

  /** One case's view of a cluster mount: its own directory on the mount of one preset. */
  static final class CaseMount implements MountUnderTest {
    private final Preset preset;
    private Path root;

    CaseMount(Preset preset) {
      this.preset = preset;
    }

    void begin(String kind) throws Exception {
      root = Files.createDirectory(mounted(preset).mnt.resolve(kind + "-" + cases.incrementAndGet()));
    }

    @Override
    public Path root() {
      return root;
    }

    @Override
    public void remount() throws IOException {
      try {
        synchronized (ClusterPosixTest.class) {
          Daemon d = mounts.remove(preset);
          cluster.unmount(d);
          mounted(preset);
        }
      } catch (IOException | RuntimeException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException(e);
      }
    }

    /**
     * What a cluster mount reports: the space its nodes have (free plus what their stores use) divided by the
     * copies each block takes. The three nodes here share one disk, so that is three times its usable space,
     * halved by replicate-2 (what the stores use is far below the 1 % the case allows).
     */
    @Override
    public long expectedTotalSpace() throws IOException {
      return cluster.nodes.size() * Files.getFileStore(tmp).getUsableSpace() / 2;
    }

    @Override
    public void openPathToOthers() throws IOException {
      Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  /** A nested class of cases on a {@link CaseMount}: what the cases ask of their mount goes to {@link #mount()}. */
  interface OnCaseMount extends MountUnderTest {
    CaseMount mount();

    @Override
    default Path root() {
      return mount().root();
    }

    @Override
    default void remount() throws IOException {
      mount().remount();
    }

    @Override
    default long expectedTotalSpace() throws IOException {
      return mount().expectedTotalSpace();
    }

    @Override
    default void openPathToOthers() throws IOException {
      mount().openPathToOthers();
    }
  }

  @Nested
  class PosixDefaultPreset extends PosixCases implements OnCaseMount {
    private final CaseMount m = new CaseMount(Preset.BALANCED);

    @BeforeEach
    void begin() throws Exception {
      m.begin("posix");
    }

    @Override
    public CaseMount mount() {
      return m;
    }
  }

  @Nested
  class PosixSafePreset extends PosixCases implements OnCaseMount {
    private final CaseMount m = new CaseMount(Preset.SAFE);

    @BeforeEach
    void begin() throws Exception {
      m.begin("posix");
    }

    @Override
    public CaseMount mount() {
      return m;
    }
  }

  @Nested
  class LowLevelDefaultPreset extends LowLevelCases implements OnCaseMount {
    private final CaseMount m = new CaseMount(Preset.BALANCED);

    @BeforeEach
    void begin() throws Exception {
      m.begin("lowlevel");
    }

    @Override
    public CaseMount mount() {
      return m;
    }
  }

  /**
   * Two mounts of the same cluster (the default preset's and the safe one's), each in turn writer and reader:
   * close-to-open (a file closed on one is read whole right after open on the other, however the reader's
   * kernel cached it before, or after it dropped the inode), and names changed on one are seen by the other
   * at once with the safe preset and within the default preset's 1 s.
   */
  @Nested
  class BetweenTwoMounts {
    private final Random rnd = new Random();

    @Test
    void aFileClosedOnOneMountIsReadWholeAfterOpenOnTheOther() throws Exception {
      closeToOpen(Preset.BALANCED, Preset.SAFE);
      closeToOpen(Preset.SAFE, Preset.BALANCED);
    }

    @Test
    void namesChangedOnOneMountAreSeenOnTheOther() throws Exception {
      names(Preset.BALANCED, Preset.SAFE);
      names(Preset.SAFE, Preset.BALANCED);
    }

    private void closeToOpen(Preset writer, Preset reader) throws Exception {
      CaseDirectory d = caseDirectory("c2o", writer, reader);
      Path w = d.writer();
      Path r = d.reader();
      byte[] content = bytes(1 + rnd.nextInt(3000));
      Files.write(w.resolve("f"), content);
      assertArrayEquals(content, Files.readAllBytes(r.resolve("f")), "a new file, read right after its close");
      for (int round = 0; round < 12; round++) {
        assertEquals(content.length, Files.size(r.resolve("f"))); // the reader's kernel caches what it saw
        byte[] next = switch (round % 4) {
          case 0 -> concat(content, bytes(1 + rnd.nextInt(300_000))); // grown
          case 1 -> java.util.Arrays.copyOf(content, rnd.nextInt(content.length)); // truncated
          case 2 -> bytes(content.length); // same size, other bytes
          default -> bytes(1 + rnd.nextInt(5000));
        };
        if (round % 3 == 1) {
          // the reader's kernel drops its inode: its next lookup makes a fresh one from the daemon's attributes
          Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "2");
        }
        writeVersion(w.resolve("f"), content, next, round % 4 == 0);
        String what = writer.name + " wrote, " + reader.name + " read, round " + round + " (" + content.length
            + " bytes before, " + next.length + " after)";
        content = next;
        assertArrayEquals(content, Files.readAllBytes(r.resolve("f")), what);
        try (var ch = java.nio.channels.FileChannel.open(r.resolve("f"))) {
          assertEquals(content.length, ch.size(), what + ": fstat after open");
        }
      }
    }

    @Test
    void aHandleOpenedBeforeAChangeElsewhereReadsWhatStatShows() throws Exception {
      readThroughOldHandle(Preset.BALANCED, Preset.SAFE);
      readThroughOldHandle(Preset.SAFE, Preset.BALANCED);
    }

    /**
     * A handle the reader opened before the writer changed the file reads the new bytes: with the safe preset
     * as soon as a stat on the reader shows the new size, with the default one within its 1 s of attribute
     * caching (the kernel ends a read at the size it caches, and a getattr that raced with an invalidation
     * shows the new size to stat without the kernel taking it). Before, the handle's view kept the size of its
     * open: reads ended there for good, and a short answer whose attributes moved meanwhile came back
     * zero-filled from the reader's kernel (the zeros of the close-to-open test above).
     */
    private void readThroughOldHandle(Preset writer, Preset reader) throws Exception {
      CaseDirectory d = caseDirectory("old-handle", writer, reader);
      Path w = d.writer();
      Path r = d.reader();
      byte[] content = bytes(1 + rnd.nextInt(3000));
      Files.write(w.resolve("f"), content);
      try (var ch = java.nio.channels.FileChannel.open(r.resolve("f"))) {
        assertArrayEquals(content, readAll(ch), "before any change");
        for (int round = 0; round < 6; round++) {
          byte[] next = round % 2 == 0 ? concat(content, bytes(1 + rnd.nextInt(300_000)))
              : java.util.Arrays.copyOf(content, rnd.nextInt(content.length));
          writeVersion(w.resolve("f"), content, next, round % 2 == 0);
          content = next;
          String what = writer.name + " wrote, " + reader.name + " read through a handle opened before, round " + round
              + " (" + content.length + " bytes)";
          long start = System.nanoTime();
          while (Files.size(r.resolve("f")) != content.length) {
            assertTrue(System.nanoTime() - start < 5_000_000_000L, what + ": the new size never showed");
            Thread.sleep(10);
          }
          if (reader == Preset.SAFE) {
            assertArrayEquals(content, readAll(ch), what);
          } else {
            start = System.nanoTime();
            for (byte[] got; !java.util.Arrays.equals(content, got = readAll(ch)); Thread.sleep(20)) {
              if (System.nanoTime() - start > 2_000_000_000L) {
                assertArrayEquals(content, got, what + ", 2 s after a stat showed its size");
              }
            }
          }
        }
      }
    }

    /** One case's new directory, as the writer's mount and the reader's mount name it. */
    private record CaseDirectory(Path writer, Path reader) {}

    private CaseDirectory caseDirectory(String kind, Preset writer, Preset reader) throws Exception {
      String dir = kind + "-" + cases.incrementAndGet();
      return new CaseDirectory(Files.createDirectory(mounted(writer).mnt.resolve(dir)), mounted(reader).mnt.resolve(dir));
    }

    /** Replaces {@code f}'s {@code before} with {@code next}: by appending its tail, or by rewriting it whole. */
    private static void writeVersion(Path f, byte[] before, byte[] next, boolean append) throws java.io.IOException {
      if (append) {
        Files.write(f, java.util.Arrays.copyOfRange(next, before.length, next.length), StandardOpenOption.APPEND);
      } else {
        Files.write(f, next);
      }
    }

    private static byte[] readAll(java.nio.channels.FileChannel ch) throws java.io.IOException {
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64 << 10);
      for (long at = 0; ; ) {
        b.clear();
        int n = ch.read(b, at);
        if (n < 0) {
          return out.toByteArray();
        }
        out.write(b.array(), 0, n);
        at += n;
      }
    }

    private void names(Preset writer, Preset reader) throws Exception {
      CaseDirectory d = caseDirectory("names", writer, reader);
      Path w = d.writer();
      Path r = d.reader();
      assertFalse(Files.exists(r.resolve("a")));
      Files.write(w.resolve("a"), bytes(10));
      assertTrue(Files.exists(r.resolve("a")), "a name made on the other mount is there at once");
      Files.createDirectory(w.resolve("d"));
      assertTrue(Files.isDirectory(r.resolve("d")));
      try (var list = Files.list(r)) {
        assertEquals(2, list.count(), "a fresh listing has both");
      }
      long bound = reader == Preset.SAFE ? 0 : 1_000;
      Files.move(w.resolve("a"), w.resolve("d/b")); // the file lives on: only its old name must go
      awaitGone(r, bound, writer, reader, "a");
      assertTrue(Files.exists(r.resolve("d/b")), "the moved file under its new name");
      Files.delete(w.resolve("d/b"));
      Files.delete(w.resolve("d"));
      awaitGone(r, bound, writer, reader, "a", "d");
      try (var list = Files.list(r)) {
        assertEquals(0, list.count(), "a fresh listing is empty");
      }
      org.junit.jupiter.api.Assertions.assertThrows(NoSuchFileException.class, () -> Files.size(r.resolve("a")));
    }

    /** Waits until none of {@code names} is seen in {@code r}, failing after {@code bound} ms and some slack. */
    private void awaitGone(Path r, long bound, Preset writer, Preset reader, String... names) throws Exception {
      long start = System.nanoTime();
      while (java.util.Arrays.stream(names).anyMatch(n -> Files.exists(r.resolve(n)))) {
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertTrue(ms <= bound + 250, "names removed on the " + writer.name + " mount still seen on the "
            + reader.name + " mount after " + ms + " ms");
        Thread.sleep(20);
      }
    }

    private byte[] bytes(int n) {
      byte[] b = new byte[n];
      rnd.nextBytes(b);
      return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
      byte[] c = java.util.Arrays.copyOf(a, a.length + b.length);
      System.arraycopy(b, 0, c, a.length, b.length);
      return c;
    }
  }
}
