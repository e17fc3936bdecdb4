package io.dynamicfs.core.format;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.storage.StorageLayout;
import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A DATA directory: its format descriptor ({@code dynamicfs.properties}), its layout ({@code meta/},
 * {@code blocks/}, {@code logs/}) and the lock that keeps a second daemon out. Opening formats an empty
 * directory, and refuses anything else that is not a DynamicFS directory of a format this build knows,
 * with a message that says what to do.
 */
public final class DataDirectory implements Closeable {
  public static final int FORMAT_VERSION = 1;
  static final String DESCRIPTOR = "dynamicfs.properties";
  /** The storage layout recorded at format time; absent for the default single directory. */
  public static final String LAYOUT = "storage.yaml";

  private final Path root;
  private final FormatOptions format;
  private final String uuid;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private boolean fresh;
  private StorageLayout layout;

  private DataDirectory(Path root, FormatOptions format, String uuid, FileChannel lockChannel, FileLock lock) {
    this.root = root;
    this.format = format;
    this.uuid = uuid;
    this.lockChannel = lockChannel;
    this.lock = lock;
  }

  /**
   * Opens DATA, formatting it with {@code formatIfEmpty} when it is an empty directory, and takes its
   * lock. {@code formatIfEmpty} null means "never format".
   */
  public static DataDirectory open(Path root, FormatOptions formatIfEmpty) throws FsException {
    return open(root, formatIfEmpty, null);
  }

  /**
   * Opens DATA as {@link #open(Path, FormatOptions)} does, with a storage layout: recorded when DATA is
   * formatted now (null: the default single directory {@code DATA/blocks}); otherwise it must name the same
   * tiers as the recorded one (its scrub settings apply to this mount).
   */
  public static DataDirectory open(Path root, FormatOptions formatIfEmpty, StorageLayout requested)
      throws FsException {
    Path dir = root.toAbsolutePath().normalize();
    if (!Files.exists(dir)) {
      throw FsException.of(Errno.ENOENT, "data directory %s does not exist", dir);
    }
    if (!Files.isDirectory(dir)) {
      throw FsException.of(Errno.ENOTDIR, "data directory %s is not a directory", dir);
    }
    if (!Files.isReadable(dir) || !Files.isWritable(dir) || !Files.isExecutable(dir)) {
      throw FsException.of(Errno.EACCES, "data directory %s is not readable and writable by this user", dir);
    }
    Path descriptor = dir.resolve(DESCRIPTOR);
    boolean formatted = false;
    try {
      if (!Files.exists(descriptor)) {
        if (formatIfEmpty == null) {
          throw FsException.of(Errno.EINVAL, "%s is not a DynamicFS data directory (no %s)", dir, DESCRIPTOR);
        }
        try (Stream<Path> s = Files.list(dir)) {
          if (s.findAny().isPresent()) {
            throw FsException.of(Errno.EINVAL,
                "%s is not a DynamicFS data directory and not empty; give an empty or new directory", dir);
          }
        }
        if (requested != null && !requested.settingsOnly()) {
          requested.writeTiers(dir.resolve(LAYOUT));
        }
        writeDescriptor(dir, formatIfEmpty);
        formatted = true;
      }
      FileChannel ch = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      FileLock lock;
      try {
        lock = ch.tryLock();
      } catch (java.nio.channels.OverlappingFileLockException e) {
        lock = null; // held by this very process
      } catch (IOException e) {
        ch.close();
        throw e;
      }
      if (lock == null) {
        String holder = new String(Files.readAllBytes(dir.resolve("lock")), StandardCharsets.UTF_8).trim();
        ch.close();
        throw FsException.of(Errno.EBUSY, "data directory %s is in use by another dynamicfs process%s", dir,
            holder.isEmpty() ? "" : " (pid " + holder + ")");
      }
      ch.truncate(0);
      ch.write(ByteBuffer.wrap((ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.UTF_8)), 0);
      Properties p = readDescriptor(descriptor);
      FormatOptions fo;
      try {
        fo = parse(p, dir);
      } catch (FsException e) {
        lock.release();
        ch.close();
        throw e;
      }
      DataDirectory d = new DataDirectory(dir, fo, p.getProperty("uuid", ""), ch, lock);
      d.fresh = formatted;
      try {
        d.layout = recordedLayout(dir, d.blocksDir());
        if (requested != null) {
          String diff = requested.settingsOnly() ? null : d.layout.tierDifference(requested);
          if (diff != null) {
            throw FsException.of(Errno.EINVAL, "the storage config does not match the layout %s was formatted with: %s",
                dir, diff);
          }
          d.layout = d.layout.withSettingsOf(requested);
        }
      } catch (FsException e) {
        lock.release();
        ch.close();
        throw e;
      }
      Files.createDirectories(d.metaDir());
      Files.createDirectories(d.blocksDir());
      Files.createDirectories(d.logDir());
      return d;
    } catch (AccessDeniedException e) {
      throw FsException.of(Errno.EACCES, "cannot access %s: permission denied", e.getFile());
    } catch (FsException e) {
      throw e;
    } catch (IOException e) {
      throw new FsException(Errno.EIO, "cannot open data directory " + dir + ": " + e.getMessage(), e);
    }
  }

