package io.dynamicfs.cli.bench;

import java.nio.file.Path;
import jnr.ffi.LibraryLoader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drops one file's pages from the kernel's page cache with {@code posix_fadvise(POSIX_FADV_DONTNEED)}, so a
 * read phase measures the filesystem rather than memory. Per file and unprivileged, unlike
 * {@code /proc/sys/vm/drop_caches}, which would disturb everything else on the machine. The filesystem's
 * own caches (DynamicFS's block cache) are untouched: reads are "cold-ish".
 */
final class PageCache {
  private static final Logger log = LoggerFactory.getLogger(PageCache.class);
  private static final int O_RDONLY = 0;
  private static final int POSIX_FADV_DONTNEED = 4;

  /** The libc calls used, bound with jnr-ffi (already on the class path for the FUSE binding). */
  public interface LibC {
    int open(String path, int flags);

    int posix_fadvise(int fd, long offset, long len, int advice);

    int close(int fd);
  }

  private final LibC libc;

  private PageCache(LibC libc) {
    this.libc = libc;
  }

  /** The page cache of this machine, or null where libc cannot be bound (not Linux). */
  static PageCache open() {
    if (!System.getProperty("os.name", "").startsWith("Linux")) {
      return null;
    }
    try {
      return new PageCache(LibraryLoader.create(LibC.class).load("c"));
    } catch (LinkageError | RuntimeException e) {
      log.debug("page cache eviction unavailable error=\"{}\"", e.getMessage());
      return null;
    }
  }

  /** Drops {@code file}'s clean cached pages; false if the kernel refused. Call after fsync. */
  boolean evict(Path file) {
    int fd = libc.open(file.toString(), O_RDONLY);
    if (fd < 0) {
      return false;
    }
    try {
      return libc.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
    } finally {
      libc.close(fd);
    }
  }
}
