package io.dynamicfs.fuse.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileType;
import io.dynamicfs.fuse.MountOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

/** macFUSE options and macOS names, as pure logic (not run on a Mac). */
class MacPlatformTest {
  private final Platform mac = Platform.MACOS;

  @Test
  void pathApiArguments_macFuseOptions_noLinuxOnlyOnes() {
    MountOptions mo = new MountOptions("dynamicfs:/Users/a/data", true, 0, 1, 128 << 10,
        List.of("big_writes,noatime", "max_readahead=4096", "subtype=x"), false);
    List<String> args = mac.pathApiArguments(mo);
    assertEquals("-o", args.get(0));
    List<String> opts = List.of(args.get(1).split(","));
    assertEquals(List.of("fsname=dynamicfs:/Users/a/data", "volname=DynamicFS", "default_permissions",
        "allow_other", "noappledouble", "iosize=131072", "use_ino", "auto_cache", "attr_timeout=0.0",
        "entry_timeout=1.0", "negative_timeout=0", "noatime"), opts);
  }

  @Test
  void lowLevelOptions_noPathApiTimeouts_debugKept() {
    MountOptions mo = new MountOptions("dynamicfs:/d", false, 0, 1, 65536, List.of("rdonly"), true);
    assertEquals(List.of("fsname=dynamicfs:/d", "volname=DynamicFS", "default_permissions", "noappledouble",
        "iosize=65536", "debug", "rdonly"), mac.lowLevelOptions(mo));
    assertTrue(mac.hasLowLevelApi());
  }

  @Test
  void names_decomposedAndComposedAreTheSameFile_caseIsNot() {
    String composed = "caf\u00e9";
    String decomposed = "cafe\u0301";
    assertNotEquals(composed, decomposed);
    assertEquals(mac.nameKey(composed), mac.nameKey(decomposed));
    assertNotEquals(mac.nameKey("Cafe"), mac.nameKey("cafe"));
    assertTrue(mac.caseSensitive());
  }

  @Test
  void paths_andAttributes_arePosix() {
    assertEquals(List.of("Volumes", "x"), mac.splitPath("/Volumes/x"));
    assertEquals("/Volumes/dfs", mac.mountTarget("/Volumes/dfs/"));
    assertEquals(0, mac.fileAttributes(FileType.DIRECTORY, 0755, "d"));
    assertEquals(0640, mac.modeWithAttributes(FileType.REGULAR, 0640, Platform.FILE_ATTRIBUTE_READONLY));
    assertFalse(mac.invalidNameReason("a:b") != null, "':' is a legal BSD-layer name on macOS");
  }
}
