package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.meta.MetadataStore;
import java.io.IOException;
import java.nio.file.Path;

/** Runs the real fsck over an unmounted DATA directory and fails the test on any error. */
final class FsckAssert {
  private FsckAssert() {}

  static Fsck.Report assertClean(Path data) throws IOException {
    try (DataDirectory dir = DataDirectory.open(data, null);
        MetadataStore meta = MetadataStore.open(dir.metaDir(), dir.format().blockSize());
        SegmentStore store = SegmentStore.openForCheck(dir.blocksDir(), dir.format().codec())) {
      Fsck.Report r = Fsck.check(meta, store, true, step -> { });
      assertTrue(r.clean() && store.damage().isEmpty(),
          () -> "fsck found problems: " + r.problems() + " " + store.damage());
      return r;
    }
  }
}
