package io.dynamicfs.core.storage;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Frames;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.block.StoredBlock;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.erasure.ReedSolomon;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code rs-K-M}: a block is compressed, cut into K data shards and M Reed–Solomon parity shards, and each
 * shard is a record (keyed by the block's id) on its own device. Any K shards give the block back. A shard
 * record starts with a small header so every shard knows its index and the block's lengths and codec:
 *
 * <pre>
 *  0 version (1 or 2)  1 shard index  2 K (u16)  4 M (u16)  6 codec id  7 reserved
 *  8 plain length (i32)  12 stored length (i32)  16 shard bytes …
 * </pre>
 *
 * What is cut into shards is the block's stored form: in version 2 (written now) a {@link Frames framed
 * body} (frame table, then 64 KiB frames compressed one by one, each with its CRC32C), in version 1 (read
 * still) the whole block compressed at once. Each shard is kept as a framed record of raw frames on its
 * device, so the segment store checks its bytes frame by frame.
 *
 * <p>A read takes the first K shards in placement order (normally the data shards: no decoding) and decodes
 * only when one is missing or bad; a bad shard is then rebuilt and rewritten. Writes need K+1 writable
 * devices (so one more loss is still survivable); with fewer than K+M the write is degraded and logged.
 *
 * <p>A range read ({@link #readRange}) of a version 2 block reads the frame table from data shard 0 and the
 * frames it needs from the data shards holding them (no decoding), each read through its device's frame
 * checks and then the body frame's own CRC32C. Whenever that is not possible — a first-format block, a small
 * block, a data shard missing, bad or not where the placement says — it reads the block whole instead
 * ({@link #get}: decode from any K shards, repair), so a range read never returns unverified bytes.
 */
public final class ErasureCodedTier extends Tier {
  private static final Logger log = LoggerFactory.getLogger(ErasureCodedTier.class);
  static final int HEADER = 16;
  /** Shards of a block compressed whole (the first format; read, never written now). */
  private static final int V1 = 1;
  /** Shards of a framed body. */
  private static final int V2 = 2;
  /** A block stored in fewer bytes than this is read whole by {@link #readRange}: K small reads either way. */
  private static final int SMALL_BODY = 16 << 10;
  /** Bytes of data shard 0 read for the frame table by {@link #readRange} (a 1 MiB block's table is 140). */
  private static final int TABLE_READ = 4096;

  private final int k;
  private final int m;
  private final ReedSolomon rs;
  /** Range reads served from the frames in the data shards, and those that had to read the block whole. */
  private final AtomicLong rangesFromFrames = new AtomicLong();
  private final AtomicLong rangesFromWholeBlocks = new AtomicLong();

  ErasureCodedTier(String name, int number, Codec codec, List<Device> devices, int k, int m) {
    super(name, number, codec, devices);
    this.k = k;
    this.m = m;
    this.rs = ReedSolomon.create(k, m);
  }

  @Override
  public Redundancy redundancy() {
    return new Redundancy.ReedSolomon(k, m);
  }

  /** One parsed shard record. */
  private record Shard(int version, int index, Codec codec, int rawLength, int storedLength, byte[] bytes) {
    boolean sameBlockAs(Shard o) {
      return version == o.version && codec == o.codec && rawLength == o.rawLength && storedLength == o.storedLength
          && bytes.length == o.bytes.length;
    }
  }

  private int shardSize(int stored) {
    return Math.max(1, (stored + k - 1) / k);
  }

  private Shard parse(byte[] b) throws FsException {
    if (b.length <= HEADER) {
      throw FsException.of(Errno.EIO, "shard record too short (%d bytes)", b.length);
    }
    return parseHeader(b, b.length - HEADER);
  }

  /** The header at the start of {@code b}, for a shard of {@code size} bytes (not all of which need be in b). */
  private Shard parseHeader(byte[] b, int size) throws FsException {
    ByteBuffer h = ByteBuffer.wrap(b, 0, HEADER);
    int version = h.get() & 0xff;
    int index = h.get() & 0xff;
    int kk = h.getShort() & 0xffff;
    int mm = h.getShort() & 0xffff;
    Codec c = Codec.byId(h.get() & 0xff);
    h.get();
    int raw = h.getInt();
    int stored = h.getInt();
    if ((version != V1 && version != V2) || kk != k || mm != m || index >= k + m || stored < 0 || raw < 0
        || size != shardSize(stored)) {
      throw FsException.of(Errno.EIO, "shard header does not fit this tier (version %d, rs-%d-%d, index %d)", version,
          kk, mm, index);
    }
    return new Shard(version, index, c, raw, stored, b);
  }

  /** The K + M shards of a framed body. */
  private byte[][] encode(Frames.Encoded body) {
    return encode(V2, body.codec(), body.rawLength(), body.toBytes());
  }

  private byte[][] encode(int version, Codec c, int raw, byte[] payload) {
    int stored = payload.length;
    int size = shardSize(stored);
    byte[][] s = new byte[k + m][HEADER + size];
    for (int i = 0; i < k; i++) {
      int from = i * size;
      int n = Math.max(0, Math.min(size, stored - from));
      if (n > 0) {
        System.arraycopy(payload, from, s[i], HEADER, n);
      }
    }
    rs.encodeParity(s, HEADER, size);
    for (int i = 0; i < k + m; i++) {
      writeHeader(s[i], version, i, c, raw, stored);
    }
    return s;
  }

  private void writeHeader(byte[] shard, int version, int index, Codec c, int raw, int stored) {
    ByteBuffer.wrap(shard, 0, HEADER).put((byte) version).put((byte) index).putShort((short) k).putShort((short) m)
        .put((byte) c.id()).put((byte) 0).putInt(raw).putInt(stored);
  }

  /** A shard as the record its device keeps: raw frames (a shard of compressed bytes does not compress). */
  private static Frames.Encoded record(byte[] shard) {
    return Frames.encode(Codec.NONE, shard, 0, shard.length);
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    if (contains(id)) {
      StoredBlock sb = stat(id);
      if (sb != null) {
        return sb;
      }
    }
    Frames.Encoded body = Frames.encode(codec, data, 0, length);
    byte[][] shards = encode(body);
    List<Device> used = new ArrayList<>();
    var it = placement(id).iterator();
    for (int i = 0; i < k + m; i++) {
      while (it.hasNext()) {
        Device d = it.next();
        if (putOn(d, id, record(shards[i]))) {
          used.add(d);
          break;
        }
      }
    }
    if (used.size() < k + 1) {
      for (Device d : used) {
        try {
          d.store().delete(id);
        } catch (IOException | RuntimeException e) {
          // an unreferenced shard is removed at the next mount
        }
      }
      throw noDevice(id, "only " + used.size() + " of " + (k + m) + " shards could be stored; " + redundancy()
          + " needs at least " + (k + 1) + " writable devices");
    }
    if (used.size() < k + m) {
      degraded(id, used.size(), k + m);
    }
    List<Integer> where = new ArrayList<>(used.size());
    for (Device d : used) {
      where.add(d.number());
    }
    return new StoredBlock(id, length, body.length(), body.codec(), new Placement(number, where));
  }

  /**
   * A range of a version 2 block from the data shards that hold its frames (see the class notes); otherwise
   * -1 (a first-format or small block: the caller reads it whole) or, when something read fails its checks,
   * the range of the whole block as {@link #get} reads and repairs it.
   */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    java.util.Objects.checkFromIndexSize(dstOffset, length, dst.length);
    if (offset < 0) {
      throw FsException.of(Errno.EINVAL, "range read at negative offset %d", offset);
    }
    // Shard i goes to the i-th device of the placement when every device takes writes, as they normally do.
    List<Device> order = placement(id);
    SegmentStore first = order.get(0).readable();
    StoredBlock shard0 = first == null ? null : first.stat(id);
    if (shard0 == null || shard0.rawLength() <= HEADER || (long) (shard0.rawLength() - HEADER) * k < SMALL_BODY) {
      return -1;
    }
    int size = shard0.rawLength() - HEADER;
    try {
      byte[] head = new byte[HEADER + Math.min(size, TABLE_READ)];
      if (first.readRange(id, 0, head, 0, head.length) != head.length) {
        return -1;
      }
      Shard h = parseHeader(head, size);
      if (h.version() != V2 || h.index() != 0) {
        return -1; // a first-format block, or shards not where the placement puts them: read it whole
      }
      int n = Math.max(0, Math.min(length, h.rawLength() - offset));
      if (n == 0) {
        return 0;
      }
      int avail = head.length - HEADER;
      if (Frames.Table.lengthFrom(head, HEADER, avail, h.rawLength()) > avail) {
        return -1;
      }
      Frames.Table t = Frames.Table.parse(head, HEADER, avail, h.rawLength(), h.storedLength());
      int firstFrame = t.frameOf(offset);
      int lastFrame = t.frameOf(offset + n - 1);
      int from = t.start(firstFrame);
      int to = t.end(lastFrame);
      byte[] span = new byte[to - from];
      for (int pos = from; pos < to; ) {
        int i = pos / size;
        int in = pos % size;
        int len = Math.min(size - in, to - pos);
        SegmentStore s = order.get(i).readable();
        if (s == null || s.stat(id) == null || s.readRange(id, HEADER + in, span, pos - from, len) != len) {
          return wholeBlockRange(id, offset, dst, dstOffset, n);
        }
        pos += len;
      }
      t.decodeRange(ByteBuffer.wrap(span), firstFrame, lastFrame, offset, dst, dstOffset, n);
      rangesFromFrames.incrementAndGet();
      return n;
    } catch (IOException e) {
      // A bad shard record, or a shard that is not the one the placement says: the whole-block read decodes
      // around it from the other shards and repairs what is bad.
      log.atDebug().addKeyValue("tier", name).addKeyValue("block", id.toHex()).addKeyValue("error", e.getMessage())
          .log("range read falls back to the whole block");
      return wholeBlockRange(id, offset, dst, dstOffset, length);
    }
  }

  private int wholeBlockRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    rangesFromWholeBlocks.incrementAndGet();
    byte[] b = get(id, false);
    int n = Math.max(0, Math.min(length, b.length - offset));
    if (n > 0) {
      System.arraycopy(b, offset, dst, dstOffset, n);
    }
    return n;
  }

  /** Range reads served from the data shards' frames. */
  public long rangesFromFrames() {
    return rangesFromFrames.get();
  }

  /** Range reads that read the block whole because a shard was missing, bad or misplaced (not counting -1s). */
  public long rangesFromWholeBlocks() {
    return rangesFromWholeBlocks.get();
  }

  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    Shard[] got = new Shard[k + m];
    Shard proto = null;
    int valid = 0;
    int bad = 0;
    for (Device d : holders(id)) {
      if (valid >= k) {
        break;
      }
      try {
        Shard s = parse(d.readable().get(id, sequential));
        if (proto != null && !s.sameBlockAs(proto)) {
          throw FsException.of(Errno.EIO, "shard %d disagrees with the others about the block", s.index());
        }
        proto = proto == null ? s : proto;
        if (got[s.index()] == null) {
          got[s.index()] = s;
          valid++;
        }
      } catch (IOException | RuntimeException e) {
        d.badRecord();
        bad++;
      }
    }
    if (valid < k) {
      if (bad == 0 && valid == 0) {
        throw unreadable(id, "no device holds a shard of it");
      }
      // the first K were not enough: let a full check find whatever else is there
      BlockCheck c = check(id, true);
      if (c.verdict() == BlockCheck.Verdict.UNREPAIRABLE) {
        throw unreadable(id, valid + " good shards of " + k + " needed");
      }
      return get(id, sequential);
    }
    byte[] plain = assemble(id, got, proto, false);
    if (bad > 0) {
      BlockCheck c = check(id, true);
      log.atWarn().addKeyValue("tier", name).addKeyValue("block", id.toHex()).addKeyValue("bad_shards", bad)
          .addKeyValue("repaired", c.repaired()).log("bad shard rebuilt from parity");
    }
    return plain;
  }

  /** The plain block from at least K good shards (decoding when a data shard is missing). */
  private byte[] assemble(BlockId id, Shard[] got, Shard proto, boolean rebuildAll) throws FsException {
    int len = proto.bytes().length;
    byte[][] arr = new byte[k + m][];
    boolean[] present = new boolean[k + m];
    boolean dataComplete = true;
    for (int i = 0; i < k + m; i++) {
      if (got[i] != null) {
        arr[i] = got[i].bytes();
        present[i] = true;
      } else {
        arr[i] = new byte[len];
        dataComplete &= i >= k;
      }
    }
    if (!dataComplete || rebuildAll) {
      rs.reconstruct(arr, present, HEADER, len - HEADER);
      for (int i = 0; i < k + m; i++) {
        if (!present[i]) {
          writeHeader(arr[i], proto.version(), i, proto.codec(), proto.rawLength(), proto.storedLength());
          got[i] = new Shard(proto.version(), i, proto.codec(), proto.rawLength(), proto.storedLength(), arr[i]);
        }
      }
    }
    int stored = proto.storedLength();
    int size = len - HEADER;
    byte[] payload = new byte[stored];
    for (int i = 0; i < k; i++) {
      int from = i * size;
      int n = Math.max(0, Math.min(size, stored - from));
      if (n > 0) {
        System.arraycopy(arr[i], HEADER, payload, from, n);
      }
    }
    if (proto.version() == V2) {
      return Frames.decode(payload, 0, stored, proto.rawLength());
    }
    if (proto.codec() == Codec.NONE && proto.rawLength() == stored) {
      return payload;
    }
    return proto.codec().decompress(payload, 0, stored, proto.rawLength());
  }

  @Override
  public StoredBlock stat(BlockId id) {
    for (Device d : holders(id)) {
      try {
        Shard s = parse(d.readable().get(id));
        List<Integer> where = new ArrayList<>();
        for (Device h : holders(id)) {
          where.add(h.number());
        }
        return new StoredBlock(id, s.rawLength(), s.storedLength(), s.codec(), new Placement(number, where));
      } catch (IOException | RuntimeException e) {
        // try the next shard
      }
    }
    return null;
  }

  @Override
  public BlockCheck check(BlockId id, boolean repair) {
    synchronized (repairLock(id)) {
      Shard[] got = new Shard[k + m];
      Shard proto = null;
      List<Device> holders = holders(id);
      List<Device> bad = new ArrayList<>();
      List<Shard> read = new ArrayList<>();
      List<Device> readFrom = new ArrayList<>();
      long bytes = 0;
      for (Device d : holders) {
        try {
          byte[] b = d.readable().get(id);
          bytes += b.length;
          read.add(parse(b));
          readFrom.add(d);
        } catch (IOException | RuntimeException e) {
          d.badRecord();
          bad.add(d);
        }
      }
      proto = majority(read);
      for (int i = 0; i < read.size(); i++) {
        Shard s = read.get(i);
        if (!s.sameBlockAs(proto)) {
          readFrom.get(i).badRecord();
          bad.add(readFrom.get(i));
        } else if (got[s.index()] == null) {
          got[s.index()] = s;
        }
      }
      List<Integer> missing = new ArrayList<>();
      for (int i = 0; i < k + m; i++) {
        if (got[i] == null) {
          missing.add(i);
        }
      }
      int valid = k + m - missing.size();
      int missingCount = Math.max(0, missing.size() - bad.size());
      if (valid < k) {
        if (valid > 0 || !bad.isEmpty()) {
          unreadable(id, valid + " good shards of " + k + " needed");
        }
        return BlockCheck.unrepairable(id, bad.size(), missingCount, bytes);
      }
      try {
        byte[] plain = assemble(id, got, proto, !missing.isEmpty());
        if (!BlockId.hash(plain, 0, plain.length).equals(id)) {
          unreadable(id, "shards decode to bytes that do not match the block id");
          return BlockCheck.unrepairable(id, bad.size() + valid, missingCount, bytes);
        }
      } catch (FsException | RuntimeException e) {
        unreadable(id, "shards do not decode: " + e.getMessage());
        return BlockCheck.unrepairable(id, bad.size(), missingCount, bytes);
      }
      int repaired = 0;
      if (repair && !missing.isEmpty()) {
        Deque<Device> targets = new ArrayDeque<>(bad);
        Set<Device> taken = new HashSet<>(holders);
        for (Device d : placement(id)) {
          if (!taken.contains(d)) {
            targets.add(d);
          }
        }
        for (int idx : missing) {
          Shard s = got[idx];
          while (!targets.isEmpty()) {
            Device d = targets.poll();
            boolean ok = bad.contains(d) ? rewriteOn(d, id, record(s.bytes())) : putOn(d, id, record(s.bytes()));
            if (ok) {
              if (!bad.contains(d)) {
                d.repaired();
              }
              repaired++;
              break;
            }
          }
        }
      }
      return BlockCheck.of(id, bad.size(), missingCount, repaired, bytes);
    }
  }

  /** The block description most shards agree on (a corrupt header is then the odd one out). */
  private static Shard majority(List<Shard> read) {
    Shard best = null;
    int bestVotes = 0;
    for (Shard a : read) {
      int votes = 0;
      for (Shard b : read) {
        if (a.sameBlockAs(b)) {
          votes++;
        }
      }
      if (votes > bestVotes) {
        best = a;
        bestVotes = votes;
      }
    }
    return best;
  }

}
