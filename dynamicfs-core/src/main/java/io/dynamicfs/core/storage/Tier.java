package io.dynamicfs.core.storage;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.Frames;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tier: a set of devices holding each block with a redundancy. Reads verify every record (the segment
 * store checks its checksums) and fall back to another copy or to the other shards; what was found bad is
 * rewritten. {@link #check} verifies every copy or shard of one block and restores what is missing: the
 * scrubber's and rebuild's unit of work.
 *
 * <p>Where a block goes is decided by rendezvous hashing of its id over the devices, so placement needs no
 * table; reads look a block up in every device's in-memory index, so a copy placed elsewhere (degraded
 * writes, rebuilds) is still found.
 */
public abstract sealed class Tier implements BlockStore permits ReplicatedTier, ErasureCodedTier {
  private static final Logger log = LoggerFactory.getLogger(Tier.class);

  protected final String name;
  protected final int number;
  protected final Codec codec;
  protected final List<Device> devices;
  private final Object[] repairLocks = new Object[64];
  final AtomicLong degradedWrites = new AtomicLong();
  /** Reads the engine had this tier serve (through {@link TieredStore}), and their bytes: what the policy's
   * fast-tier hit ratio counts. Moves, scrubs and rebuilds read the tier directly and are not counted. */
  private final java.util.concurrent.atomic.LongAdder readsServed = new java.util.concurrent.atomic.LongAdder();
  private final java.util.concurrent.atomic.LongAdder bytesServed = new java.util.concurrent.atomic.LongAdder();
  private volatile long lastDegradedLog;

  Tier(String name, int number, Codec codec, List<Device> devices) {
    this.name = name;
    this.number = number;
    this.codec = codec;
    this.devices = List.copyOf(devices);
    for (int i = 0; i < repairLocks.length; i++) {
      repairLocks[i] = new Object();
    }
  }

  static Tier create(TierSpec spec, int number, List<Device> devices, Codec codec) {
    if (spec.redundancy() instanceof Redundancy.ReedSolomon rs) {
      return new ErasureCodedTier(spec.name(), number, codec, devices, rs.data(), rs.parity());
    }
    return new ReplicatedTier(spec.name(), number, codec, devices, ((Redundancy.Replicate) spec.redundancy()).copies());
  }

  public String name() {
    return name;
  }

  public int number() {
    return number;
  }

  public abstract Redundancy redundancy();

  public List<Device> devices() {
    return devices;
  }

  /**
   * Verifies every copy or shard of {@code id}; with {@code repair}, rewrites bad ones in place and places
   * missing ones on writable devices. Never throws for bad data: the verdict says it.
   */
  public abstract BlockCheck check(BlockId id, boolean repair);

  /** Every device in this block's placement order (the first ones are where its copies or shards go). */
  protected List<Device> placement(BlockId id) {
    long h = id.hashCode() * 0x9E3779B97F4A7C15L ^ ((long) id.toBytes()[5] << 40);
    List<Device> order = new ArrayList<>(devices);
    order.sort(Comparator.comparingLong((Device d) -> mix(h + d.number() * 0xC2B2AE3D27D4EB4FL)).reversed());
    return order;
  }

  private static long mix(long z) {
    z = (z ^ (z >>> 33)) * 0xff51afd7ed558ccdL;
    z = (z ^ (z >>> 33)) * 0xc4ceb9fe1a85ec53L;
    return z ^ (z >>> 33);
  }

  /** Devices whose index holds {@code id}, in placement order. */
  protected List<Device> holders(BlockId id) {
    List<Device> out = new ArrayList<>();
    for (Device d : placement(id)) {
      SegmentStore s = d.readable();
      if (s != null && s.stat(id) != null) {
        out.add(d);
      }
    }
    return out;
  }

  protected Object repairLock(BlockId id) {
    return repairLocks[(id.hashCode() & 0x7fffffff) % repairLocks.length];
  }

  /** Stores a record on a device, taking the device out when that fails; false when it did. */
  protected boolean putOn(Device d, BlockId id, Frames.Encoded body) {
    SegmentStore s = d.writable();
    if (s == null) {
      return false;
    }
    try {
      s.putFramed(id, body);
      return true;
    } catch (IOException e) {
      if (devices.size() == 1) {
        return false;
      }
      d.writeFailed(e);
      return false;
    }
  }

  /** Replaces a bad record on a device with good bytes; false when the device cannot take it. */
  protected boolean rewriteOn(Device d, BlockId id, Frames.Encoded body) {
    SegmentStore s = d.writable();
    if (s == null) {
      return false;
    }
    try {
      s.delete(id);
      s.putFramed(id, body);
      d.repaired();
      return true;
    } catch (IOException e) {
      d.writeFailed(e);
      return false;
    }
  }

  protected void degraded(BlockId id, int stored, int wanted) {
    degradedWrites.incrementAndGet();
    long now = System.nanoTime();
    if (now - lastDegradedLog > 10_000_000_000L) {
      lastDegradedLog = now;
      log.atWarn().addKeyValue("tier", name).addKeyValue("block", id.toHex()).addKeyValue("stored", stored)
          .addKeyValue("wanted", wanted).addKeyValue("degraded_writes", degradedWrites.get())
          .log("degraded write: fewer copies or shards than the redundancy asks; scrub or rebuild restores them");
    }
  }

  protected FsException noDevice(BlockId id, String what) {
    boolean full = devices.stream().anyMatch(d -> d.health() == Device.Health.FULL);
    return FsException.of(full ? Errno.ENOSPC : Errno.EIO, "tier '%s' cannot store block %s: %s", name, id, what);
  }

