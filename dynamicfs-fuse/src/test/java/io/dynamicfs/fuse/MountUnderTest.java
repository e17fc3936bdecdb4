package io.dynamicfs.fuse;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What the reusable mounted cases ({@link PosixCases}, {@link LowLevelCases}) need from the mount they run
 * on: a directory of their own in it, a way to remount, and the facts about it that differ between a
 * single node and a cluster.
 */
public interface MountUnderTest {
  /** The directory a case works in: on the mount, empty when the case starts. */
  Path root();

  /** Unmounts and mounts the same filesystem again; {@link #root()} names the same directory afterwards. */
  void remount() throws IOException;

  /** The total size statfs should report (within 1 %), from the space under the mount's storage. */
  long expectedTotalSpace() throws IOException;

  /** Lets other users reach {@link #root()} (the directories above the mount point are the test's own). */
  void openPathToOthers() throws IOException;

  /**
   * The libfuse the mount's low-level binding uses: "fuse3" (the default where libfuse3 is installed, as on
   * the machines that run these tests) or "fuse2", which cannot negotiate renameat2 flags or lseek.
   */
  default String fuseLibrary() {
    return "fuse3";
  }

  /** {@code first/more...} under {@link #root()}. */
  default Path path(String first, String... more) {
    return root().resolve(Path.of(first, more).toString());
  }
}
