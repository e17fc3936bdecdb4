package io.dynamicfs.policy.track;

import io.dynamicfs.policy.trace.RecordCursor;
import io.dynamicfs.policy.trace.TraceReader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A bounded binary ring log of accesses, for training and replay: a file of a fixed number of fixed-size
 * records, memory-mapped; when full, each append overwrites the oldest record. Appending is O(1) and
 * allocation-free.
 *
 * <p>Layout (big-endian): a {@value #HEADER}-byte header (magic {@code DFSALOG1}, version int, capacity int,
 * total appended long), then {@code capacity} records of {@value #RECORD} bytes (time long, key long,
 * bytes int, flags int: bit 0 = write). The total is written after the record, so a crash loses at most
 * the record being appended. Reopening checks magic, version and capacity.
 *
 * <p>Not thread-safe (the tracker's caller serialises).
 */
public final class AccessLog implements Closeable {
  static final int HEADER = 32;
  static final int RECORD = 24;
  private static final long MAGIC = 0x4446_5341_4C4F_4731L; // "DFSALOG1"
  private static final int VERSION = 1;

  private final Path path;
  private final FileChannel channel;
  private final MappedByteBuffer map;
  private final int capacity;
  private long total;

  private AccessLog(Path path, FileChannel channel, MappedByteBuffer map, int capacity, long total) {
    this.path = path;
    this.channel = channel;
    this.map = map;
    this.capacity = capacity;
    this.total = total;
  }

  /** Opens the log at {@code path}, creating it with room for {@code capacity} records if it is missing. */
  public static AccessLog open(Path path, int capacity) throws IOException {
    if (capacity <= 0 || (long) capacity * RECORD + HEADER > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("access log capacity must be 1.." + (Integer.MAX_VALUE - HEADER) / RECORD
          + " records: " + capacity);
    }
    FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    try {
      long size = (long) capacity * RECORD + HEADER;
      long existing = ch.size();
      MappedByteBuffer map = ch.map(FileChannel.MapMode.READ_WRITE, 0, size);
      long total = 0;
      if (existing == 0) {
        map.putLong(0, MAGIC);
        map.putInt(8, VERSION);
        map.putInt(12, capacity);
        map.putLong(16, 0);
      } else {
        if (existing != size || map.getLong(0) != MAGIC || map.getInt(8) != VERSION || map.getInt(12) != capacity) {
          throw new IOException(path + ": not an access log of " + capacity + " records (version " + VERSION + ")");
        }
        total = map.getLong(16);
        if (total < 0) {
          throw new IOException(path + ": access log header damaged (negative count)");
        }
      }
      return new AccessLog(path, ch, map, capacity, total);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Appends one access, overwriting the oldest when full. */
  public void append(long time, long key, int bytes, boolean write) {
    int at = HEADER + (int) (total % capacity) * RECORD;
    map.putLong(at, time);
    map.putLong(at + 8, key);
    map.putInt(at + 16, bytes);
    map.putInt(at + 20, write ? 1 : 0);
    total++;
    map.putLong(16, total);
  }

  /** Records held (at most the capacity). */
  public long size() {
    return Math.min(total, capacity);
  }

  /** Records ever appended. */
  public long appended() {
    return total;
  }

  public int capacity() {
    return capacity;
  }

  /** Reads the held records oldest first (a snapshot of the count at the call; appends during it are not seen). */
  public TraceReader replay() {
    long start = Math.max(0, total - capacity);
    long end = total;
    ByteBuffer view = map.duplicate();
    String name = "log:" + path.getFileName();
    return new RecordCursor(name) {
      private long next = start;

      @Override
      public boolean next() {
        if (next >= end) {
          return false;
        }
        int at = HEADER + (int) (next % capacity) * RECORD;
        time = view.getLong(at);
        key = view.getLong(at + 8);
        bytes = view.getInt(at + 16);
        write = (view.getInt(at + 20) & 1) != 0;
        next++;
        return true;
      }

      @Override
      public void close() {
      }
    };
  }

  /** Forces the records to disk. */
  public void force() {
    map.force();
  }

  @Override
  public void close() throws IOException {
    map.force();
    channel.close();
  }
}
