package io.dynamicfs.fuse;

import java.io.IOException;
import java.nio.file.Path;
import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/**
 * The system calls the mounted tests need that Java has no API for (renameat2 with flags, copy_file_range,
 * lseek SEEK_DATA/SEEK_HOLE), through glibc with jnr-ffi. A failure is an {@link IOException} whose message
 * is the errno's {@code strerror} text, as the JDK's own exceptions carry it (FsDifferential maps it back).
 */
public final class NativeCalls {
  public static final int RENAME_NOREPLACE = 1;
  public static final int RENAME_EXCHANGE = 2;
  public static final int SEEK_DATA = 3;
  public static final int SEEK_HOLE = 4;
  private static final int AT_FDCWD = -100;
  private static final int O_RDONLY = 0;
  private static final int O_WRONLY = 1;
  private static final int O_CREAT = 0100;
  private static final int O_CLOEXEC = 02000000;

  /** glibc. */
  public interface C {
    int open(String path, int flags, int mode);

    int close(int fd);

    long lseek(int fd, long offset, int whence);

    long copy_file_range(int fdIn, Pointer offIn, int fdOut, Pointer offOut, long len, int flags);

    int renameat2(int oldDirFd, String oldPath, int newDirFd, String newPath, int flags);

    String strerror(int errnum);
  }

  private static final C LIBC = LibraryLoader.create(C.class).failImmediately().load("c");
  private static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

  private NativeCalls() {}

  /** An errno from a system call, with its strerror text as the message. */
  public static final class ErrnoException extends IOException {
    private static final long serialVersionUID = 1L;
    public final int errno;

    ErrnoException(String call, int errno) {
      super(LIBC.strerror(errno));
      this.errno = errno;
    }
  }

  private static IOException failure(String call) {
    return new ErrnoException(call, LastError.getLastError(RUNTIME));
  }

  /** renameat2(2) with {@code flags} ({@link #RENAME_NOREPLACE}, {@link #RENAME_EXCHANGE}). */
  public static void renameat2(Path from, Path to, int flags) throws IOException {
    if (LIBC.renameat2(AT_FDCWD, from.toString(), AT_FDCWD, to.toString(), flags) != 0) {
      throw failure("renameat2");
    }
  }

  /** lseek(2) on a fresh read-only descriptor of {@code p}: where SEEK_DATA or SEEK_HOLE lands. */
  public static long seek(Path p, long offset, int whence) throws IOException {
    int fd = open(p, O_RDONLY);
    try {
      long r = LIBC.lseek(fd, offset, whence);
      if (r < 0) {
        throw failure("lseek");
      }
      return r;
    } finally {
      LIBC.close(fd);
    }
  }

  /**
   * copy_file_range(2) of {@code len} bytes from {@code offIn} of {@code src} to {@code offOut} of {@code dst}
   * (created if missing), repeated while it makes progress, as cp does, but never past the source's size at
   * the start (a copy to the end of its own file would otherwise chase the end it keeps moving); returns the
   * bytes copied.
   */
  public static long copyFileRange(Path src, long offIn, Path dst, long offOut, long len) throws IOException {
    if (java.nio.file.Files.isRegularFile(src)) {
      len = Math.min(len, Math.max(0, java.nio.file.Files.size(src) - offIn));
    }
    int in = open(src, O_RDONLY);
    try {
      int out = open(dst, O_WRONLY | O_CREAT);
      try {
        Pointer pin = Memory.allocateDirect(RUNTIME, 8);
        Pointer pout = Memory.allocateDirect(RUNTIME, 8);
        pin.putLong(0, offIn);
        pout.putLong(0, offOut);
        long done = 0;
        while (done < len) {
          long n = LIBC.copy_file_range(in, pin, out, pout, len - done, 0);
          if (n < 0) {
            throw failure("copy_file_range");
          }
          if (n == 0) {
            break;
          }
          done += n;
        }
        return done;
      } finally {
        LIBC.close(out);
      }
    } finally {
      LIBC.close(in);
    }
  }

  private static int open(Path p, int flags) throws IOException {
    int fd = LIBC.open(p.toString(), flags | O_CLOEXEC, 0644);
    if (fd < 0) {
      throw failure("open");
    }
    return fd;
  }
}
