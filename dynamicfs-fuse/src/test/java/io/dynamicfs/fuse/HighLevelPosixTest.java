package io.dynamicfs.fuse;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The whole POSIX suite again through the path-based (jnr-fuse high-level) adapter, which stays
 * selectable with -Ddfs.fuse.api=highlevel.
 */
class HighLevelPosixTest extends MountedPosixTest {
  private static String before;

  @BeforeAll
  static void selectHighLevel() {
    before = System.getProperty("dfs.fuse.api");
    System.setProperty("dfs.fuse.api", "highlevel");
  }

  @AfterAll
  static void restore() {
    if (before == null) {
      System.clearProperty("dfs.fuse.api");
    } else {
      System.setProperty("dfs.fuse.api", before);
    }
  }
}
