package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.format.DataDirectory;
import java.io.IOException;
import java.nio.file.Path;

/** Runs the real fsck over an unmounted DATA directory and fails the test on any error. */
final class FsckAssert {
  private FsckAssert() {}

  static Fsck.Report assertClean(Path data) throws IOException {
    try (DataDirectory dir = DataDirectory.open(data, null)) {
      Fsck.Report r = Fsck.checkOffline(dir, true, step -> { });
      assertTrue(r.clean(), () -> "fsck found problems: " + r.problems());
      return r;
    }
  }
}
