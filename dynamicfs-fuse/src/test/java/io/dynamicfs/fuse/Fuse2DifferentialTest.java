package io.dynamicfs.fuse;

import org.junit.jupiter.api.extension.ExtendWith;

/** The randomised differential test on the libfuse 2 fallback (without the renameat2 flags it cannot pass on). */
@ExtendWith(Fuse2Binding.class)
class Fuse2DifferentialTest extends DifferentialMountTest {
}
