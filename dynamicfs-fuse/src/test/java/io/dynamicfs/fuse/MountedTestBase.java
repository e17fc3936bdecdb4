package io.dynamicfs.fuse;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Each test gets a fresh mount; afterwards it is always unmounted and fsck must find DATA clean. */
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
    fs.close();
    FsckAssert.assertClean(fs.data);
  }
}
