package io.dynamicfs.fuse.platform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileType;
import io.dynamicfs.fuse.MountOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The Linux platform mounts with exactly the options DynamicFS used before the platform interface existed:
 * the expected strings below are copied from MountOptions.toArgs and LowLevelMount.options as they were.
 */
class LinuxPlatformTest {
  private final Platform linux = Platform.LINUX;

  @Test
  void forOsName_picksEachPlatform() {
    assertSame(Platform.LINUX, Platform.forOsName("Linux"));
    assertSame(Platform.MACOS, Platform.forOsName("Mac OS X"));
    assertSame(Platform.WINDOWS, Platform.forOsName("Windows 11"));
    assertSame(Platform.LINUX, Platform.forOsName("FreeBSD"));
    assertEquals(System.getProperty("os.name").startsWith("Linux") ? "linux" : Platform.current().name(),
        Platform.current().name());
  }

  @Test
  void pathApiArguments_asRoot_sameAsBeforeThePlatformInterface() {
    MountOptions mo = new MountOptions("dynamicfs:/srv/a,b", true, 0, 1, 128 << 10, List.of("ro", "noatime"), false);
    assertEquals(List.of("-o", "fsname=dynamicfs:/srv/a\\,b,subtype=dynamicfs,use_ino,big_writes,max_write=131072,"
        + "max_read=131072,max_readahead=1048576,default_permissions,auto_cache,attr_timeout=0.0,"
        + "entry_timeout=1.0,negative_timeout=0,allow_other,ro,noatime"), linux.pathApiArguments(mo));
  }

  @Test
  void pathApiArguments_notRoot_noAllowOther() {
    MountOptions mo = new MountOptions("dynamicfs:/d", false, 0, 1, 128 << 10, List.of(), false);
    assertEquals(List.of("-o", "fsname=dynamicfs:/d,subtype=dynamicfs,use_ino,big_writes,max_write=131072,"
        + "max_read=131072,max_readahead=1048576,default_permissions,auto_cache,attr_timeout=0.0,"
        + "entry_timeout=1.0,negative_timeout=0"), linux.pathApiArguments(mo));
  }

  @Test
  void lowLevelOptions_sameAsBefore_dropsPathApiOnlyExtras() {
    MountOptions mo = new MountOptions("dynamicfs:/d", true, 0, 1, 128 << 10,
        List.of("ro,use_ino,attr_timeout=3", "auto_cache", "noatime,,umask=022"), true);
    assertEquals(List.of("fsname=dynamicfs:/d", "subtype=dynamicfs", "default_permissions", "allow_other",
        "big_writes", "max_write=131072", "max_read=131072", "max_readahead=1048576", "debug", "ro", "noatime"),
        linux.lowLevelOptions(mo));
    assertTrue(linux.hasLowLevelApi());
  }

  @Test
  void mountTarget_absoluteNormalised() {
    assertEquals("/mnt/dfs", linux.mountTarget("/mnt/./x/../dfs"));
    assertTrue(linux.mountTarget("rel").startsWith("/"), "relative paths become absolute");
    assertThrows(IllegalArgumentException.class, () -> linux.mountTarget(" "));
  }

  @Test
  void splitPath_slashOnly_backslashIsAName() {
    assertEquals(List.of("a", "b\\c", "d"), linux.splitPath("/a//b\\c/./d/"));
    assertEquals(List.of(), linux.splitPath("/"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> linux.splitPath("/a/../b"));
    assertTrue(e.getMessage().contains("'..'"), e.getMessage());
  }

  @Test
  void names_caseSensitive_255Bytes() {
    assertTrue(linux.caseSensitive());
    assertEquals("Readme", linux.nameKey("Readme"));
    assertNull(linux.invalidNameReason("CON"));
    assertNull(linux.invalidNameReason("a:b?"));
    assertNull(linux.invalidNameReason("x".repeat(255)));
    assertTrue(linux.invalidNameReason("x".repeat(256)).contains("255 bytes"));
    assertTrue(linux.invalidNameReason("é".repeat(128)).contains("255 bytes"), "the limit is in UTF-8 bytes");
    assertTrue(linux.invalidNameReason("a\0b").contains("NUL"));
  }

  @Test
  void attributes_modeIsNative() {
    assertEquals(0, linux.fileAttributes(FileType.REGULAR, 0444, ".hidden"));
    assertEquals(0444, linux.modeWithAttributes(FileType.REGULAR, 0444, Platform.FILE_ATTRIBUTE_READONLY));
  }
}
