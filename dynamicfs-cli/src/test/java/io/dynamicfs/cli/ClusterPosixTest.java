package io.dynamicfs.cli;

import io.dynamicfs.fuse.LowLevelCases;
import io.dynamicfs.fuse.MountUnderTest;
import io.dynamicfs.fuse.PosixCases;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
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
}
