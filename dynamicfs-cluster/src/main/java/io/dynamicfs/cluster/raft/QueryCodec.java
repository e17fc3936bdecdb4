package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.meta.BlockRecord;
import io.dynamicfs.core.meta.Chunk;
import io.dynamicfs.core.meta.Inode;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Wire form of {@link MetaQuery} and its answers. A query is a version byte, a tag and its fields; an
 * answer is a version byte, an errno code (0: success) and then either the message of the failure or the
 * value, whose shape the query's type fixes. Big-endian; strings and byte arrays are length-prefixed;
 * every length and count is checked against the bytes left and trailing bytes are refused, so damage is an
 * EIO, never a wrong answer.
 */
final class QueryCodec {
  private static final byte VERSION = 1;
  private static final int MAX_STRING = 1 << 16;

  private QueryCodec() {}

  // ---- queries ----------------------------------------------------------------------------------

  static byte[] encode(MetaQuery<?> q) {
    return write(out -> {
      out.writeByte(VERSION);
      if (q instanceof MetaQuery.Lookup l) {
        out.writeByte(1);
        out.writeLong(l.parent());
        str(out, l.name());
      } else if (q instanceof MetaQuery.GetInode g) {
        out.writeByte(2);
        out.writeLong(g.ino());
      } else if (q instanceof MetaQuery.ReadDir r) {
        out.writeByte(3);
        out.writeLong(r.dir());
      } else if (q instanceof MetaQuery.ReadLink r) {
        out.writeByte(4);
        out.writeLong(r.ino());
      } else if (q instanceof MetaQuery.GetXattr g) {
        out.writeByte(5);
        out.writeLong(g.ino());
        str(out, g.name());
      } else if (q instanceof MetaQuery.ListXattrs l) {
        out.writeByte(6);
        out.writeLong(l.ino());
      } else if (q instanceof MetaQuery.Chunks c) {
        out.writeByte(7);
        out.writeLong(c.ino());
        out.writeLong(c.from());
        out.writeLong(c.to());
      } else if (q instanceof MetaQuery.Block b) {
        out.writeByte(8);
        out.write(b.id().toBytes());
      } else if (q instanceof MetaQuery.Applied) {
        out.writeByte(9);
      } else if (q instanceof MetaQuery.LastChange) {
        out.writeByte(13);
      } else if (q instanceof MetaQuery.Nodes) {
        out.writeByte(10);
      } else if (q instanceof MetaQuery.Config) {
        out.writeByte(11);
      } else if (q instanceof MetaQuery.BlocksOn on) {
        out.writeByte(12);
        out.writeInt(on.node());
      } else if (q instanceof MetaQuery.PlacedOn p) {
        out.writeByte(14);
        out.writeInt(p.node());
        out.writeInt(p.ids().size());
        for (BlockId id : p.ids()) {
          out.write(id.toBytes());
        }
      } else {
        throw new IllegalArgumentException("unknown query " + q.getClass());
      }
    });
  }