  private static StorageLayout recordedLayout(Path dir, Path blocks) throws FsException {
    Path f = dir.resolve(LAYOUT);
    if (!Files.exists(f)) {
      return StorageLayout.single(blocks);
    }
    return StorageLayout.read(f);
  }

  private static Properties readDescriptor(Path descriptor) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(descriptor, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    return p;
  }

  private static FormatOptions parse(Properties p, Path dir) throws FsException {
    try {
      int version = Integer.parseInt(p.getProperty("format.version", "").trim());
      if (version > FORMAT_VERSION) {
        throw FsException.of(Errno.EINVAL,
            "%s has format version %d, newer than this DynamicFS understands (%d); upgrade DynamicFS", dir,
            version, FORMAT_VERSION);
      }
      if (version < 1) {
        throw new NumberFormatException("version " + version);
      }
      return new FormatOptions(Integer.parseInt(p.getProperty("block.size", "").trim()),
          Codec.parse(p.getProperty("compression", "")),
          Integer.parseInt(p.getProperty("inline.max", "").trim()));
    } catch (IllegalArgumentException e) {
      throw FsException.of(Errno.EINVAL, "%s/%s is damaged (%s)", dir, DESCRIPTOR, e.getMessage());
    }
  }

  private static void writeDescriptor(Path dir, FormatOptions f) throws IOException {
    Properties p = new Properties();
    p.setProperty("format.version", Integer.toString(FORMAT_VERSION));
    p.setProperty("block.size", Integer.toString(f.blockSize()));
    p.setProperty("compression", f.codec().name().toLowerCase(java.util.Locale.ROOT));
    p.setProperty("inline.max", Integer.toString(f.inlineMax()));
    p.setProperty("uuid", UUID.randomUUID().toString());
    Path tmp = dir.resolve(DESCRIPTOR + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      p.store(w, "DynamicFS data directory; do not edit");
    }
    try (FileChannel c = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      c.force(true);
    }
    Files.move(tmp, dir.resolve(DESCRIPTOR), StandardCopyOption.ATOMIC_MOVE);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      // Some filesystems cannot fsync a directory; the rename is still atomic.
    }
  }

  /** True when this open formatted DATA. */
  public boolean isNew() {
    return fresh;
  }

  /** Tiers and devices (as recorded at format time) with this mount's scrub settings. */
  public StorageLayout layout() {
    return layout;
  }

  public Path root() {
    return root;
  }

  public FormatOptions format() {
    return format;
  }

  public String uuid() {
    return uuid;
  }

  /** The write intent log's files (fsync of small changes). */
  public Path intentDir() {
    return root.resolve("intent");
  }

  public Path metaDir() {
    return root.resolve("meta");
  }

  public Path blocksDir() {
    return root.resolve("blocks");
  }

  public Path logDir() {
    return root.resolve("logs");
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      lockChannel.close();
    }
  }
}
