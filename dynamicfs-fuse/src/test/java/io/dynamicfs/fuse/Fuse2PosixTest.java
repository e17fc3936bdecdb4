package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;

/** The whole POSIX suite again on the libfuse 2 fallback of the low-level binding. */
@ExtendWith(Fuse2Binding.class)
class Fuse2PosixTest extends MountedPosixTest {
  @BeforeEach
  void isFuse2() {
    // after the base class mounted (a subclass @BeforeEach runs after its superclass's)
    assertEquals("fuse2", fs.fuseLibrary());
  }
}
