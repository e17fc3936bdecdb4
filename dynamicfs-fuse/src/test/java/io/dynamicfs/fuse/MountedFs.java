package io.dynamicfs.fuse;

import io.dynamicfs.cache.MemoryBlockCache;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.engine.DynamicFileSystem;
import io.dynamicfs.core.engine.EngineOptions;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import io.dynamicfs.core.storage.StorageLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/**
 * A real DynamicFS mounted through the kernel for a test: DATA and MNT under a temp directory, the
 * engine with an in-memory block cache, and a FUSE mount. {@link #close} always unmounts, then closes
 * the engine and releases DATA, keeping the first failure.
 */
final class MountedFs implements AutoCloseable {
  final Path data;
  final Path mnt;
  private final FormatOptions format;
  private final UnaryOperator<BlockStore> caches;
  private final FusePreset preset;
  private final StorageLayout layout;
  private DataDirectory dir;
  private DynamicFileSystem fs;
  private FuseMount mount;
  private KernelInvalidations invalidations;

  private MountedFs(Path base, FormatOptions format, UnaryOperator<BlockStore> caches, FusePreset preset,
      StorageLayout layout) throws IOException {
    this.layout = layout;
    this.data = Files.createDirectories(base.resolve("data"));
    this.mnt = Files.createDirectories(base.resolve("mnt"));
    this.format = format;
    this.caches = caches;
    this.preset = preset;
  }

  static MountedFs mount(Path base) throws IOException {
    return mount(base, FormatOptions.DEFAULT, 64L << 20);
  }

  static MountedFs mount(Path base, FormatOptions format, long cacheBytes) throws IOException {
    return mount(base, format, cacheBytes, null);
  }

  /** Mounts with a storage layout (tiers of devices) recorded when DATA is formatted; null for the default. */
  static MountedFs mount(Path base, FormatOptions format, long cacheBytes, StorageLayout layout) throws IOException {
    return mount(base, format, s -> new MemoryBlockCache(s, cacheBytes), FusePreset.BALANCED, layout);
  }

  /** A mount whose block store is wrapped by {@code caches} (applied afresh at every (re)mount). */
  static MountedFs mount(Path base, FormatOptions format, UnaryOperator<BlockStore> caches, FusePreset preset)
      throws IOException {
    return mount(base, format, caches, preset, null);
  }

  private static MountedFs mount(Path base, FormatOptions format, UnaryOperator<BlockStore> caches,
      FusePreset preset, StorageLayout layout) throws IOException {
    MountedFs m = new MountedFs(base, format, caches, preset, layout);
    try {
      m.start();
    } catch (IOException | RuntimeException e) {
      m.close();
      throw e;
    }
    return m;
  }

  private void start() throws IOException {
    dir = DataDirectory.open(data, format, layout);
    // As `dynamicfs mount` runs a single node: the engine is the only writer and reports its other changes.
    invalidations = KernelInvalidations.singleNode();
    fs = DynamicFileSystem.open(dir,
        EngineOptions.defaults().withStoreDecorator(caches).withApplyListener(invalidations));
    mount = FuseMount.mount(fs, mnt, MountOptions.defaults("dynamicfs:" + data).withPreset(preset)
        .withInvalidations(invalidations));
  }

  Path path(String first, String... more) {
    return mnt.resolve(Path.of(first, more).toString());
  }

  /** "fuse3", "fuse2" (the low-level binding's library) or "highlevel" (the path-based adapter). */
  String fuseLibrary() {
    return mount.fuseLibrary();
  }

  boolean writebackCache() {
    return mount.writebackCache();
  }

  /** What the kernel was told it may cache ({@link FuseMount#kernelCaching}). */
  String kernelCaching() {
    return mount.kernelCaching();
  }

  /** The kernel's lookup count of {@code ino}. */
  long kernelLookups(long ino) {
    return mount.kernelLookups(ino);
  }

  /** The largest write request the kernel sent so far. */
  long largestWriteRequest() {
    return mount.largestWriteRequest();
  }

  /** FLUSH requests the kernel sent so far. */
  long flushRequests() {
    return mount.flushRequests();
  }

  /** Requests read while the reader spun, and after it slept ({@code DeviceSpin}). */
  long[] deviceSpinCounts() {
    return mount.deviceSpinCounts();
  }

  DynamicFileSystem engine() {
    return fs;
  }

  /** Attribute invalidations sent to the kernel for changes no FUSE request made. */
  long invalidationsSent() {
    return invalidations.sent();
  }

  /** Unmounts, closes everything and mounts the same DATA again. */
  void remount() throws IOException {
    stop();
    start();
  }

  /** Unmounts and closes, leaving DATA for fsck; {@link #close} after this is a no-op. */
  void stop() throws IOException {
    IOException failure = null;
    for (AutoCloseable c : new AutoCloseable[] {mount, fs, dir}) {
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e instanceof IOException io ? io : new IOException(e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    mount = null;
    fs = null;
    dir = null;
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void close() throws IOException {
    stop();
  }
}
