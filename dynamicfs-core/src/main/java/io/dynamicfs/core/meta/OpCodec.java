package io.dynamicfs.core.meta;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.Placement;
import io.dynamicfs.core.codec.Codec;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The wire and log form of {@link MetaOp}s: a version byte, a tag byte per operation type, then its fields
 * in order (big-endian; strings and byte arrays length-prefixed). This is what a Raft log entry will
 * carry. Decoding checks every length and tag and rejects trailing bytes, booleans other than 0 and 1 and
 * strings that are not UTF-8, so a damaged or hostile frame is an EIO, never a wrong operation: a frame
 * that decodes at all is exactly the encoding of what it decodes to.
 */
public final class OpCodec {
  private static final int VERSION = 2; // 2: CreateNode numbered by apply; sessions own orphans
  private static final int MAX_STRING = 1 << 16;
  private static final int MAX_CHANGES = 1 << 20;

  private OpCodec() {}

  public static byte[] encode(MetaOp op) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      if (op instanceof MetaOp.CreateNode c) {
        out.writeByte(1);
        out.writeLong(c.parent());
        str(out, c.name());
        out.writeInt(c.mode());
        out.writeInt(c.uid());
        out.writeInt(c.gid());
        out.writeBoolean(c.privileged());
        out.writeLong(c.rdev());
        optStr(out, c.target());
        out.writeLong(c.timeNs());
      } else if (op instanceof MetaOp.Link l) {
        out.writeByte(2);
        out.writeLong(l.ino());
        out.writeLong(l.newParent());
        str(out, l.newName());
        out.writeLong(l.timeNs());
      } else if (op instanceof MetaOp.Remove r) {
        out.writeByte(3);
        out.writeLong(r.parent());
        str(out, r.name());
        out.writeBoolean(r.directory());
        out.writeLong(r.session());
        out.writeLong(r.timeNs());
      } else if (op instanceof MetaOp.Rename r) {
        out.writeByte(4);
        out.writeLong(r.parent());
        str(out, r.name());
        out.writeLong(r.newParent());
        str(out, r.newName());
        out.writeInt(r.flags());
        out.writeLong(r.session());
        out.writeLong(r.timeNs());
      } else if (op instanceof MetaOp.SetAttrs s) {
        out.writeByte(5);
        setAttrs(out, s);
      } else if (op instanceof MetaOp.SetXattr s) {
        out.writeByte(6);
        out.writeLong(s.ino());
        str(out, s.name());
        bytes(out, s.value());
        out.writeInt(s.flags());
        out.writeLong(s.timeNs());
      } else if (op instanceof MetaOp.RemoveXattr r) {
        out.writeByte(7);
        out.writeLong(r.ino());
        str(out, r.name());
        out.writeLong(r.timeNs());
      } else if (op instanceof MetaOp.CommitBlocks c) {
        out.writeByte(8);
        commit(out, c);
      } else if (op instanceof MetaOp.LogIntents l) {
        out.writeByte(30);
        commit(out, l.commit());
        out.writeInt(l.overlays().size());
        for (MetaOp.Overlay o : l.overlays()) {
          out.writeLong(o.index());
          out.writeInt(o.offset());
          out.writeInt(o.length());
          out.writeInt(o.logFile());
          out.writeLong(o.logPos());
          out.writeInt(o.crc());
        }
      } else if (op instanceof MetaOp.ReclaimInode r) {
        out.writeByte(9);
        out.writeLong(r.ino());
      } else if (op instanceof MetaOp.MoveBlock m) {
        out.writeByte(10);
        out.write(m.id().toBytes());
        out.writeShort(m.fromTier());
        placement(out, m.to());
      } else if (op instanceof MetaOp.ReplaceBlockPlacement r) {
        out.writeByte(19);
        out.write(r.id().toBytes());
        placement(out, r.expected());
        placement(out, r.to());
      } else if (op instanceof MetaOp.OpenSession o) {
        out.writeByte(12);
        out.writeLong(o.id());
        str(out, o.client());
        out.writeLong(o.expiresNs());
      } else if (op instanceof MetaOp.Noop) {
        out.writeByte(21);
      } else if (op instanceof MetaOp.Unreserve u) {
        out.writeByte(22);
        out.writeLong(u.ino());
        out.writeLong(u.fromIndex());
        out.writeLong(u.toIndex());
      } else if (op instanceof MetaOp.CloneBlocks c) {
        out.writeByte(40);
        out.writeLong(c.srcIno());
        out.writeLong(c.srcIndex());
        out.writeLong(c.dstIno());
        out.writeLong(c.dstIndex());
        out.writeLong(c.count());
        out.writeLong(c.minSize());
        out.writeLong(c.timeNs());
      } else if (op instanceof MetaOp.RenewSession r) {
        out.writeByte(13);
        out.writeLong(r.id());
        out.writeLong(r.expiresNs());
      } else if (op instanceof MetaOp.CloseSession c) {
        out.writeByte(14);
        out.writeLong(c.id());
      } else if (op instanceof MetaOp.ExpireSessions e) {
        out.writeByte(15);
        out.writeLong(e.nowNs());
      } else if (op instanceof MetaOp.SetClusterConfig c) {
        out.writeByte(16);
        str(out, c.clusterId());
        out.writeInt(c.blockSize());
        out.writeByte(c.codecId());
        out.writeInt(c.inlineMax());
        str(out, c.redundancy());
      } else if (op instanceof MetaOp.AddNode a) {
        out.writeByte(17);
        str(out, a.nodeId());
        str(out, a.raftAddress());
        str(out, a.blockAddress());
        out.writeLong(a.timeNs());
      } else if (op instanceof MetaOp.SetNodeState n) {
        out.writeByte(18);
        str(out, n.nodeId());
        str(out, n.state());
        out.writeLong(n.timeNs());
      } else if (op instanceof MetaOp.Reserve r) {
        out.writeByte(20);
        out.writeLong(r.ino());
        out.writeLong(r.offset());
        out.writeLong(r.length());
        out.writeBoolean(r.keepSize());
        out.writeLong(r.availableBytes());
        out.writeBoolean(r.attrs() != null);
        if (r.attrs() != null) {
          setAttrs(out, r.attrs());
        }
        out.writeLong(r.timeNs());
      } else if (op instanceof MetaOp.AsSession a) {
        if (a.op() instanceof MetaOp.AsSession) {
          throw new IllegalArgumentException("an op on behalf of a session cannot wrap another");
        }
        out.writeByte(23);
        out.writeLong(a.session());
        out.writeLong(a.seq());
        bytes(out, encode(a.op()));
      } else if (op instanceof MetaOp.Batch b) {
        out.writeByte(29);
        out.writeInt(b.ops().size());
        for (MetaOp inner : b.ops()) {
          if (inner instanceof MetaOp.Batch) {
            throw new IllegalArgumentException("a batch cannot hold another");
          }
          bytes(out, encode(inner));
        }
      } else if (op instanceof MetaOp.GrantInodes g) {
        out.writeByte(24);
        out.writeLong(g.count());
      } else if (op instanceof MetaOp.CreateGranted c) {
        out.writeByte(25);
        out.writeLong(c.ino());
        bytes(out, encode(c.create()));
      } else if (op instanceof MetaOp.AcquireDirLease a) {
        out.writeByte(26);
        out.writeLong(a.dir());
      } else if (op instanceof MetaOp.RecallDirLease r) {
        out.writeByte(27);
        out.writeLong(r.dir());
      } else if (op instanceof MetaOp.ReleaseDirLease r) {
        out.writeByte(28);
        out.writeLong(r.dir());
      } else if (op instanceof MetaOp.PurgeBlocks p) {
        out.writeByte(11);
        out.writeInt(p.ids().size());
        for (BlockId id : p.ids()) {
          out.write(id.toBytes());
        }
      } else {
        throw new IllegalArgumentException("unknown operation " + op.getClass());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static MetaOp decode(byte[] frame) throws FsException {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(frame))) {
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw FsException.of(Errno.EIO, "operation frame version %d is not supported", version);
      }
      int tag = in.readUnsignedByte();
      MetaOp op = switch (tag) {
        case 1 -> new MetaOp.CreateNode(in.readLong(), str(in), in.readInt(), in.readInt(), in.readInt(),
            bool(in), in.readLong(), optStr(in), in.readLong());
        case 2 -> new MetaOp.Link(in.readLong(), in.readLong(), str(in), in.readLong());
        case 3 -> new MetaOp.Remove(in.readLong(), str(in), bool(in), in.readLong(), in.readLong());
        case 4 -> new MetaOp.Rename(in.readLong(), str(in), in.readLong(), str(in), in.readInt(), in.readLong(),
            in.readLong());
        case 5 -> setAttrs(in);
        case 6 -> new MetaOp.SetXattr(in.readLong(), str(in), bytes(in), in.readInt(), in.readLong());
        case 7 -> new MetaOp.RemoveXattr(in.readLong(), str(in), in.readLong());
        case 8 -> commit(in);
        case 30 -> intents(in);
        case 9 -> new MetaOp.ReclaimInode(in.readLong());
        case 10 -> new MetaOp.MoveBlock(blockId(in), in.readUnsignedShort(), placement(in));
        case 11 -> purge(in);
        case 12 -> new MetaOp.OpenSession(in.readLong(), str(in), in.readLong());
        case 13 -> new MetaOp.RenewSession(in.readLong(), in.readLong());
        case 21 -> new MetaOp.Noop();
        case 22 -> new MetaOp.Unreserve(in.readLong(), in.readLong(), in.readLong());
        case 40 -> new MetaOp.CloneBlocks(in.readLong(), in.readLong(), in.readLong(), in.readLong(), in.readLong(),
            in.readLong(), in.readLong());
        case 14 -> new MetaOp.CloseSession(in.readLong());
        case 15 -> new MetaOp.ExpireSessions(in.readLong());
        case 16 -> new MetaOp.SetClusterConfig(str(in), in.readInt(), in.readUnsignedByte(), in.readInt(), str(in));
        case 17 -> new MetaOp.AddNode(str(in), str(in), str(in), in.readLong());
        case 18 -> new MetaOp.SetNodeState(str(in), str(in), in.readLong());
        case 19 -> new MetaOp.ReplaceBlockPlacement(blockId(in), placement(in), placement(in));
        case 20 -> new MetaOp.Reserve(in.readLong(), in.readLong(), in.readLong(), bool(in), in.readLong(),
            bool(in) ? setAttrs(in) : null, in.readLong());
        case 23 -> asSession(in.readLong(), in.readLong(), decode(bytes(in)));
        case 24 -> new MetaOp.GrantInodes(in.readLong());
        case 29 -> batch(in);
        case 25 -> createGranted(in.readLong(), decode(bytes(in)));
        case 26 -> new MetaOp.AcquireDirLease(in.readLong());
        case 27 -> new MetaOp.RecallDirLease(in.readLong());
        case 28 -> new MetaOp.ReleaseDirLease(in.readLong());
        default -> throw FsException.of(Errno.EIO, "unknown operation tag %d", tag);
      };
      if (in.available() != 0) {
        throw FsException.of(Errno.EIO, "%d trailing bytes after operation", in.available());
      }
      return op;
    } catch (EOFException e) {
      throw new FsException(Errno.EIO, "operation frame is truncated", e);
    } catch (FsException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new FsException(Errno.EIO, "operation frame is malformed: " + e.getMessage(), e);
    }
  }

  private static MetaOp asSession(long session, long seq, MetaOp inner) throws FsException {
    if (inner instanceof MetaOp.AsSession) {
      throw FsException.of(Errno.EIO, "an op on behalf of a session wraps another");
    }
    return new MetaOp.AsSession(session, seq, inner);
  }

  private static MetaOp batch(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > MAX_CHANGES) {
      throw FsException.of(Errno.EIO, "bad batch size %d", n);
    }
    List<MetaOp> ops = new ArrayList<>(Math.min(n, 1024));
    for (int i = 0; i < n; i++) {
      MetaOp inner = decode(bytes(in));
      if (inner instanceof MetaOp.Batch) {
        throw FsException.of(Errno.EIO, "a batch holds another");
      }
      ops.add(inner);
    }
    return new MetaOp.Batch(List.copyOf(ops));
  }

  private static MetaOp createGranted(long ino, MetaOp inner) throws FsException {
    if (!(inner instanceof MetaOp.CreateNode c)) {
      throw FsException.of(Errno.EIO, "a create with a granted number wraps a %s", inner.getClass().getSimpleName());
    }
    return new MetaOp.CreateGranted(ino, c);
  }

  private static boolean bool(DataInputStream in) throws IOException {
    int b = in.readUnsignedByte();
    if (b > 1) {
      throw FsException.of(Errno.EIO, "boolean byte %d in operation frame", b);
    }
    return b == 1;
  }

  private static MetaOp.LogIntents intents(DataInputStream in) throws IOException {
    MetaOp.CommitBlocks c = commit(in);
    int n = in.readInt();
    if (n < 0 || n > MAX_CHANGES) {
      throw FsException.of(Errno.EIO, "bad overlay count %d", n);
    }
    List<MetaOp.Overlay> overlays = new ArrayList<>(Math.min(n, 1024));
    for (int i = 0; i < n; i++) {
      overlays.add(new MetaOp.Overlay(in.readLong(), in.readInt(), in.readInt(), in.readInt(), in.readLong(),
          in.readInt()));
    }
    return new MetaOp.LogIntents(c, overlays);
  }

  private static MetaOp.CommitBlocks commit(DataInputStream in) throws IOException {
    long ino = in.readLong();
    long size = in.readLong();
    long truncatedTo = in.readLong();
    long mtime = in.readLong();
    long ctime = in.readLong();
    int n = in.readInt();
    if (n < 0 || n > MAX_CHANGES) {
      throw FsException.of(Errno.EIO, "bad change count %d", n);
    }
    List<MetaOp.ChunkChange> changes = new ArrayList<>(Math.min(n, 1024));
    for (int i = 0; i < n; i++) {
      long index = in.readLong();
      int kind = in.readUnsignedByte();
      switch (kind) {
        case 0 -> changes.add(MetaOp.ChunkChange.hole(index));
        case 1 -> {
          byte[] id = new byte[BlockId.LENGTH];
          in.readFully(id);
          changes.add(MetaOp.ChunkChange.stored(index, BlockId.of(id, 0), in.readInt(), in.readInt(),
              Codec.byId(in.readUnsignedByte()), placement(in)));
        }
        case 2 -> changes.add(MetaOp.ChunkChange.inline(index, bytes(in)));
        default -> throw FsException.of(Errno.EIO, "bad chunk change kind %d", kind);
      }
    }
    return new MetaOp.CommitBlocks(ino, size, truncatedTo, mtime, ctime, changes, bool(in) ? setAttrs(in) : null);
  }

  private static void commit(DataOutputStream out, MetaOp.CommitBlocks c) throws IOException {
    out.writeLong(c.ino());
    out.writeLong(c.size());
    out.writeLong(c.truncatedTo());
    out.writeLong(c.mtimeNs());
    out.writeLong(c.ctimeNs());
    out.writeInt(c.changes().size());
    for (MetaOp.ChunkChange ch : c.changes()) {
      out.writeLong(ch.index());
      int kind = ch.inline() != null ? 2 : ch.id() != null ? 1 : 0;
      out.writeByte(kind);
      if (kind == 1) {
        out.write(ch.id().toBytes());
        out.writeInt(ch.length());
        out.writeInt(ch.storedLength());
        out.writeByte(ch.codec().id());
        placement(out, ch.placement());
      } else if (kind == 2) {
        bytes(out, ch.inline());
      }
    }
    out.writeBoolean(c.attrs() != null);
    if (c.attrs() != null) {
      setAttrs(out, c.attrs());
    }
  }

  private static void setAttrs(DataOutputStream out, MetaOp.SetAttrs s) throws IOException {
    out.writeLong(s.ino());
    optInt(out, s.mode());
    optInt(out, s.uid());
    optInt(out, s.gid());
    optLong(out, s.atimeNs());
    optLong(out, s.mtimeNs());
    out.writeLong(s.timeNs());
  }

  private static MetaOp.SetAttrs setAttrs(DataInputStream in) throws IOException {
    return new MetaOp.SetAttrs(in.readLong(), optInt(in), optInt(in), optInt(in), optLong(in), optLong(in),
        in.readLong());
  }

  private static MetaOp.PurgeBlocks purge(DataInputStream in) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > MAX_CHANGES || (long) n * BlockId.LENGTH > in.available()) {
      throw FsException.of(Errno.EIO, "bad purge count %d", n);
    }
    List<BlockId> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(blockId(in));
    }
    return new MetaOp.PurgeBlocks(ids);
  }

  private static void placement(DataOutputStream out, Placement p) throws IOException {
    out.writeShort(p.tier());
    out.writeByte(p.locations().size());
    for (int l : p.locations()) {
      out.writeInt(l);
    }
  }

  private static Placement placement(DataInputStream in) throws IOException {
    int tier = in.readUnsignedShort();
    int n = in.readUnsignedByte();
    List<Integer> locs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      locs.add(in.readInt());
    }
    return new Placement(tier, locs);
  }

  private static void str(DataOutputStream out, String s) throws IOException {
    bytes(out, s.getBytes(StandardCharsets.UTF_8));
  }

  private static void optStr(DataOutputStream out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      str(out, s);
    }
  }

  private static void bytes(DataOutputStream out, byte[] b) throws IOException {
    out.writeInt(b.length);
    out.write(b);
  }

  private static void optInt(DataOutputStream out, Integer v) throws IOException {
    out.writeBoolean(v != null);
    if (v != null) {
      out.writeInt(v);
    }
  }

  private static void optLong(DataOutputStream out, Long v) throws IOException {
    out.writeBoolean(v != null);
    if (v != null) {
      out.writeLong(v);
    }
  }

  private static BlockId blockId(DataInputStream in) throws IOException {
    byte[] id = new byte[BlockId.LENGTH];
    in.readFully(id);
    return BlockId.of(id, 0);
  }

  private static String str(DataInputStream in) throws IOException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes(in, MAX_STRING))).toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      throw new FsException(Errno.EIO, "string in operation frame is not UTF-8", e);
    }
  }

  private static String optStr(DataInputStream in) throws IOException {
    return bool(in) ? str(in) : null;
  }

  private static byte[] bytes(DataInputStream in) throws IOException {
    return bytes(in, 1 << 24);
  }

  private static byte[] bytes(DataInputStream in, int max) throws IOException {
    int n = in.readInt();
    if (n < 0 || n > max || n > in.available()) {
      throw FsException.of(Errno.EIO, "bad length %d in operation frame", n);
    }
    byte[] b = new byte[n];
    in.readFully(b);
    return b;
  }

  private static Integer optInt(DataInputStream in) throws IOException {
    return bool(in) ? in.readInt() : null;
  }

  private static Long optLong(DataInputStream in) throws IOException {
    return bool(in) ? in.readLong() : null;
  }
}
