package io.dynamicfs.core.storage;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.codec.Codec;
import java.io.Closeable;
import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One device of a tier: a directory (ideally its own disk) holding a {@link SegmentStore}, an identity file
 * naming the filesystem, tier and device number it belongs to, and its health. A device whose directory
 * is missing, belongs to something else or fails a write is taken out ({@link Health#FAILED}); one that ran
 * out of space keeps serving reads ({@link Health#FULL}). Counters say how many bad records were found on
 * it and how many copies or shards were rewritten onto it.
 */
public final class Device implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(Device.class);
  static final String IDENTITY = "dynamicfs-device.properties";
  /** Space a device must keep free to take writes again after filling up. */
  static final long RESUME_FREE_BYTES = 256L << 20;

  public enum Health { ONLINE, FULL, FAILED }

  private final String fsUuid;
  private final String tier;
  private final int number;
  private final Path dir;
  private final Codec codec;
  private final long segmentBytes;
  private final boolean salvage;
  private final boolean checkOnly;
  private volatile SegmentStore store;
  private volatile Health health = Health.FAILED;
  private volatile String problem = "not opened";
  private volatile boolean fresh;
  final AtomicLong badRecords = new AtomicLong();
  final AtomicLong repairs = new AtomicLong();
  final AtomicLong writeErrors = new AtomicLong();

  Device(String fsUuid, String tier, int number, Path dir, Codec codec, long segmentBytes, boolean salvage,
      boolean checkOnly) {
    this.fsUuid = fsUuid;
    this.tier = tier;
    this.number = number;
    this.dir = dir;
    this.codec = codec;
    this.segmentBytes = segmentBytes;
    this.salvage = salvage;
    this.checkOnly = checkOnly;
  }

  /**
   * Opens the device's store. A missing directory is never created here (it may be an unmounted disk):
   * the device is FAILED. A directory that is empty is adopted (a new or replaced disk: {@link #isFresh()});
   * one with another filesystem's identity is FAILED. With {@code required}, any failure is thrown instead.
   */
  void open(boolean required) throws IOException {
    String why = adopt();
    if (why != null) {
      if (required) {
        problem = why;
        throw FsException.of(Errno.EIO, "device %s: %s", dir, why);
      }
      fail(why);
      return;
    }
    try {
      store = checkOnly ? SegmentStore.openForCheck(dir, codec) : SegmentStore.open(dir, codec, segmentBytes, salvage);
      health = Health.ONLINE;
      problem = null;
      refreshFullness();
    } catch (IOException e) {
      if (required) {
        problem = "cannot open: " + e.getMessage();
        throw e; // the caller reports it; nothing else could serve this device's blocks
      }
      fail("cannot open: " + e.getMessage());
    }
  }

  /** Checks or writes the identity file; returns why the device cannot be used, or null. */
  private String adopt() throws IOException {
    if (!Files.isDirectory(dir)) {
      return "directory is missing";
    }
    Path id = dir.resolve(IDENTITY);
    if (Files.exists(id)) {
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(id, StandardCharsets.UTF_8)) {
        p.load(r);
      }
      String u = p.getProperty("filesystem", "");
      String t = p.getProperty("tier", "");
      String n = p.getProperty("device", "");
      if (!u.equals(fsUuid) || !t.equals(tier)) {
        return "belongs to filesystem " + u + " tier '" + t + "' device " + n + ", not this one";
      }
      return null;
    }
    boolean empty;
    boolean segments;
    try (Stream<Path> s = Files.list(dir)) {
      List<Path> all = s.toList();
      empty = all.isEmpty();
      segments = all.stream().anyMatch(p -> p.getFileName().toString().startsWith("seg-"));
    }
    if (!empty && !(segments && "default".equals(tier))) {
      return "is not empty and has no " + IDENTITY + "; give an empty directory";
    }
    if (checkOnly) {
      return null;
    }
    fresh = empty;
    Properties p = new Properties();
    p.setProperty("filesystem", fsUuid);
    p.setProperty("tier", tier);
    p.setProperty("device", Integer.toString(number));
    Path tmp = dir.resolve(IDENTITY + ".tmp");
    try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
      p.store(w, "DynamicFS device; do not edit");
    }
    Files.move(tmp, id, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    return null;
  }

  /** The store when reads may use it, else null. */
  SegmentStore readable() {
    return health == Health.FAILED ? null : store;
  }

  /** The store when writes may use it, else null. */
  SegmentStore writable() {
    return health == Health.ONLINE && !checkOnly ? store : null;
  }

  /** Takes the device out after a failed write or sync; ENOSPC only stops writes. */
  void writeFailed(IOException e) {
    writeErrors.incrementAndGet();
    if (e instanceof FsException fe && fe.errno() == Errno.ENOSPC) {
      if (health == Health.ONLINE) {
        health = Health.FULL;
        problem = "no space left";
        log.atWarn().addKeyValue("tier", tier).addKeyValue("device", dir).log("device full; writes go elsewhere");
      }
      return;
    }
    fail("write failed: " + e.getMessage());
  }

  void fail(String why) {
    if (health != Health.FAILED || !why.equals(problem)) {
      log.atError().addKeyValue("tier", tier).addKeyValue("device", dir).addKeyValue("problem", why)
          .log("device taken out of service");
    }
    health = Health.FAILED;
    problem = why;
  }

  /**
   * Re-checks what may have changed under a running mount: the directory or identity vanishing (FAILED),
   * a full device regaining space (ONLINE again).
   */
  void recheck() {
    if (health == Health.FAILED || checkOnly) {
      return;
    }
    if (!Files.isRegularFile(dir.resolve(IDENTITY))) {
      fail("directory or its " + IDENTITY + " vanished");
      return;
    }
    refreshFullness();
  }

  private void refreshFullness() {
    try {
      var fs = Files.getFileStore(dir);
      long free = fs.getUsableSpace();
      long needed = Math.min(RESUME_FREE_BYTES + segmentBytes, fs.getTotalSpace() / 4);
      if (health == Health.FULL && free >= needed) {
        health = Health.ONLINE;
        problem = null;
        log.atInfo().addKeyValue("tier", tier).addKeyValue("device", dir).log("device has space again");
      }
    } catch (IOException e) {
      // leave the state as it is; the next write tells
    }
  }

  /** Reopens a replaced (empty) or recovered directory for {@code rebuild}. */
  public void reopen() throws IOException {
    SegmentStore old = store;
    store = null;
    health = Health.FAILED;
    if (old != null) {
      try {
        old.close();
      } catch (IOException e) {
        log.atWarn().addKeyValue("device", dir).addKeyValue("error", e.getMessage()).log("closing old store failed");
      }
    }
    open(true);
  }

  void badRecord() {
    badRecords.incrementAndGet();
  }

  void repaired() {
    repairs.incrementAndGet();
  }

  public String tier() {
    return tier;
  }

  public int number() {
    return number;
  }

  public Path directory() {
    return dir;
  }

  public Health health() {
    return health;
  }

  /** Why the device is not ONLINE, or null. */
  public String problem() {
    return problem;
  }

  /** True when the directory was empty when opened: copies of older blocks are still to be rebuilt. */
  public boolean isFresh() {
    return fresh;
  }

  SegmentStore store() {
    return store;
  }

  /** Structural damage found when the store was opened (skipped records, torn tails seen by a check). */
  public List<String> damage() {
    SegmentStore s = store;
    return s == null ? List.of() : s.damage();
  }

  public long badRecords() {
    return badRecords.get();
  }

  public long repairs() {
    return repairs.get();
  }

  public long writeErrors() {
    return writeErrors.get();
  }

  /** Bytes of the device's segment files (0 while it has no open store). */
  public long usedBytes() {
    SegmentStore s = store;
    return s == null ? 0 : s.stats().fileBytes();
  }

  /** Status figures for {@code tier status}. */
  public DeviceStatus status() {
    long total = -1;
    long usable = -1;
    try {
      var fs = Files.getFileStore(dir);
      total = fs.getTotalSpace();
      usable = fs.getUsableSpace();
    } catch (IOException e) {
      // missing directory: unknown
    }
    SegmentStore s = store;
    var st = s == null ? null : s.stats();
    return new DeviceStatus(tier, number, dir.toString(), health.name().toLowerCase(java.util.Locale.ROOT),
        problem, total, usable, st == null ? 0 : st.fileBytes(), st == null ? 0 : st.blocks(), badRecords.get(),
        repairs.get(), writeErrors.get(), damage().size());
  }

  /** A device's figures: capacity and free space of its filesystem, bytes and records held, health. */
  public record DeviceStatus(String tier, int number, String directory, String health, String problem,
      long capacityBytes, long freeBytes, long usedBytes, long records, long badRecords, long repairs,
      long writeErrors, int damagedSegments) {}

  @Override
  public void close() throws IOException {
    SegmentStore s = store;
    store = null;
    if (s != null) {
      s.close();
    }
  }

  @Override
  public String toString() {
    return tier + "/" + number + " (" + dir + ")";
  }
}
