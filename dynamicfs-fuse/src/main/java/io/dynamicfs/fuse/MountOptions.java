package io.dynamicfs.fuse;

import io.dynamicfs.fuse.platform.Platform;
import java.util.List;

/**
 * The libfuse mount options DynamicFS uses. Defaults favour correctness: attributes are not cached by
 * the kernel (a hard link's nlink through its other name is never stale), names for one second, the
 * page cache is kept across opens only when the file did not change ({@code auto_cache}). Inode numbers
 * are ours ({@code use_ino}). {@code hard_remove} is deliberately off: see {@link FuseAdapter} for how an
 * unlinked open file still vanishes from its directory at once.
 */
public record MountOptions(String fsName, boolean allowOther, double attrTimeout, double entryTimeout,
    int maxWrite, List<String> extra, boolean debug, FusePreset preset, KernelInvalidations invalidations) {

  public MountOptions(String fsName, boolean allowOther, double attrTimeout, double entryTimeout, int maxWrite,
      List<String> extra, boolean debug, FusePreset preset) {
    this(fsName, allowOther, attrTimeout, entryTimeout, maxWrite, extra, debug, preset, null);
  }

  /** The options as before presets existed: the {@link FusePreset#BALANCED} preset. */
  public MountOptions(String fsName, boolean allowOther, double attrTimeout, double entryTimeout, int maxWrite,
      List<String> extra, boolean debug) {
    this(fsName, allowOther, attrTimeout, entryTimeout, maxWrite, extra, debug, FusePreset.BALANCED);
  }

  public static MountOptions defaults(String fsName) {
    return new MountOptions(fsName, isRoot(), 0, 1, FusePreset.MAX_IO, List.of(), false, FusePreset.BALANCED);
  }

  public MountOptions withExtra(List<String> more) {
    return new MountOptions(fsName, allowOther, attrTimeout, entryTimeout, maxWrite, List.copyOf(more), debug,
        preset, invalidations);
  }

  /** Kernel caching and mount flags of the low-level API (see {@link FusePreset}). */
  public MountOptions withPreset(FusePreset p) {
    return new MountOptions(fsName, allowOther, attrTimeout, entryTimeout, maxWrite, extra, debug, p, invalidations);
  }

  public MountOptions withDebug(boolean on) {
    return new MountOptions(fsName, allowOther, attrTimeout, entryTimeout, maxWrite, extra, on, preset, invalidations);
  }

  /**
   * Hands the binding the feed of changes this kernel did not make (the engine's own on a single node, other
   * mounts' on a cluster mount): the low-level binding tells the kernel of each, and the
   * {@link FusePreset#BALANCED} preset caches longer ({@link FusePreset#LONG_TIMEOUT}, docs/fuse-presets.md).
   */
  public MountOptions withInvalidations(KernelInvalidations feed) {
    return new MountOptions(fsName, allowOther, attrTimeout, entryTimeout, maxWrite, extra, debug, preset, feed);
  }

  static boolean isRoot() {
    return "root".equals(System.getProperty("user.name"));
  }

  /** The arguments for fuse_main before the mount point, as this OS's {@link Platform} writes them. */
  String[] toArgs() {
    return Platform.current().pathApiArguments(this).toArray(String[]::new);
  }
}
