package io.dynamicfs.fuse;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The low-level cases on a fresh single-node mount per case, and the binding's selection property. */
class LowLevelMountTest extends LowLevelCases {
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

  @Test
  void fuseMountDelegatesWhenPropertySet() throws IOException {
    fs.close();
    Path mnt = base.resolve("mnt");
    String before = System.getProperty("dfs.fuse.api");
    System.setProperty("dfs.fuse.api", "lowlevel");
    try (io.dynamicfs.core.format.DataDirectory dir =
            io.dynamicfs.core.format.DataDirectory.open(base.resolve("data"), null);
        io.dynamicfs.core.engine.DynamicFileSystem engine = io.dynamicfs.core.engine.DynamicFileSystem.open(dir,
            io.dynamicfs.core.engine.EngineOptions.defaults())) {
      FuseMount m = FuseMount.mount(engine, mnt, io.dynamicfs.fuse.MountOptions.defaults("dynamicfs:hook"));
      try {
        assertTrue(m.isAlive());
        assertEquals(mnt.toAbsolutePath().normalize(), m.mountPoint());
        assertTrue(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().startsWith("fuse-ll-")),
            "low-level workers running");
        Files.writeString(mnt.resolve("f"), "via hook");
        assertEquals("via hook", Files.readString(mnt.resolve("f")));
      } finally {
        m.close();
      }
      assertFalse(m.isAlive());
      assertFalse(FuseMount.isMounted(mnt));
    } finally {
      if (before == null) {
        System.clearProperty("dfs.fuse.api");
      } else {
        System.setProperty("dfs.fuse.api", before);
      }
    }
  }

}
