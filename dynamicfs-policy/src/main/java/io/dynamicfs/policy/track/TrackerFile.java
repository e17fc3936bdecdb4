package io.dynamicfs.policy.track;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Saves and loads an {@link AccessTracker}: a versioned file whose last four bytes are the CRC32C of
 * everything before them, written to a temporary file, forced and renamed over the old one, so a crash
 * leaves either the old file or the new one.
 *
 * <p>Layout (big-endian): magic {@code DFSTRACK}, version (int, {@value #VERSION}), counters (int), the
 * half-lives (doubles), then the file table and the extent table, each as capacity (int), entries (int)
 * and per entry key, first, last, bytes (longs), accesses, writes, sequential, last size (ints) and the
 * counters as of the last access (floats); then the CRC32C.
 *
 * <p>A file that fails its checksum, has another magic or version, or is cut short is reported (a warning
 * log event and {@link Loaded#problem()}) and the tracker starts empty: the statistics are an optimisation,
 * never worth refusing to mount for.
 */
public final class TrackerFile {
  static final byte[] MAGIC = {'D', 'F', 'S', 'T', 'R', 'A', 'C', 'K'};
  static final int VERSION = 1;
  private static final Logger LOG = LoggerFactory.getLogger(TrackerFile.class);

  /** A loaded tracker and, when the file could not be used, why (the tracker is then empty). */
  public record Loaded(AccessTracker tracker, String problem) {
    public boolean ok() {
      return problem == null;
    }
  }

  private TrackerFile() {}

  /** Writes {@code tracker} to {@code path} atomically. */
  public static void save(AccessTracker tracker, Path path) throws IOException {
    Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
    CRC32C crc = new CRC32C();
    try (OutputStream raw = Files.newOutputStream(tmp);
         DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new CheckedOutputStream(raw, crc), 1 << 16))) {
      out.write(MAGIC);
      out.writeInt(VERSION);
      double[] hl = tracker.config().halfLives();
      out.writeInt(hl.length);
      for (double h : hl) {
        out.writeDouble(h);
      }
      writeTable(out, tracker.files());
      writeTable(out, tracker.extents());
      out.flush();
      out.writeInt((int) crc.getValue()); // the checksum itself stays outside what it covers
      out.flush();
    }
    install(tmp, path);
  }

  /** Forces {@code tmp} to the device and renames it over {@code path} (atomically where the filesystem can). */
  public static void install(Path tmp, Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    try {
      Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  private static void writeTable(DataOutputStream out, AccessTable t) throws IOException {
    out.writeInt(t.capacity());
    out.writeInt(t.size());
    for (int s = 0; s < t.slots(); s++) {
      if (!t.occupied(s)) {
        continue;
      }
      out.writeLong(t.key(s));
      out.writeLong(t.firstAccess(s));
      out.writeLong(t.lastAccess(s));
      out.writeLong(t.bytes(s));
      out.writeInt(t.accesses(s));
      out.writeInt(t.writes(s));
      out.writeInt(t.sequentialAccesses(s));
      out.writeInt(t.lastSize(s));
      for (int i = 0; i < t.counters(); i++) {
        out.writeFloat(t.rawCounter(s, i));
      }
    }
  }

  /**
   * Loads the tracker saved at {@code path} into a tracker of {@code config}; a missing file gives an empty
   * tracker with no problem, an unusable one an empty tracker and the reason.
   */
  public static Loaded load(Path path, AccessTracker.Config config) {
    byte[] data;
    try {
      data = Files.readAllBytes(path);
    } catch (NoSuchFileException e) {
      return new Loaded(new AccessTracker(config), null);
    } catch (IOException e) {
      return corrupt(path, config, "cannot read: " + e.getMessage());
    }
    if (data.length < MAGIC.length + 4 + 4 + 4) {
      return corrupt(path, config, "too short (" + data.length + " bytes)");
    }
    CRC32C crc = new CRC32C();
    crc.update(data, 0, data.length - 4);
    ByteBuffer b = ByteBuffer.wrap(data);
    if ((int) crc.getValue() != b.getInt(data.length - 4)) {
      return corrupt(path, config, "checksum mismatch");
    }
    b.limit(data.length - 4);
    try {
      byte[] magic = new byte[MAGIC.length];
      b.get(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        return corrupt(path, config, "not a tracker file (bad magic)");
      }
      int version = b.getInt();
      if (version != VERSION) {
        return corrupt(path, config, "unsupported version " + version + " (this build reads " + VERSION + ")");
      }
      int n = b.getInt();
      if (n != config.halfLives().length) {
        return corrupt(path, config, "saved with " + n + " counters, configured with " + config.halfLives().length);
      }
      for (int i = 0; i < n; i++) {
        b.getDouble(); // the saved half-lives; counters are kept as they are if the configuration changed
      }
      AccessTracker tracker = new AccessTracker(config);
      readTable(b, tracker.files(), n);
      readTable(b, tracker.extents(), n);
      if (b.hasRemaining()) {
        return corrupt(path, config, b.remaining() + " bytes after the last table");
      }
      return new Loaded(tracker, null);
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      return corrupt(path, config, "truncated or malformed table");
    }
  }

  private static void readTable(ByteBuffer b, AccessTable t, int counters) {
    b.getInt(); // the capacity it was saved with
    int entries = b.getInt();
    if (entries < 0) {
      throw new IllegalArgumentException("negative entry count");
    }
    float[] values = new float[counters];
    for (int e = 0; e < entries; e++) {
      long key = b.getLong();
      long first = b.getLong();
      long last = b.getLong();
      long bytes = b.getLong();
      int accesses = b.getInt();
      int writes = b.getInt();
      int seq = b.getInt();
      int size = b.getInt();
      for (int i = 0; i < counters; i++) {
        values[i] = b.getFloat();
      }
      t.restore(key, first, last, bytes, accesses, writes, seq, size, values);
    }
  }

  private static Loaded corrupt(Path path, AccessTracker.Config config, String why) {
    LOG.atWarn().setMessage("tracker file unusable, starting with empty access statistics")
        .addKeyValue("event", "policy.tracker.load_failed").addKeyValue("path", path.toString())
        .addKeyValue("reason", why).log();
    return new Loaded(new AccessTracker(config), path + ": " + why);
  }
}
