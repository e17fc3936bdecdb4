package io.dynamicfs.core.intent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Random;
import java.util.SortedSet;
import java.util.TreeMap;

/**
 * A {@link LogStorage} over a real directory that remembers how much of each file was synced, and at
 * {@link #crash} does to the files what a power loss may: every byte appended after the file's last sync
 * is dropped, kept in part, or kept with its tail overwritten by junk (a torn write). A file whose creation
 * never returned is removed (its directory entry was not synced). Choices come from the given seeded
 * Random, over files in number order, so a seed replays the same damage.
 */
public class PowerLossLogStorage implements LogStorage {
  private final DirectoryLogStorage real;
  /** Per file: bytes known durable. */
  private final Map<Integer, Long> synced = new TreeMap<>();
  private long syncs;
  private long unsyncedBytesLost;
  /** Appends and syncs left before the power goes during one of them; -1: not armed. */
  private int armed = -1;
  private Random armedRandom;
  private boolean dead;

  public PowerLossLogStorage(Path dir) throws IOException {
    this.real = new DirectoryLogStorage(dir);
    for (int f : real.list()) {
      synced.put(f, real.size(f));
    }
  }

  @Override
  public synchronized SortedSet<Integer> list() throws IOException {
    return real.list();
  }

  @Override
  public void create(int file) throws IOException {
    real.create(file);
    synchronized (this) {
      synced.put(file, 0L);
    }
  }

  /**
   * The power goes during the {@code calls}-th append or sync from now (0: the next): an append writes a
   * random part of its bytes, a sync may or may not reach the device; either then throws, and so does every
   * call after it, as a machine that lost power answers nothing more.
   */
  public synchronized void armAfter(int calls, Random r) {
    armed = calls;
    armedRandom = r;
  }

  public synchronized boolean dead() {
    return dead;
  }

  /** True when this call is the one the power goes in; throws when it went before. */
  private synchronized boolean fatal() throws IOException {
    if (dead) {
      throw new IOException("no power (simulated)");
    }
    if (armed >= 0 && armed-- == 0) {
      dead = true;
      return true;
    }
    return false;
  }

  @Override
  public void append(int file, ByteBuffer data) throws IOException {
    if (fatal()) {
      data.limit(data.position() + armedRandom.nextInt(data.remaining() + 1));
      real.append(file, data);
      throw new IOException("power lost during an append (simulated)");
    }
    real.append(file, data);
  }

  @Override
  public void sync(int file) throws IOException {
    boolean fatal = fatal();
    long size = real.size(file);
    if (fatal && armedRandom.nextBoolean()) {
      throw new IOException("power lost before a sync reached the device (simulated)");
    }
    real.sync(file);
    synchronized (this) {
      synced.merge(file, size, Math::max);
      syncs++;
    }
    if (fatal) {
      throw new IOException("power lost right after a sync (simulated)");
    }
  }

  @Override
  public int read(int file, long pos, ByteBuffer dst) throws IOException {
    return real.read(file, pos, dst);
  }

  @Override
  public long size(int file) throws IOException {
    return real.size(file);
  }

  @Override
  public synchronized void delete(int file) throws IOException {
    real.delete(file);
    synced.remove(file);
  }

  @Override
  public void close() throws IOException {
    real.close();
  }

  public synchronized long syncs() {
    return syncs;
  }

  /** Bytes the last {@link #crash} threw away or damaged. */
  public synchronized long unsyncedBytesLost() {
    return unsyncedBytesLost;
  }

  /** The power goes: close, then damage every unsynced tail as described above. */
  public synchronized void crash(Random r) throws IOException {
    real.close();
    unsyncedBytesLost = 0;
    for (int f : real.list()) {
      Path p = real.path(f);
      Long durable = synced.get(f);
      if (durable == null) {
        Files.delete(p);
        continue;
      }
      long size = Files.size(p);
      if (size <= durable) {
        continue;
      }
      unsyncedBytesLost += size - durable;
      try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
        switch (r.nextInt(3)) {
          case 0 -> ch.truncate(durable);
          case 1 -> ch.truncate(durable + (long) (r.nextDouble() * (size - durable)));
          default -> {
            long from = durable + (long) (r.nextDouble() * (size - durable));
            byte[] junk = new byte[(int) Math.min(4096, size - from)];
            r.nextBytes(junk);
            ch.write(ByteBuffer.wrap(junk), from);
          }
        }
        ch.force(true);
      }
    }
  }
}
