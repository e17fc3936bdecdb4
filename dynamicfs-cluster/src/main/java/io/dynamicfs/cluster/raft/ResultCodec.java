package io.dynamicfs.cluster.raft;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.meta.OpApplier;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The reply to a submitted operation: version, log index, errno code (0 when it succeeded), message,
 * created inode, freed and purged block ids, touched inodes. Decoding checks every count against the
 * bytes left, so a damaged reply is an EIO, never a wrong answer.
 */
final class ResultCodec {
  private static final byte VERSION = 1;

  private ResultCodec() {}

  static byte[] encode(OpApplier.Result r) {
    byte[] msg = r.message() == null ? null : r.message().getBytes(StandardCharsets.UTF_8);
    int size = 1 + 8 + 4 + 4 + (msg == null ? 0 : msg.length) + 8
        + 4 + BlockId.LENGTH * (r.freed().size() + r.purged().size()) + 4 + 4 + 8 * r.touched().size();
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put(VERSION).putLong(r.index()).putInt(r.errno() == null ? 0 : r.errno().code());
    if (msg == null) {
      b.putInt(-1);
    } else {
      b.putInt(msg.length).put(msg);
    }
    b.putLong(r.ino());
    ids(b, r.freed());
    ids(b, r.purged());
    b.putInt(r.touched().size());
    for (long ino : r.touched()) {
      b.putLong(ino);
    }
    return b.array();
  }

  static OpApplier.Result decode(byte[] bytes) throws FsException {
    try {
      ByteBuffer b = ByteBuffer.wrap(bytes);
      if (b.get() != VERSION) {
        throw new FsException(Errno.EIO, "operation reply has an unknown version");
      }
      long index = b.getLong();
      int code = b.getInt();
      Errno errno = code == 0 ? null : errno(code);
      int n = b.getInt();
      String message = null;
      if (n >= 0) {
        byte[] m = new byte[n];
        b.get(m);
        message = new String(m, StandardCharsets.UTF_8);
      }
      long ino = b.getLong();
      List<BlockId> freed = ids(b);
      List<BlockId> purged = ids(b);
      int t = count(b, 8);
      Set<Long> touched = new LinkedHashSet<>();
      for (int i = 0; i < t; i++) {
        touched.add(b.getLong());
      }
      if (b.hasRemaining()) {
        throw FsException.of(Errno.EIO, "%d trailing bytes after operation reply", b.remaining());
      }
      return new OpApplier.Result(index, errno, message, ino, freed, purged, touched);
    } catch (BufferUnderflowException | NegativeArraySizeException e) {
      throw new FsException(Errno.EIO, "operation reply is truncated", e);
    }
  }

  static Errno errno(int code) throws FsException {
    for (Errno e : Errno.values()) {
      if (e.code() == code) {
        return e;
      }
    }
    throw FsException.of(Errno.EIO, "unknown errno %d in reply", code);
  }

  private static void ids(ByteBuffer b, List<BlockId> ids) {
    b.putInt(ids.size());
    for (BlockId id : ids) {
      b.put(id.toBytes());
    }
  }

  private static List<BlockId> ids(ByteBuffer b) throws FsException {
    int n = count(b, BlockId.LENGTH);
    List<BlockId> out = new ArrayList<>(n);
    byte[] id = new byte[BlockId.LENGTH];
    for (int i = 0; i < n; i++) {
      b.get(id);
      out.add(BlockId.of(id, 0));
    }
    return out;
  }

  /** A count read from {@code b}, refused when that many items of {@code each} bytes cannot follow. */
  static int count(ByteBuffer b, int each) throws FsException {
    int n = b.getInt();
    if (n < 0 || (long) n * each > b.remaining()) {
      throw FsException.of(Errno.EIO, "bad count %d in reply", n);
    }
    return n;
  }
}
