package io.dynamicfs.fuse;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test class's mounts on the libfuse 2 fallback ({@code -Ddfs.fuse.lib=fuse2} while the class runs,
 * restored afterwards): {@code @ExtendWith(Fuse2Binding.class)} on a subclass of a mounted suite. The mounts
 * are in-process and surefire runs one class at a time, so no other class sees the property.
 */
final class Fuse2Binding implements BeforeAllCallback, AfterAllCallback {
  private static final String PROPERTY = "dfs.fuse.lib";
  private String before;

  @Override
  public void beforeAll(ExtensionContext context) {
    before = System.getProperty(PROPERTY);
    System.setProperty(PROPERTY, "fuse2");
  }

  @Override
  public void afterAll(ExtensionContext context) {
    if (before == null) {
      System.clearProperty(PROPERTY);
    } else {
      System.setProperty(PROPERTY, before);
    }
  }
}
