package io.dynamicfs.core.storage;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Placement;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code rs-K-M}: a block is compressed, cut into K data shards and M Reed–Solomon parity shards, and each
 * shard is a record (keyed by the block's id) on its own device. Any K shards give the block back. A shard
 * record starts with a small header so every shard knows its index and the block's lengths and codec:
 *
 * <pre>
 *  0 version (1)  1 shard index  2 K (u16)  4 M (u16)  6 codec id  7 reserved
 *  8 plain length (i32)  12 stored (compressed) length (i32)  16 shard bytes …
 * </pre>
 *
 * A read takes the first K shards in placement order (normally the data shards: no decoding) and decodes
 * only when one is missing or bad; a bad shard is then rebuilt and rewritten. Writes need K+1 writable
 * devices (so one more loss is still survivable); with fewer than K+M the write is degraded and logged.
 */
public final class ErasureCodedTier extends Tier {
  private static final Logger log = LoggerFactory.getLogger(ErasureCodedTier.class);
  static final int HEADER = 16;
  private static final int VERSION = 1;

  private final int k;
  private final int m;
  private final ReedSolomon rs;

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
  private record Shard(int index, Codec codec, int rawLength, int storedLength, byte[] bytes) {
    boolean sameBlockAs(Shard o) {
      return codec == o.codec && rawLength == o.rawLength && storedLength == o.storedLength
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
    ByteBuffer h = ByteBuffer.wrap(b, 0, HEADER);
    int version = h.get() & 0xff;
    int index = h.get() & 0xff;
    int kk = h.getShort() & 0xffff;
    int mm = h.getShort() & 0xffff;
    Codec c = Codec.byId(h.get() & 0xff);
    h.get();
    int raw = h.getInt();
    int stored = h.getInt();
    if (version != VERSION || kk != k || mm != m || index >= k + m || stored < 0 || raw < 0
        || b.length - HEADER != shardSize(stored)) {
      throw FsException.of(Errno.EIO, "shard header does not fit this tier (version %d, rs-%d-%d, index %d)", version,
          kk, mm, index);
    }
    return new Shard(index, c, raw, stored, b);
  }

  private byte[][] encode(Codec c, int raw, byte[] payload) {
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
      writeHeader(s[i], i, c, raw, stored);
    }
    return s;
  }

  private void writeHeader(byte[] shard, int index, Codec c, int raw, int stored) {
    ByteBuffer.wrap(shard, 0, HEADER).put((byte) VERSION).put((byte) index).putShort((short) k).putShort((short) m)
        .put((byte) c.id()).put((byte) 0).putInt(raw).putInt(stored);
  }

  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    if (contains(id)) {
      StoredBlock sb = stat(id);
      if (sb != null) {
        return sb;
      }
    }
    Codec.Compressed c = codec.compress(data, 0, length);
    byte[][] shards = encode(c.codec(), length, c.bytes());
    List<Device> used = new ArrayList<>();
    var it = placement(id).iterator();
    for (int i = 0; i < k + m; i++) {
      while (it.hasNext()) {
        Device d = it.next();
        if (putOn(d, id, Codec.NONE, shards[i].length, shards[i])) {
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
    return new StoredBlock(id, length, c.bytes().length, c.codec(), new Placement(number, where));
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
          writeHeader(arr[i], i, proto.codec(), proto.rawLength(), proto.storedLength());
          got[i] = new Shard(i, proto.codec(), proto.rawLength(), proto.storedLength(), arr[i]);
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
            boolean ok = bad.contains(d) ? rewriteOn(d, id, Codec.NONE, s.bytes().length, s.bytes())
                : putOn(d, id, Codec.NONE, s.bytes().length, s.bytes());
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