  static MetaQuery<?> decodeQuery(byte[] bytes) throws FsException {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      version(b, "query");
      int tag = b.get() & 0xff;
      MetaQuery<?> q = switch (tag) {
        case 1 -> new MetaQuery.Lookup(b.getLong(), str(b));
        case 2 -> new MetaQuery.GetInode(b.getLong());
        case 3 -> new MetaQuery.ReadDir(b.getLong());
        case 4 -> new MetaQuery.ReadLink(b.getLong());
        case 5 -> new MetaQuery.GetXattr(b.getLong(), str(b));
        case 6 -> new MetaQuery.ListXattrs(b.getLong());
        case 7 -> new MetaQuery.Chunks(b.getLong(), b.getLong(), b.getLong());
        case 8 -> new MetaQuery.Block(blockId(b));
        case 9 -> new MetaQuery.Applied();
        case 10 -> new MetaQuery.Nodes();
        case 11 -> new MetaQuery.Config();
        case 12 -> new MetaQuery.BlocksOn(b.getInt());
        case 13 -> new MetaQuery.LastChange();
        case 14 -> placedOn(b);
        default -> throw FsException.of(Errno.EIO, "unknown query tag %d", tag);
      };
      end(b, "query");
      return q;
    } catch (BufferUnderflowException e) {
      throw new FsException(Errno.EIO, "query frame is truncated", e);
    }
  }

  private static MetaQuery.PlacedOn placedOn(ByteBuffer b) throws FsException {
    int node = b.getInt();
    int n = b.getInt();
    if (n < 0 || n > MetaQuery.PlacedOn.MAX_IDS || n > b.remaining() / BlockId.LENGTH) {
      throw FsException.of(Errno.EIO, "bad id count %d in a PlacedOn query", n);
    }
    List<BlockId> ids = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      ids.add(blockId(b));
    }
    return new MetaQuery.PlacedOn(node, ids);
  }

  // ---- answers ----------------------------------------------------------------------------------

  static byte[] failure(FsException e) {
    return write(out -> {
      out.writeByte(VERSION);
      out.writeInt(e.errno().code());
      str(out, e.detail() == null ? "" : e.detail());
    });
  }

  static byte[] answer(MetaQuery<?> q, Object value) {
    return write(out -> {
      out.writeByte(VERSION);
      out.writeInt(0);
      if (q instanceof MetaQuery.Lookup || q instanceof MetaQuery.GetInode) {
        inode(out, (Inode) value);
      } else if (q instanceof MetaQuery.ReadDir) {
        @SuppressWarnings("unchecked")
        List<DirEntry> entries = (List<DirEntry>) value;
        out.writeInt(entries.size());
        for (DirEntry e : entries) {
          str(out, e.name());
          out.writeLong(e.ino());
          out.writeByte(e.type().ordinal());
        }
      } else if (q instanceof MetaQuery.ReadLink) {
        str(out, (String) value);
      } else if (q instanceof MetaQuery.GetXattr) {
        bytes(out, (byte[]) value);
      } else if (q instanceof MetaQuery.ListXattrs) {
        @SuppressWarnings("unchecked")
        List<String> names = (List<String>) value;
        out.writeInt(names.size());
        for (String n : names) {
          str(out, n);
        }
      } else if (q instanceof MetaQuery.Chunks) {
        @SuppressWarnings("unchecked")
        List<Chunk> chunks = (List<Chunk>) value;
        out.writeInt(chunks.size());
        for (Chunk c : chunks) {
          out.writeLong(c.index());
          out.writeInt(c.length());
          out.writeBoolean(c.isInline());
          if (c.isInline()) {
            bytes(out, c.inline());
          } else {
            out.write(c.id().toBytes());
          }
        }
      } else if (q instanceof MetaQuery.Block) {
        BlockRecord r = (BlockRecord) value;
        out.writeLong(r.refs());
        out.writeInt(r.rawLength());
        out.writeInt(r.storedLength());
        out.writeByte(r.codec().id());
        out.writeInt(r.tier());
        out.writeInt(r.placement().locations().size());
        for (int l : r.placement().locations()) {
          out.writeInt(l);
        }
      } else if (q instanceof MetaQuery.Applied || q instanceof MetaQuery.LastChange) {
        MetaQuery.Position p = (MetaQuery.Position) value;
        out.writeLong(p.term());
        out.writeLong(p.index());
      } else if (q instanceof MetaQuery.Nodes) {
        @SuppressWarnings("unchecked")
        List<io.dynamicfs.core.meta.MetadataStore.Node> nodes = (List<io.dynamicfs.core.meta.MetadataStore.Node>) value;
        out.writeInt(nodes.size());
        for (var n : nodes) {
          out.writeInt(n.number());
          str(out, n.nodeId());
          str(out, n.raftAddress());
          str(out, n.blockAddress());
          str(out, n.state());
        }
      } else if (q instanceof MetaQuery.BlocksOn) {
        out.writeLong((Long) value);
      } else if (q instanceof MetaQuery.PlacedOn) {
        boolean[] placed = (boolean[]) value;
        out.writeInt(placed.length);
        for (boolean p : placed) {
          out.writeBoolean(p);
        }
      } else if (q instanceof MetaQuery.Config) {
        byte[] op = io.dynamicfs.core.meta.OpCodec.encode((io.dynamicfs.core.meta.MetaOp) value);
        out.writeInt(op.length);
        out.write(op);
      } else {
        throw new IllegalArgumentException("unknown query " + q.getClass());
      }
    });
  }

  /** The value of an answer to {@code q}; the failure it carries as an FsException. */
  @SuppressWarnings("unchecked")
  static <R> R decodeAnswer(MetaQuery<R> q, byte[] bytes) throws FsException {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      version(b, "answer");
      int code = b.getInt();
      if (code != 0) {
        Errno errno = ResultCodec.errno(code);
        String message = str(b);
        end(b, "answer");
        throw new FsException(errno, message);
      }
      Object value;
      if (q instanceof MetaQuery.Lookup || q instanceof MetaQuery.GetInode) {
        value = inode(b);
      } else if (q instanceof MetaQuery.ReadDir) {
        int n = ResultCodec.count(b, 4 + 8 + 1);
        List<DirEntry> entries = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          String name = str(b);
          long ino = b.getLong();
          int type = b.get() & 0xff;
          if (type >= FileType.values().length) {
            throw FsException.of(Errno.EIO, "bad file type %d in answer", type);
          }
          entries.add(new DirEntry(name, ino, FileType.values()[type]));
        }
        value = entries;
      } else if (q instanceof MetaQuery.ReadLink) {
        value = str(b);
      } else if (q instanceof MetaQuery.GetXattr) {
        value = bytes(b, Integer.MAX_VALUE);
      } else if (q instanceof MetaQuery.ListXattrs) {
        int n = ResultCodec.count(b, 4);
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          names.add(str(b));
        }
        value = names;
      } else if (q instanceof MetaQuery.Chunks) {
        int n = ResultCodec.count(b, 8 + 4 + 1);
        List<Chunk> chunks = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          long index = b.getLong();
          int length = b.getInt();
          if (b.get() != 0) {
            byte[] data = bytes(b, Integer.MAX_VALUE);
            chunks.add(new Chunk(index, null, length, data));
          } else {
            chunks.add(new Chunk(index, blockId(b), length, null));
          }
        }
        value = chunks;
      } else if (q instanceof MetaQuery.Block) {
        long refs = b.getLong();
        int raw = b.getInt();
        int stored = b.getInt();
        Codec codec = Codec.byId(b.get() & 0xff);
        int tier = b.getInt();
        int n = b.getInt();
        if (n < 0 || n > io.dynamicfs.core.block.Placement.MAX_LOCATIONS) {
          throw new IllegalArgumentException("bad location count " + n);
        }
        List<Integer> locs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          locs.add(b.getInt());
        }
        value = new BlockRecord(refs, raw, stored, codec, new io.dynamicfs.core.block.Placement(tier, locs));
      } else if (q instanceof MetaQuery.Applied || q instanceof MetaQuery.LastChange) {
        value = new MetaQuery.Position(b.getLong(), b.getLong());
      } else if (q instanceof MetaQuery.Nodes) {
        int n = b.getInt();
        if (n < 0 || n > 100_000) {
          throw FsException.of(Errno.EIO, "bad node count %d", n);
        }
        List<io.dynamicfs.core.meta.MetadataStore.Node> nodes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          nodes.add(new io.dynamicfs.core.meta.MetadataStore.Node(b.getInt(), str(b), str(b), str(b), str(b)));
        }
        value = nodes;
      } else if (q instanceof MetaQuery.BlocksOn) {
        value = b.getLong();
      } else if (q instanceof MetaQuery.PlacedOn p) {
        int n = b.getInt();
        if (n != p.ids().size() || n > b.remaining()) {
          throw FsException.of(Errno.EIO, "PlacedOn answer of %d flags for %d ids", n, p.ids().size());
        }
        boolean[] placed = new boolean[n];
        for (int i = 0; i < n; i++) {
          placed[i] = b.get() != 0;
        }
        value = placed;
      } else if (q instanceof MetaQuery.Config) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
          throw FsException.of(Errno.EIO, "bad settings length %d", n);
        }
        byte[] op = new byte[n];
        b.get(op);
        value = io.dynamicfs.core.meta.OpCodec.decode(op);
      } else {
        throw new IllegalArgumentException("unknown query " + q.getClass());
      }
      end(b, "answer");
      return (R) value;
    } catch (BufferUnderflowException e) {
      throw new FsException(Errno.EIO, "query answer is truncated", e);
    }
  }

  // ---- fields -----------------------------------------------------------------------------------

  private static void inode(DataOutputStream out, Inode i) throws IOException {
    out.writeLong(i.ino());
    out.writeInt(i.mode());
    out.writeInt(i.uid());
    out.writeInt(i.gid());
    out.writeInt(i.nlink());
    out.writeLong(i.rdev());
    out.writeLong(i.size());
    out.writeLong(i.storedBytes());
    out.writeLong(i.atimeNs());
    out.writeLong(i.mtimeNs());
    out.writeLong(i.ctimeNs());
    out.writeLong(i.parent());
  }

  private static Inode inode(ByteBuffer b) {
    return new Inode(b.getLong(), b.getInt(), b.getInt(), b.getInt(), b.getInt(), b.getLong(), b.getLong(),
        b.getLong(), b.getLong(), b.getLong(), b.getLong(), b.getLong());
  }

  private static BlockId blockId(ByteBuffer b) {
    byte[] id = new byte[BlockId.LENGTH];
    b.get(id);
    return BlockId.of(id, 0);
  }

  private static void str(DataOutputStream out, String s) throws IOException {
    bytes(out, s.getBytes(StandardCharsets.UTF_8));
  }

  private static void bytes(DataOutputStream out, byte[] v) throws IOException {
    out.writeInt(v.length);
    out.write(v);
  }

  private static String str(ByteBuffer b) throws FsException {
    return new String(bytes(b, MAX_STRING), StandardCharsets.UTF_8);
  }

  private static byte[] bytes(ByteBuffer b, int max) throws FsException {
    int n = b.getInt();
    if (n < 0 || n > max || n > b.remaining()) {
      throw FsException.of(Errno.EIO, "bad length %d in query frame", n);
    }
    byte[] v = new byte[n];
    b.get(v);
    return v;
  }

  private static void version(ByteBuffer b, String what) throws FsException {
    int v = b.get() & 0xff;
    if (v != VERSION) {
      throw FsException.of(Errno.EIO, "%s version %d is not supported", what, v);
    }
  }

  private static void end(ByteBuffer b, String what) throws FsException {
    if (b.hasRemaining()) {
      throw FsException.of(Errno.EIO, "%d trailing bytes after %s", b.remaining(), what);
    }
  }

  private interface Writer {
    void write(DataOutputStream out) throws IOException;
  }

  private static byte[] write(Writer w) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      w.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
    }
    return bytes.toByteArray();
  }
}
