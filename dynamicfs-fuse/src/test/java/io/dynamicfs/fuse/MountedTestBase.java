package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Each test gets a fresh mount; afterwards it must be gone and fsck must find DATA clean. */
abstract class MountedTestBase {
  @TempDir
  Path base;
  MountedFs fs;

  @BeforeEach
  void mount() throws IOException {
    fs = MountedFs.mount(base);
  }

  @AfterEach
  void unmountAndCheck() throws IOException {
    unmountAndCheck(fs);
  }

  static void unmountAndCheck(MountedFs fs) throws IOException {
    fs.close();
    assertFalse(FuseMount.isMounted(fs.mnt), "mount left behind");
    FsckAssert.assertClean(fs.data);
  }
}
