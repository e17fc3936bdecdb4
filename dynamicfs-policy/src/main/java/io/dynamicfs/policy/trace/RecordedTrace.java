package io.dynamicfs.policy.trace;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;

/**
 * A mount's own accesses as a trace file ({@code .dfstrace}, what {@code dynamicfs policy record} writes and
 * {@code policy evaluate --trace} replays): real times in milliseconds, block keys (inode and block index),
 * bytes, and whether each access wrote.
 *
 * <p>Layout (big-endian): magic {@code DFSTRACE}, version (int, {@value #VERSION}), then records of
 * {@value #RECORD} bytes to the end: time (long, ms since the epoch), key (long), bytes (int), flags (int: bit 0
 * = write), in time order.
 */
public final class RecordedTrace extends RecordCursor {
  static final byte[] MAGIC = {'D', 'F', 'S', 'T', 'R', 'A', 'C', 'E'};
  static final int VERSION = 1;
  static final int RECORD = 24;

  private final DataInputStream in;
  private long index = -1;

  RecordedTrace(String name, InputStream raw) throws IOException {
    super(name);
    this.in = new DataInputStream(new BufferedInputStream(raw, 1 << 16));
    byte[] magic = new byte[MAGIC.length];
    try {
      in.readFully(magic);
      if (!Arrays.equals(magic, MAGIC)) {
        throw new IOException(name + ": not a DynamicFS access trace (bad magic)");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw new IOException(name + ": unsupported trace version " + version + " (this build reads " + VERSION + ")");
      }
    } catch (EOFException e) {
      throw new IOException(name + ": too short for a DynamicFS access trace header", e);
    }
  }

  /**
   * Copies the accesses of {@code from} at or after {@code sinceMillis} to {@code out} as a trace file;
   * answers {accesses, writes, first time, last time} (times 0 when none).
   */
  public static long[] write(TraceReader from, long sinceMillis, OutputStream out) throws IOException {
    DataOutputStream o = new DataOutputStream(new BufferedOutputStream(out, 1 << 16));
    o.write(MAGIC);
    o.writeInt(VERSION);
    long n = 0;
    long writes = 0;
    long first = 0;
    long last = 0;
    long previous = Long.MIN_VALUE;
    while (from.next()) {
      long t = Math.max(previous, from.time()); // a clock step back never makes the trace go back in time
      if (t < sinceMillis) {
        continue;
      }
      previous = t;
      o.writeLong(t);
      o.writeLong(from.key());
      o.writeInt(from.bytes());
      o.writeInt(from.write() ? 1 : 0);
      first = n == 0 ? t : first;
      last = t;
      n++;
      writes += from.write() ? 1 : 0;
    }
    o.flush();
    return new long[] {n, writes, first, last};
  }

  @Override
  public boolean next() throws IOException {
    long t;
    try {
      t = in.readLong();
    } catch (EOFException e) {
      return false;
    }
    try {
      key = in.readLong();
      bytes = in.readInt();
      write = (in.readInt() & 1) != 0;
    } catch (EOFException e) {
      throw new EOFException(name() + ": truncated record at access " + (index + 1) + " (the file is not a whole "
          + "number of " + RECORD + "-byte records after its header)");
    }
    if (t < time && index >= 0) {
      throw new IOException(name() + ": access " + (index + 1) + " goes back in time");
    }
    if (bytes < 0) {
      throw new IOException(name() + ": access " + (index + 1) + " has a negative size");
    }
    time = t;
    index++;
    return true;
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
