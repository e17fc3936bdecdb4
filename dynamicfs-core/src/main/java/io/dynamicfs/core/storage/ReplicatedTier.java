package io.dynamicfs.core.storage;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Frames;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code replicate-N}: the block, as one framed record (compressed 64 KiB frames), on N distinct devices. A
 * read takes the first good copy; a copy that fails its checksum is rewritten from a good one. A range read
 * does the same with the frames it needs: a copy whose frames fail their checks is passed over and rewritten
 * from the copy that served the range. With one copy on one device (the default install) this is a thin
 * wrapper over that device's segment store.
 */
public final class ReplicatedTier extends Tier {
  private static final Logger log = LoggerFactory.getLogger(ReplicatedTier.class);
  private final int copies;

  ReplicatedTier(String name, int number, Codec codec, List<Device> devices, int copies) {
    super(name, number, codec, devices);
    this.copies = copies;
  }

  @Override
  public Redundancy redundancy() {
    return new Redundancy.Replicate(copies);
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    StoredBlock existing = stat(id);
    if (existing != null) {
      return existing;
    }
    if (devices.size() == 1) {
      SegmentStore s = devices.get(0).writable();
      if (s == null) {
        throw noDevice(id, "its device is " + devices.get(0).health() + " (" + devices.get(0).problem() + ")");
      }
      return s.put(id, data, length).withPlacement(new Placement(number, List.of(devices.get(0).number())));
    }
    Frames.Encoded body = Frames.encode(codec, data, 0, length);
    int written = 0;
    List<Integer> where = new ArrayList<>(copies);
    for (Device d : placement(id)) {
      if (written == copies) {
        break;
      }
      if (putOn(d, id, body)) {
        written++;
        where.add(d.number());
      }
    }
    if (written == 0) {
      throw noDevice(id, "no device could take it");
    }
    if (written < copies) {
      degraded(id, written, copies);
    }
    return new StoredBlock(id, length, body.length(), body.codec(), new Placement(number, where));
  }

  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    if (devices.size() == 1) {
      SegmentStore s = devices.get(0).readable();
      if (s == null) {
        throw unreadable(id, "its only device is unavailable (" + devices.get(0).problem() + ")");
      }
      return s.get(id, sequential);
    }
    List<Device> bad = new ArrayList<>();
    IOException last = null;
    // Reads prefer devices in a fixed order, not the block's placement order: a file's blocks then come
    // off one device in sequence, which the kernel's read-ahead of the segment files can follow.
    for (Device d : devices) {
      SegmentStore s = d.readable();
      if (s == null || s.stat(id) == null) {
        continue;
      }
      try {
        byte[] b = s.get(id, sequential);
        if (!bad.isEmpty()) {
          rewrite(id, b, bad);
        }
        return b;
      } catch (IOException e) {
        last = e;
        d.badRecord();
        bad.add(d);
      }
    }
    if (last != null && devices.size() == 1) {
      throw last;
    }
    throw unreadable(id, bad.isEmpty() ? "no device holds it" : bad.size() + " bad copies, no good one");
  }

  /**
   * Bytes of the block from the first copy whose frames covering them verify. A copy that fails is counted
   * bad and, once another copy has served the range, rewritten from that copy's whole block. -1 when the copy
   * tried is a first-format record (no frames): the caller reads the block whole, which repairs as usual.
   */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    if (devices.size() == 1) {
      SegmentStore s = devices.get(0).readable();
      if (s == null) {
        throw unreadable(id, "its only device is unavailable (" + devices.get(0).problem() + ")");
      }
      return s.readRange(id, offset, dst, dstOffset, length);
    }
    List<Device> bad = new ArrayList<>();
    for (Device d : devices) {
      SegmentStore s = d.readable();
      if (s == null || s.stat(id) == null) {
        continue;
      }
      int n;
      try {
        n = s.readRange(id, offset, dst, dstOffset, length);
      } catch (IOException e) {
        d.badRecord();
        bad.add(d);
        continue;
      }
      if (n >= 0 && !bad.isEmpty()) {
        repairFrom(id, s, bad);
      }
      return n;
    }
    throw unreadable(id, bad.isEmpty() ? "no device holds it" : bad.size() + " bad copies, no good one");
  }

  /** Rewrites the bad copies from the whole block of {@code good}; if that fails too, scrub sorts it out. */
  private void repairFrom(BlockId id, SegmentStore good, List<Device> bad) {
    try {
      rewrite(id, good.get(id), bad);
    } catch (IOException e) {
      log.atWarn().addKeyValue("tier", name).addKeyValue("block", id.toHex()).addKeyValue("error", e.getMessage())
          .log("bad copy not rewritten: the copy that served the range does not read whole");
    }
  }

  private void rewrite(BlockId id, byte[] plain, List<Device> bad) {
    Frames.Encoded body = Frames.encode(codec, plain, 0, plain.length);
    synchronized (repairLock(id)) {
      for (Device d : bad) {
        if (rewriteOn(d, id, body)) {
          log.atWarn().addKeyValue("tier", name).addKeyValue("device", d.directory()).addKeyValue("block", id.toHex())
              .log("bad copy rewritten from a good one");
        }
      }
    }
  }

  @Override
  public StoredBlock stat(BlockId id) {
    StoredBlock found = null;
    List<Integer> where = new ArrayList<>();
    for (Device d : devices) {
      SegmentStore s = d.readable();
      StoredBlock sb = s == null ? null : s.stat(id);
      if (sb != null) {
        found = found == null ? sb : found;
        where.add(d.number());
      }
    }
    return found == null ? null : found.withPlacement(new Placement(number, where));
  }

  @Override
  public BlockCheck check(BlockId id, boolean repair) {
    synchronized (repairLock(id)) {
      List<Device> good = new ArrayList<>();
      List<Device> bad = new ArrayList<>();
      byte[] plain = null;
      long bytes = 0;
      for (Device d : holders(id)) {
        try {
          byte[] b = d.readable().get(id);
          bytes += b.length;
          if (!BlockId.hash(b, 0, b.length).equals(id)) {
            throw new FsException(io.dynamicfs.core.api.Errno.EIO, "content does not match the block id");
          }
          plain = b;
          good.add(d);
        } catch (IOException | RuntimeException e) {
          d.badRecord();
          bad.add(d);
        }
      }
      int missing = Math.max(0, copies - good.size() - bad.size());
      if (plain == null) {
        if (!bad.isEmpty()) {
          unreadable(id, bad.size() + " bad copies, " + missing + " missing");
        }
        return BlockCheck.unrepairable(id, bad.size(), missing, bytes);
      }
      int repaired = 0;
      if (repair && (!bad.isEmpty() || missing > 0)) {
        Frames.Encoded body = Frames.encode(codec, plain, 0, plain.length);
        for (Device d : bad) {
          if (rewriteOn(d, id, body)) {
            repaired++;
          }
        }
        int have = good.size() + repaired;
        for (Device d : placement(id)) {
          if (have >= copies) {
            break;
          }
          if (good.contains(d) || bad.contains(d)) {
            continue;
          }
          if (putOn(d, id, body)) {
            d.repaired();
            have++;
            repaired++;
          }
        }
      }
      return BlockCheck.of(id, bad.size(), missing, repaired, bytes);
    }
  }
}
