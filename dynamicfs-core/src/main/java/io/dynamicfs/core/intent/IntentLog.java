package io.dynamicfs.core.intent;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The append-only write intent log: numbered files of records, each one byte range of one file.
 *
 * <p>Record (big-endian): {@code 0 magic "DFSI", 4 payload length (u32), 8 inode (u64), 16 offset in the
 * file (u64), 24 CRC32C of the payload, 28 CRC32C of header bytes 0..27, 32 payload}. A record is named by
 * its file number and the position of its header; metadata overlays carry both and the payload's CRC32C,
 * so a read checks the header, that it belongs to the expected inode and offset, and the payload.
 *
 * <p>Group commit: {@link #append} writes under the append lock and returns a {@link Ticket}; {@link #sync}
 * lets one caller at a time sync the active file, covering every record appended before it started, so
 * concurrent fsyncs share one device sync. A failed sync is sticky: the log answers EIO from then on (the
 * page cache may have dropped the bytes it could not write). A new file is started when the active one
 * reaches {@code fileBytes}, and the old one is synced first.
 *
 * <p>Reclaiming: a file is deleted by {@link #reclaim} when it is not the active file, no ticket pins it
 * (a record appended whose metadata is not applied yet) and no overlay references it. After a crash the
 * log is never appended to again where it stopped: a new file is started, and records no metadata refers
 * to (appended but never committed) go with their file.
 */
public final class IntentLog implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(IntentLog.class);
  static final int MAGIC = 0x44465349; // "DFSI"
  public static final int HEADER = 32;

  private final LogStorage storage;
  private final long maxBytes;
  private final long fileBytes;

  /** Guards the fields below it; never held during a sync. */
  private final Object appendLock = new Object();
  // @GuardedBy("appendLock")
  private int active = -1;
  // @GuardedBy("appendLock")
  private long activeSize;
  // @GuardedBy("appendLock")
  private long appendedSeq;
  // @GuardedBy("appendLock")
  private final Map<Integer, Long> sizes = new HashMap<>();
  // @GuardedBy("appendLock")
  private final Map<Integer, Integer> pins = new HashMap<>();
  // @GuardedBy("appendLock")
  private int nextFile;

  /** One syncer at a time; {@code syncedSeq} is what the last sync covered. */
  private final ReentrantLock syncMutex = new ReentrantLock();
  private volatile long syncedSeq;
  private volatile IOException syncFailure;
  private volatile long syncs;

  /** What an {@link #append} wrote: where each range went, and the sequence number {@link #sync} waits for. */
  public static final class Ticket {
    private final int file;
    private final long seq;
    private final long[] positions;
    private final int[] crcs;
    private boolean released;

    private Ticket(int file, long seq, long[] positions, int[] crcs) {
      this.file = file;
      this.seq = seq;
      this.positions = positions;
      this.crcs = crcs;
    }

    public int file() {
      return file;
    }

    public long position(int i) {
      return positions[i];
    }

    public int crc(int i) {
      return crcs[i];
    }
  }

  /** One byte range to log: bytes {@code data[from, from + length)} at {@code offset} of inode {@code ino}. */
  public record Range(long ino, long offset, byte[] data, int from, int length) {}

  /**
   * Opens the log in {@code storage}: existing files stay readable (and count toward the size) until
   * reclaimed; appends go to a new file. {@code maxBytes} is the size at which {@link #full} says to fold.
   */
  public IntentLog(LogStorage storage, long maxBytes) throws IOException {
    if (maxBytes < (4L << 20)) {
      throw new IllegalArgumentException("intent log size must be at least 4 MiB, got " + maxBytes);
    }
    this.storage = storage;
    this.maxBytes = maxBytes;
    this.fileBytes = Math.max(1L << 20, Math.min(64L << 20, maxBytes / 8));
    SortedSet<Integer> files = storage.list();
    for (int f : files) {
      sizes.put(f, storage.size(f));
    }
    nextFile = files.isEmpty() ? 1 : files.last() + 1;
  }

  /** Appends the ranges as records of the active file (one write) and pins that file until {@link #release}. */
  public Ticket append(List<Range> ranges) throws IOException {
    requireNoSyncFailure();
    int total = 0;
    for (Range r : ranges) {
      total += HEADER + r.length();
    }
    ByteBuffer buf = ByteBuffer.allocate(total);
    long[] rel = new long[ranges.size()];
    int[] crcs = new int[ranges.size()];
    for (int i = 0; i < ranges.size(); i++) {
      Range r = ranges.get(i);
      rel[i] = buf.position();
      CRC32C c = new CRC32C();
      c.update(r.data(), r.from(), r.length());
      crcs[i] = (int) c.getValue();
      int start = buf.position();
      buf.putInt(MAGIC).putInt(r.length()).putLong(r.ino()).putLong(r.offset()).putInt(crcs[i]);
      CRC32C h = new CRC32C();
      h.update(buf.array(), start, 28);
      buf.putInt((int) h.getValue());
      buf.put(r.data(), r.from(), r.length());
    }
    buf.flip();
    synchronized (appendLock) {
      if (active < 0 || activeSize + total > fileBytes && activeSize > 0) {
        startFile();
      }
      long base = activeSize;
      try {
        storage.append(active, buf);
      } catch (IOException e) {
        active = -1; // the file may hold a partial write: never append after it
        throw new FsException(Errno.EIO, "intent log append failed: " + e.getMessage(), e);
      }
      activeSize += total;
      sizes.put(active, activeSize);
      pins.merge(active, 1, Integer::sum);
      for (int i = 0; i < rel.length; i++) {
        rel[i] += base;
      }
      return new Ticket(active, ++appendedSeq, rel, crcs);
    }
  }

  // @GuardedBy("appendLock")
  private void startFile() throws IOException {
    if (active >= 0) {
      try {
        storage.sync(active); // its records are covered by the syncs of the next file's waiters
      } catch (IOException e) {
        syncFailure = e;
        throw new FsException(Errno.EIO, "intent log sync failed: " + e.getMessage(), e);
      }
    }
    int f = nextFile++;
    storage.create(f);
    active = f;
    activeSize = 0;
    sizes.put(f, 0L);
  }

  /** Returns when the ticket's records are durable; one caller syncs for all who appended before it. */
  public void sync(Ticket t) throws IOException {
    syncMutex.lock();
    try {
      requireNoSyncFailure();
      if (syncedSeq >= t.seq) {
        return;
      }
      int file;
      long upTo;
      synchronized (appendLock) {
        file = active;
        upTo = appendedSeq;
      }
      try {
        if (file != t.file) {
          storage.sync(t.file); // normally synced when the file was closed; a failed start may have skipped it
        }
        if (file >= 0) {
          storage.sync(file);
        }
      } catch (IOException e) {
        syncFailure = e;
        throw new FsException(Errno.EIO, "intent log sync failed: " + e.getMessage(), e);
      }
      syncs++;
      syncedSeq = upTo;
    } finally {
      syncMutex.unlock();
    }
  }

  /** The ticket's metadata is applied (or failed): its file may be reclaimed once nothing references it. */
  public void release(Ticket t) {
    synchronized (appendLock) {
      if (t.released) {
        return;
      }
      t.released = true;
      pins.merge(t.file, -1, (a, b) -> a + b == 0 ? null : a + b);
    }
  }

  private void requireNoSyncFailure() throws FsException {
    IOException f = syncFailure;
    if (f != null) {
      throw new FsException(Errno.EIO, "intent log failed to sync earlier: " + f.getMessage(), f);
    }
  }

  /**
   * The payload of the record at {@code (file, pos)}, checked: header CRC, inode, offset, length, and the
   * payload's CRC32C against the header and {@code crc}. EIO when anything disagrees or the file is gone.
   */
  public byte[] read(int file, long pos, long ino, long offset, int length, int crc) throws FsException {
    ByteBuffer buf = ByteBuffer.allocate(HEADER + length);
    try {
      while (buf.hasRemaining()) {
        int n = storage.read(file, pos + buf.position(), buf);
        if (n < 0) {
          throw FsException.of(Errno.EIO, "intent log file %d ends inside the record at %d", file, pos);
        }
      }
    } catch (FsException e) {
      throw e;
    } catch (IOException e) {
      throw new FsException(Errno.EIO, "intent log file " + file + " at " + pos + ": " + e, e);
    }
    byte[] b = buf.array();
    CRC32C h = new CRC32C();
    h.update(b, 0, 28);
    buf.rewind();
    int magic = buf.getInt();
    int len = buf.getInt();
    long rIno = buf.getLong();
    long rOff = buf.getLong();
    int rCrc = buf.getInt();
    int hCrc = buf.getInt();
    if (magic != MAGIC || hCrc != (int) h.getValue() || len != length || rIno != ino || rOff != offset
        || rCrc != crc) {
      log.atError().addKeyValue("file", file).addKeyValue("pos", pos).addKeyValue("ino", ino)
          .log("intent log record header does not match its overlay");
      throw FsException.of(Errno.EIO, "intent log record at %d:%d does not match (inode %d offset %d)", file, pos,
          ino, offset);
    }
    CRC32C c = new CRC32C();
    c.update(b, HEADER, length);
    if ((int) c.getValue() != crc) {
      log.atError().addKeyValue("file", file).addKeyValue("pos", pos).addKeyValue("ino", ino)
          .log("intent log record fails its checksum");
      throw FsException.of(Errno.EIO, "intent log record at %d:%d fails its CRC32C", file, pos);
    }
    return java.util.Arrays.copyOfRange(b, HEADER, HEADER + length);
  }

  /** Starts a new file for the next append if the active one holds anything (so it can be reclaimed). */
  public void roll() throws IOException {
    synchronized (appendLock) {
      if (active >= 0 && activeSize > 0) {
        try {
          storage.sync(active);
        } catch (IOException e) {
          syncFailure = e;
          throw new FsException(Errno.EIO, "intent log sync failed: " + e.getMessage(), e);
        }
        active = -1; // the next append creates the next file
      }
    }
  }

  /**
   * Deletes every file that is not active, not pinned and not among the log files metadata overlays point
   * into. The candidates (not active, not pinned) are taken first and {@code referenced} is asked after: a
   * ticket released before that had its overlays applied before, so the scan sees them; one still pinned is
   * no candidate; and new tickets only pin the active file. (Scanning first would let an fsync apply and
   * release between the scan and the pin check, and its file be deleted under its overlays.) Returns the
   * bytes freed.
   */
  public long reclaim(java.util.function.Supplier<Set<Integer>> referenced) throws IOException {
    List<Integer> candidates = new ArrayList<>();
    synchronized (appendLock) {
      for (int f : sizes.keySet()) {
        if (f != active && !pins.containsKey(f)) {
          candidates.add(f);
        }
      }
    }
    if (candidates.isEmpty()) {
      return 0;
    }
    Set<Integer> live = referenced.get();
    List<Integer> doomed = new ArrayList<>();
    long freed = 0;
    synchronized (appendLock) {
      for (int f : candidates) {
        if (!live.contains(f)) {
          doomed.add(f);
          Long size = sizes.remove(f);
          freed += size == null ? 0 : size;
        }
      }
    }
    for (int f : doomed) {
      storage.delete(f);
    }
    return freed;
  }

  /** Bytes of all log files present. */
  public long bytes() {
    synchronized (appendLock) {
      long n = 0;
      for (long s : sizes.values()) {
        n += s;
      }
      return n;
    }
  }

  /** True when the log has reached its size: the engine folds before logging more. */
  public boolean full() {
    return bytes() >= maxBytes;
  }

  public long maxBytes() {
    return maxBytes;
  }

  /** Device syncs so far (fewer than fsyncs when they were grouped). */
  public long syncs() {
    return syncs;
  }

  /** Numbers of the files present. */
  public SortedSet<Integer> files() {
    synchronized (appendLock) {
      return new TreeSet<>(sizes.keySet());
    }
  }

  @Override
  public void close() throws IOException {
    storage.close();
  }
}
