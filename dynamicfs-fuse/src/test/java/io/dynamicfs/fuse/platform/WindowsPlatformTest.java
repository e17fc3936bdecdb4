package io.dynamicfs.fuse.platform;

import static io.dynamicfs.fuse.platform.Platform.FILE_ATTRIBUTE_ARCHIVE;
import static io.dynamicfs.fuse.platform.Platform.FILE_ATTRIBUTE_DIRECTORY;
import static io.dynamicfs.fuse.platform.Platform.FILE_ATTRIBUTE_HIDDEN;
import static io.dynamicfs.fuse.platform.Platform.FILE_ATTRIBUTE_NORMAL;
import static io.dynamicfs.fuse.platform.Platform.FILE_ATTRIBUTE_READONLY;
import static io.dynamicfs.fuse.platform.Platform.FILE_ATTRIBUTE_REPARSE_POINT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dynamicfs.core.api.FileType;
import io.dynamicfs.fuse.MountOptions;
import java.util.List;
import org.junit.jupiter.api.Test;

/** WinFsp options, drive letters, backslashes, case-insensitive names, mode and attributes (pure logic). */
class WindowsPlatformTest {
  private final Platform win = Platform.WINDOWS;

  @Test
  void pathApiArguments_winFspOptions_linuxOnlyExtrasDropped() {
    MountOptions mo = new MountOptions("dynamicfs:C:\\data", true, 1.5, 1, 128 << 10,
        List.of("big_writes,allow_other", "VolumePrefix=\\srv\\share", "max_readahead=1"), false);
    assertEquals(List.of("-o", "uid=-1,gid=-1,use_ino,CaseInsensitiveSearch,FileInfoTimeout=1500,"
        + "volname=DynamicFS,VolumePrefix=\\srv\\share"), win.pathApiArguments(mo));
  }

  @Test
  void lowLevel_unsupported_withAClearReason() {
    assertFalse(win.hasLowLevelApi());
    UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
        () -> win.lowLevelOptions(MountOptions.defaults("x")));
    assertTrue(e.getMessage().contains("highlevel"), e.getMessage());
  }

  @Test
  void mountTarget_driveLetters_star_directories() {
    assertEquals("X:", win.mountTarget("x:"));
    assertEquals("X:", win.mountTarget("X:\\"));
    assertEquals("Z:", win.mountTarget("z:/"));
    assertEquals("*", win.mountTarget("*"));
    assertEquals("C:\\mnt\\dfs", win.mountTarget("c:/mnt//dfs/"));
    assertEquals("C:\\mnt\\dfs", win.mountTarget("C:\\mnt\\.\\dfs"));
    for (String bad : List.of("XY:", "mnt\\dfs", "/mnt/dfs", "1:", "", "C:\\a\\con")) {
      assertThrows(IllegalArgumentException.class, () -> win.mountTarget(bad), bad);
    }
  }

  @Test
  void splitPath_bothSeparators() {
    assertEquals(List.of("docs", "Report.TXT"), win.splitPath("\\docs\\Report.TXT"));
    assertEquals(List.of("a", "b", "c"), win.splitPath("a/b\\\\c\\"));
    assertThrows(IllegalArgumentException.class, () -> win.splitPath("a\\..\\b"));
  }

  @Test
  void names_win32Rules() {
    assertNull(win.invalidNameReason("report.txt"));
    assertNull(win.invalidNameReason("CONSOLE.txt"), "only the exact device stem is reserved");
    assertTrue(win.invalidNameReason("con").contains("reserved"));
    assertTrue(win.invalidNameReason("LPT1.log").contains("reserved"));
    assertTrue(win.invalidNameReason("a:b").contains("':'"));
    assertTrue(win.invalidNameReason("what?").contains("'?'"));
    assertTrue(win.invalidNameReason("tab\there").contains("control"));
    assertTrue(win.invalidNameReason("trailing.").contains("dot"));
    assertTrue(win.invalidNameReason("trailing ").contains("space"));
  }

  @Test
  void names_caseInsensitive_andNormalised() {
    assertFalse(win.caseSensitive());
    assertEquals(win.nameKey("README.md"), win.nameKey("readme.MD"));
    assertEquals(win.nameKey("CAF\u00c9"), win.nameKey("cafe\u0301"));
    assertFalse(win.nameKey("a").equals(win.nameKey("b")));
  }

  @Test
  void fileAttributes_fromPosixMode() {
    assertEquals(FILE_ATTRIBUTE_ARCHIVE, win.fileAttributes(FileType.REGULAR, 0644, "a.txt"));
    assertEquals(FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_READONLY, win.fileAttributes(FileType.REGULAR, 0444, "a"));
    assertEquals(FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_HIDDEN, win.fileAttributes(FileType.REGULAR, 0600, ".rc"));
    assertEquals(FILE_ATTRIBUTE_DIRECTORY, win.fileAttributes(FileType.DIRECTORY, 0755, "d"));
    assertEquals(FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN,
        win.fileAttributes(FileType.DIRECTORY, 0555, ".git"));
    assertEquals(FILE_ATTRIBUTE_REPARSE_POINT, win.fileAttributes(FileType.SYMLINK, 0777, "l"));
    assertEquals(FILE_ATTRIBUTE_REPARSE_POINT, win.fileAttributes(FileType.SYMLINK, 0, "l"),
        "a link's own mode means nothing: never read-only");
    assertEquals(FILE_ATTRIBUTE_NORMAL, win.fileAttributes(FileType.FIFO, 0644, "p"));
    assertEquals(FILE_ATTRIBUTE_READONLY, win.fileAttributes(FileType.FIFO, 0444, "p"), "NORMAL is only ever alone");
  }

  @Test
  void modeWithAttributes_readOnlyRoundTrip() {
    int ro = win.modeWithAttributes(FileType.REGULAR, 0664, FILE_ATTRIBUTE_READONLY);
    assertEquals(0444, ro);
    assertEquals(0644, win.modeWithAttributes(FileType.REGULAR, ro, FILE_ATTRIBUTE_ARCHIVE));
    assertEquals(0664, win.modeWithAttributes(FileType.REGULAR, 0664, FILE_ATTRIBUTE_HIDDEN),
        "hidden does not change permissions");
    assertEquals(04755, win.modeWithAttributes(FileType.REGULAR, 04755, 0), "setuid and friends kept");
    assertEquals(FILE_ATTRIBUTE_READONLY, win.fileAttributes(FileType.REGULAR, ro, "f") & FILE_ATTRIBUTE_READONLY);
  }
}
