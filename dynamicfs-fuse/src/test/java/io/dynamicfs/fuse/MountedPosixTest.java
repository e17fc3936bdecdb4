package io.dynamicfs.fuse;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** The POSIX cases on a fresh single-node mount per case; afterwards it must be gone and fsck clean. */
class MountedPosixTest extends PosixCases {
  @TempDir
  Path base;
  MountedFs fs;

  @BeforeEach
  void mount() throws IOException {
    fs = MountedFs.mount(base);
  }

  @AfterEach
  void unmountAndCheck() throws IOException {
    MountedTestBase.unmountAndCheck(fs);
  }

  @Override
  public Path root() {
    return fs.mnt;
  }

  @Override
  public void remount() throws IOException {
    fs.remount();
  }

  @Override
  public long expectedTotalSpace() throws IOException {
    return Files.getFileStore(fs.data).getTotalSpace();
  }

  @Override
  public void openPathToOthers() throws IOException {
    Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwxr-xr-x"));
  }
}
