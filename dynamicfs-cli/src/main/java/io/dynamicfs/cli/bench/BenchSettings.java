package io.dynamicfs.cli.bench;

/**
 * What one {@code dynamicfs bench} run does. A size or count of 0 skips the phases that need it.
 *
 * @param threads workers; each gets its own big file, small files and metadata files
 * @param bigFileSize bytes of the big file each thread writes then reads
 * @param ioSize bytes per read/write call on the big file
 * @param smallFileSize bytes of each small file
 * @param smallFiles small files per thread
 * @param metaFiles empty files per thread for create, stat and unlink
 */
record BenchSettings(int threads, long bigFileSize, int ioSize, int smallFileSize, int smallFiles, int metaFiles) {
  BenchSettings {
    require(threads >= 1 && threads <= 256, "--threads must be between 1 and 256");
    require(bigFileSize >= 0, "--big-file-size must not be negative");
    require(ioSize >= 4096 && ioSize <= (64 << 20) && ioSize % 4096 == 0,
        "--io-size must be a multiple of 4K between 4K and 64M");
    require(smallFileSize >= 0, "--small-file-size must not be negative");
    require(smallFiles >= 0, "--small-files must not be negative");
    require(metaFiles >= 0, "--meta-files must not be negative");
    // one latency slot per operation is kept in memory
    require(bigFileSize / ioSize <= MAX_OPS, "--big-file-size / --io-size exceeds " + MAX_OPS + " calls");
    require(smallFiles <= MAX_OPS / threads && metaFiles <= MAX_OPS / threads,
        "--small-files and --meta-files times --threads must stay within " + MAX_OPS);
  }

  /** The most operations one phase records (8 bytes of latency each). */
  static final int MAX_OPS = 1 << 24;

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException(message);
    }
  }
}