  protected FsException unreadable(BlockId id, String what) {
    log.atError().addKeyValue("tier", name).addKeyValue("block", id.toHex()).addKeyValue("problem", what)
        .log("block unreadable: no redundancy left");
    return FsException.of(Errno.EIO, "block %s on tier '%s' is unreadable: %s", id, name, what);
  }

  @Override
  public void delete(BlockId id) throws IOException {
    for (Device d : devices) {
      SegmentStore s = d.store();
      if (s != null && s.stat(id) != null) {
        try {
          s.delete(id);
        } catch (IOException e) {
          if (devices.size() == 1) {
            throw e;
          }
          d.writeFailed(e);
        }
      }
    }
  }

  @Override
  public boolean contains(BlockId id) {
    for (Device d : devices) {
      SegmentStore s = d.readable();
      if (s != null && s.stat(id) != null) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void forEachId(Consumer<BlockId> action) {
    BlockStore.forEachIdOnce(readableStores(), action);
  }

  private List<SegmentStore> readableStores() {
    List<SegmentStore> out = new ArrayList<>();
    for (Device d : devices) {
      SegmentStore s = d.readable();
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  @Override
  public void forEach(Consumer<StoredBlock> action) {
    BlockStore.forEachStat(this, action);
  }

  /** Syncs the devices in parallel: each is its own disk, and a commit waits for the slowest. */
  @Override
  public void sync() throws IOException {
    if (devices.size() == 1) {
      syncDevice(devices.get(0));
      return;
    }
    List<java.util.concurrent.Future<?>> pending = new ArrayList<>();
    for (Device d : devices.subList(1, devices.size())) {
      pending.add(SYNCERS.submit(() -> {
        syncDevice(d);
        return null;
      }));
    }
    syncDevice(devices.get(0));
    for (java.util.concurrent.Future<?> f : pending) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while syncing devices");
      } catch (java.util.concurrent.ExecutionException e) {
        throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
      }
    }
  }

  private static final java.util.concurrent.ExecutorService SYNCERS =
      java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "dfs-device-sync");
        t.setDaemon(true);
        return t;
      });

  private void syncDevice(Device d) throws IOException {
    SegmentStore s = d.writable();
    if (s == null && d.health() == Device.Health.FULL) {
      s = d.store();
    }
    if (s == null) {
      return;
    }
    try {
      s.sync();
    } catch (IOException e) {
      // Never retried: after a failed fsync the kernel may report the next one clean with the data gone.
      // The segment store refuses writes and syncs from now on; a device with peers is taken out (its
      // copies are rebuilt elsewhere by scrub), the only device keeps serving what was durable before.
      if (devices.size() == 1) {
        throw e;
      }
      d.fail("fsync failed: " + e.getMessage());
    }
  }

  /** Sums of the devices' figures (records of copies or shards, not distinct blocks). */
  @Override
  public StoreStats stats() {
    StoreStats sum = StoreStats.EMPTY;
    for (Device d : devices) {
      SegmentStore s = d.store();
      if (s != null) {
        sum = sum.plus(s.stats());
      }
    }
    return sum;
  }

  /** Compacts every writable device; returns the bytes freed. */
  public long compact(double threshold) throws IOException {
    return compact(threshold, (done, total) -> { });
  }

  /** As {@link #compact(double)}, telling {@code progress} per device's segments. */
  public long compact(double threshold, SegmentStore.CompactionProgress progress) throws IOException {
    long freed = 0;
    for (Device d : devices) {
      SegmentStore s = d.writable();
      if (s != null) {
        freed += s.compact(threshold, progress);
      }
    }
    return freed;
  }

  /** Size and live bytes of every segment file of every device that is open. */
  public List<SegmentStore.SegmentUsage> segmentUsage() {
    List<SegmentStore.SegmentUsage> out = new ArrayList<>();
    for (Device d : devices) {
      SegmentStore s = d.store();
      if (s != null) {
        out.addAll(s.usage());
      }
    }
    return out;
  }

  /** Notices devices that vanished or regained space under a running mount. */
  public void recheckDevices() {
    devices.forEach(Device::recheck);
  }

  public Device device(Path dir) {
    Path n = dir.toAbsolutePath().normalize();
    for (Device d : devices) {
      if (d.directory().equals(n)) {
        return d;
      }
    }
    return null;
  }

  public long degradedWrites() {
    return degradedWrites.get();
  }

  void served(int bytes) {
    readsServed.increment();
    bytesServed.add(bytes);
  }

  /** Block reads of the engine this tier served since it opened (whole blocks and ranges). */
  public long readsServed() {
    return readsServed.sum();
  }

  /** Bytes of the engine's reads this tier served since it opened. */
  public long bytesServed() {
    return bytesServed.sum();
  }

  /** A tier's figures for {@code tier status}: its devices' status and the degraded writes it took. */
  public record Status(String name, String redundancy, long degradedWrites, List<Device.DeviceStatus> devices) {}

  public Status status() {
    return new Status(name, redundancy().toString(), degradedWrites.get(),
        devices.stream().map(Device::status).toList());
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (Device d : devices) {
      try {
        d.close();
      } catch (IOException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null) {
      throw first;
    }
  }

  @Override
  public String toString() {
    return "tier '" + name + "' (" + redundancy() + " over " + devices.size() + " devices)";
  }
}
