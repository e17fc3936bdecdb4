package io.dynamicfs.core.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

class FsExceptionTest {
  @Test
  void answers_carryNoStackTrace_andTheirMessageFormattedWhenRead() {
    FsException e = FsException.of(Errno.ENOENT, "no '%s' in directory %d", "a", 7L);
    assertEquals(0, e.getStackTrace().length);
    assertEquals(Errno.ENOENT, e.errno());
    assertEquals("no 'a' in directory 7", e.detail());
    assertEquals("ENOENT: no 'a' in directory 7", e.getMessage());
    assertEquals(FsException.class.getName() + "$Answer: ENOENT: no 'a' in directory 7", e.toString());
  }

  @Test
  void failures_keepTheirStackTrace() {
    FsException e = FsException.of(Errno.EIO, "disk %s", "gone");
    assertNotEquals(0, e.getStackTrace().length);
    assertEquals("EIO: disk gone", e.getMessage());
    assertEquals("disk gone", e.detail());
    assertNotEquals(0, new FsException(Errno.ENOENT, "plain").getStackTrace().length);
  }
}
