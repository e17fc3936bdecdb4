package io.dynamicfs.core.storage;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block store of a filesystem: its tiers in order. New blocks land on the first tier; a block already
 * held anywhere is not stored again (dedup across tiers); reads find a block on whichever tier holds it.
 * Which tier a block belongs to is recorded in its metadata record; moving it is the engine's job.
 */
public final class TieredStore implements BlockStore {
  private static final Logger log = LoggerFactory.getLogger(TieredStore.class);

  private final StorageLayout layout;
  private final List<Tier> tiers;

  private TieredStore(StorageLayout layout, List<Tier> tiers) {
    this.layout = layout;
    this.tiers = List.copyOf(tiers);
  }

  /**
   * Opens every device of every tier. {@code create} (a filesystem being formatted) creates missing device
   * directories; otherwise a missing one is a failed device. A single-copy tier on one device is opened
   * strictly (any damage refuses the mount, as nothing could repair it); devices of redundant tiers open
   * in salvage mode and a tier opens as long as enough of its devices do to read every block.
   * {@code checkOnly} writes nothing (fsck).
   */
  public static TieredStore open(StorageLayout layout, String fsUuid, Codec codec, long segmentBytes, boolean create,
      boolean checkOnly) throws IOException {
    List<Tier> tiers = new ArrayList<>();
    try {
      for (int t = 0; t < layout.tiers().size(); t++) {
        TierSpec spec = layout.tiers().get(t);
        boolean single = spec.devices().size() == 1;
        List<Device> devices = new ArrayList<>();
        for (int i = 0; i < spec.devices().size(); i++) {
          Path dir = spec.devices().get(i);
          if (create && !checkOnly) {
            Files.createDirectories(dir);
          }
          Device d = new Device(fsUuid, spec.name(), i, dir, spec.redundancy() instanceof Redundancy.ReedSolomon
              ? Codec.NONE : codec, segmentBytes, !single, checkOnly);
          devices.add(d);
          d.open(single && !checkOnly);
        }
        Tier tier = Tier.create(spec, t, devices, codec);
        tiers.add(tier);
        long readable = devices.stream().filter(d -> d.health() != Device.Health.FAILED).count();
        int need = spec.redundancy().minDevices() - spec.redundancy().tolerance();
        if (readable < need) {
          throw FsException.of(Errno.EIO, "tier '%s' has only %d of %d devices available; %s needs at least %d to read "
              + "its data (failed: %s)", spec.name(), readable, devices.size(), spec.redundancy(), need, failed(devices));
        }
        if (readable < devices.size()) {
          log.atWarn().addKeyValue("tier", spec.name()).addKeyValue("failed", failed(devices))
              .log("tier opened degraded; reads rebuild from the other devices, 'dynamicfs rebuild DEVICE' restores "
                  + "redundancy");
        }
        for (Device d : devices) {
          if (d.isFresh() && !create) {
            log.atWarn().addKeyValue("tier", spec.name()).addKeyValue("device", d.directory())
                .log("device is empty (new or replaced); run 'dynamicfs rebuild' on it to restore redundancy");
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      for (Tier t : tiers) {
        try {
          t.close();
        } catch (IOException s) {
          e.addSuppressed(s);
        }
      }
      throw e;
    }
    return new TieredStore(layout, tiers);
  }

  private static String failed(List<Device> devices) {
    List<String> out = new ArrayList<>();
    for (Device d : devices) {
      if (d.health() == Device.Health.FAILED) {
        out.add(d.directory() + ": " + d.problem());
      }
    }
    return String.join("; ", out);
  }

  public StorageLayout layout() {
    return layout;
  }

  public List<Tier> tiers() {
    return tiers;
  }

  public Tier tier(String name) {
    for (Tier t : tiers) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }

  /** The device with this directory in any tier, or null. */
  public Device device(Path dir) {
    for (Tier t : tiers) {
      Device d = t.device(dir);
      if (d != null) {
        return d;
      }
    }
    return null;
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    if (tiers.size() > 1) {
      for (Tier t : tiers) {
        if (t.contains(id)) {
          StoredBlock sb = t.stat(id);
          if (sb != null) {
            return sb;
          }
        }
      }
    }
    return tiers.get(0).put(id, data, length);
  }

  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    if (tiers.size() == 1) {
      return served(tiers.get(0), tiers.get(0).get(id, sequential));
    }
    IOException first = null;
    for (Tier t : tiers) {
      if (t.contains(id)) {
        try {
          return served(t, t.get(id, sequential));
        } catch (IOException e) {
          first = first == null ? e : first;
        }
      }
    }
    if (first != null) {
      throw first;
    }
    throw FsException.of(Errno.EIO, "block %s is on no tier", id);
  }

  private static byte[] served(Tier t, byte[] plain) {
    t.served(plain.length);
    return plain;
  }

  private static int served(Tier t, int n) {
    if (n >= 0) {
      t.served(n);
    }
    return n;
  }

  /** A range from the tier holding the block (see {@link Tier}'s implementations); -1 when it cannot serve ranges. */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    if (tiers.size() == 1) {
      return served(tiers.get(0), tiers.get(0).readRange(id, offset, dst, dstOffset, length));
    }
    IOException first = null;
    for (Tier t : tiers) {
      if (t.contains(id)) {
        try {
          return served(t, t.readRange(id, offset, dst, dstOffset, length));
        } catch (IOException e) {
          first = first == null ? e : first;
        }
      }
    }
    if (first != null) {
      throw first;
    }
    throw FsException.of(Errno.EIO, "block %s is on no tier", id);
  }

  @Override
  public StoredBlock stat(BlockId id) {
    for (Tier t : tiers) {
      StoredBlock sb = t.stat(id);
      if (sb != null) {
        return sb;
      }
    }
    return null;
  }

  @Override
  public boolean contains(BlockId id) {
    for (Tier t : tiers) {
      if (t.contains(id)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void delete(BlockId id) throws IOException {
    for (Tier t : tiers) {
      if (t.contains(id)) {
        t.delete(id);
      }
    }
  }

  @Override
  public void forEachId(Consumer<BlockId> action) {
    BlockStore.forEachIdOnce(tiers, action);
  }

  @Override
  public void forEach(Consumer<StoredBlock> action) {
    BlockStore.forEachStat(this, action);
  }

  @Override
  public void sync() throws IOException {
    for (Tier t : tiers) {
      t.sync();
    }
  }

  @Override
  public StoreStats stats() {
    StoreStats sum = StoreStats.EMPTY;
    for (Tier t : tiers) {
      sum = sum.plus(t.stats());
    }
    return sum;
  }

  /** Compacts every tier's devices; returns bytes freed. */
  public long compact(double threshold) throws IOException {
    return compact(threshold, (done, total) -> { });
  }

  /** As {@link #compact(double)}, telling {@code progress} as each device's segments are done. */
  public long compact(double threshold, io.dynamicfs.core.block.SegmentStore.CompactionProgress progress)
      throws IOException {
    long freed = 0;
    for (Tier t : tiers) {
      freed += t.compact(threshold, progress);
    }
    return freed;
  }

  /** Every segment file of every device, with its size and live bytes. */
  public List<io.dynamicfs.core.block.SegmentStore.SegmentUsage> segmentUsage() {
    List<io.dynamicfs.core.block.SegmentStore.SegmentUsage> out = new ArrayList<>();
    for (Tier t : tiers) {
      out.addAll(t.segmentUsage());
    }
    return out;
  }

  public void recheckDevices() {
    tiers.forEach(Tier::recheckDevices);
  }

  /** Structural damage the devices found while opening (salvaged or, for fsck, listed). */
  public List<String> damage() {
    List<String> out = new ArrayList<>();
    for (Tier t : tiers) {
      for (Device d : t.devices()) {
        var s = d.store();
        if (s != null) {
          out.addAll(s.damage());
        }
      }
    }
    return out;
  }

  @Override
  public void close() throws IOException {
    IOException first = null;
    for (Tier t : tiers) {
      try {
        t.close();
      } catch (IOException e) {
        first = first == null ? e : first;
      }
    }
    if (first != null) {
      throw first;
    }
  }
}
