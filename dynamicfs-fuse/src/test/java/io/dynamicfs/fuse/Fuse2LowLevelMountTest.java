package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The low-level cases on the libfuse 2 fallback: what libfuse 2 cannot negotiate (renameat2 flags, lseek)
 * skips with that reason; copy_file_range passes because the kernel then copies the bytes itself.
 */
@ExtendWith(Fuse2Binding.class)
class Fuse2LowLevelMountTest extends LowLevelMountTest {
  @BeforeEach
  void isFuse2() {
    // after the base class mounted (a subclass @BeforeEach runs after its superclass's)
    assertEquals("fuse2", fs.fuseLibrary());
  }
}
