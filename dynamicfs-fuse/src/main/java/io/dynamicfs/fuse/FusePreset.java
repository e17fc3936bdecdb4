package io.dynamicfs.fuse;

import java.util.Locale;

/**
 * How much the kernel may cache, chosen with {@code --fuse-preset}. The table with the reasoning is
 * docs/fuse-presets.md. The presets apply to the low-level API (the default); the path-based adapter keeps
 * its own fixed options ({@link MountOptions#toArgs}).
 *
 * <ul>
 *   <li>{@link #BALANCED} (default): attributes and names cached 1 s; names 60 s on a cluster mount, names and
 *       attributes 60 s on a single node, both of which tell the kernel of every change it did not make itself
 *       ({@link #LONG_TIMEOUT}); no negative caching; the page cache kept across opens when the file did not
 *       change since this kernel last saw it.
 *   <li>{@link #HIGH_PERFORMANCE}: a single mount owns the data, so every change passes through this kernel
 *       and long timeouts are coherent: attributes/names 60 s, negative lookups 30 s, page cache always
 *       kept (a warm re-read never reaches the daemon), {@code noatime}.
 *   <li>{@link #SAFE}: for files that another mount of the same cluster may change: nothing cached by time
 *       (every stat and lookup asks the daemon), no page cache kept across opens, and the kernel revalidates
 *       attributes on every read and drops cached pages when size or mtime moved (auto_inval_data).
 * </ul>
 */
public enum FusePreset {
  BALANCED(1.0, 1.0, 0.0, KeepCache.IF_UNCHANGED, false, false, false),
  HIGH_PERFORMANCE(60.0, 60.0, 30.0, KeepCache.ALWAYS, true, false, false),
  SAFE(0.0, 0.0, 0.0, KeepCache.NEVER, false, true, false);

  /**
   * Seconds {@link #BALANCED} lets the kernel keep names, and on a single node attributes too, when the mount
   * tells the kernel of every change it did not make itself ({@link MountOptions#withInvalidations}): a single
   * node's engine is the data's only writer; a cluster mount's replica sees every other mount's op, but may lag
   * behind the log, so its attributes keep the 1 s bound on staleness.
   */
  public static final double LONG_TIMEOUT = 60.0;

  /** libfuse 2 cannot negotiate more than 32 pages per request (max_pages needs libfuse 3). */
  public static final int MAX_IO = 128 << 10;
  /** Kernel read-ahead window per file. */
  public static final int MAX_READAHEAD = 1 << 20;

  /** When {@code open} tells the kernel to keep the file's cached pages. */
  public enum KeepCache {
    /** Always (only coherent when this kernel sees every change). */
    ALWAYS,
    /** When size and mtime are what this kernel saw at its last open or release of the file. */
    IF_UNCHANGED,
    /** Never: every open starts with an empty page cache for the file (close-to-open consistency). */
    NEVER
  }

  private final double attrTimeout;
  private final double entryTimeout;
  private final double negativeTimeout;
  private final KeepCache keepCache;
  private final boolean noatime;
  private final boolean autoInvalData;
  private final boolean writebackCache;

  FusePreset(double attrTimeout, double entryTimeout, double negativeTimeout, KeepCache keepCache,
      boolean noatime, boolean autoInvalData, boolean writebackCache) {
    this.attrTimeout = attrTimeout;
    this.entryTimeout = entryTimeout;
    this.negativeTimeout = negativeTimeout;
    this.keepCache = keepCache;
    this.noatime = noatime;
    this.autoInvalData = autoInvalData;
    this.writebackCache = writebackCache;
  }

  public double attrTimeout() {
    return attrTimeout;
  }

  public double entryTimeout() {
    return entryTimeout;
  }

  /** Seconds the kernel may remember that a name does not exist (0 = not at all). */
  public double negativeTimeout() {
    return negativeTimeout;
  }

  public KeepCache keepCache() {
    return keepCache;
  }

  public boolean noatime() {
    return noatime;
  }

  /** Ask the kernel to revalidate attributes on each read and drop pages when mtime/size changed. */
  public boolean autoInvalData() {
    return autoInvalData;
  }

  /**
   * Ask for the kernel's writeback cache (libfuse 3 only): writes are buffered and merged in the page cache,
   * and the kernel owns size and mtime while it holds dirty pages. No preset does yet (opt in with
   * {@code -Ddfs.fuse.lowlevel.writebackCache=true}): a write the daemon then refuses (EFBIG at the largest
   * file size, ENOSPC, EIO) has already been reported done, and fails only at fsync or close.
   */
  public boolean writebackCache() {
    return writebackCache;
  }

  /** Parses the CLI spelling: balanced, high-performance, safe. */
  public static FusePreset parse(String s) {
    for (FusePreset p : values()) {
      if (p.cliName().equals(s.toLowerCase(Locale.ROOT))) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown FUSE preset '" + s + "' (balanced, high-performance, safe)");
  }

  public String cliName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
