package io.dynamicfs.cluster.transport;

import io.dynamicfs.cluster.blocks.ShardRecord;
import io.dynamicfs.cluster.transport.BlockFrame.Type;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.block.StoredBlock;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block server's requests against its store: each runs on a store worker (never an event loop) and
 * ends in exactly one answer. A PUT or PUT_SHARD is answered only after the group commit made it durable.
 *
 * <p>A PUT is content-addressed (the bytes must hash to the id). A PUT_SHARD stores an erasure-coded shard
 * under a key derived from its block id, which is not the hash of the bytes: the record must instead verify
 * under the key with {@link ShardRecord#parse}, so a node never stores a shard that a reader would refuse.
 */
final class BlockOps {
  private static final Logger log = LoggerFactory.getLogger(BlockOps.class);
  /** Most ids one LIST page carries, whatever the client asks. */
  static final int MAX_LIST_PAGE = 4096;

  /** An answer frame's type and payload. */
  record Answer(Type type, byte[] payload) {
    static final Answer OK_EMPTY = new Answer(Type.OK, new byte[0]);

    static Answer error(Errno errno, String reason) {
      return new Answer(Type.ERROR, BlockFrame.errorPayload(errno, reason));
    }
  }

  private final BlockStore store;
  private final GroupCommit commit;
  private final int blockSize;
  private final LongSupplier freeBytes;
  private final int pageLimit;
  private final Reclaimer reclaimer;
  private final CopyClock clock;
  private final BlockServerStats stats = new BlockServerStats();

  /** {@code maxPayload}: the largest answer payload the frame bound allows (limits a LIST page). */
  BlockOps(BlockStore store, GroupCommit commit, int blockSize, int maxPayload, LongSupplier freeBytes,
      Reclaimer reclaimer, CopyClock clock) {
    this.store = store;
    this.clock = clock;
    this.reclaimer = reclaimer;
    this.pageLimit = Math.min(MAX_LIST_PAGE, (maxPayload - 5) / Payload.STORED_BLOCK_BYTES);
    this.commit = commit;
    this.blockSize = blockSize;
    this.freeBytes = freeBytes;
  }

  /** Runs one request; {@code answer} is called once, maybe on another thread (the commit thread for PUT). */
  void run(BlockFrame req, String peer, Consumer<Answer> answered) {
    stats.request(req.payload().length);
    Consumer<Answer> answer = a -> {
      stats.answer(a);
      answered.accept(a);
    };
    try {
      Payload.Reader r = new Payload.Reader(req.payload(), req.type().name());
      switch (req.type()) {
        case PUT -> put(r, peer, answer);
        case PUT_SHARD -> putShard(r, peer, answer);
        case GET -> answer.accept(get(r));
        case GET_RANGE -> answer.accept(getRange(r));
        case GET_SHARD -> answer.accept(getShard(r));
        case HAS -> answer.accept(has(r));
        case VERIFY -> answer.accept(verify(r));
        case DELETE -> answer.accept(delete(r));
        case TOUCH -> answer.accept(touch(r));
        case LIST -> answer.accept(list(r));
        case STATS -> answer.accept(stats(r));
        case RECLAIM -> answer.accept(reclaim(r));
        case SYNC -> {
          r.end();
          commit.whenDurable(e -> answer.accept(e == null ? Answer.OK_EMPTY : failure(e, req.type(), peer)));
        }
        default -> answer.accept(Answer.error(Errno.EINVAL, req.type() + " is not a request"));
      }
    } catch (IOException | RuntimeException e) {
      answer.accept(failure(e, req.type(), peer));
    }
  }

  BlockServerStats stats() {
    return stats;
  }

  private static Answer failure(Exception e, Type op, String peer) {
    if (e instanceof FsException fs) {
      if (fs.errno() != Errno.EINVAL && fs.errno() != Errno.ENOENT) {
        log.atWarn().addKeyValue("peer", peer).addKeyValue("op", op).addKeyValue("errno", fs.errno())
            .addKeyValue("error", fs.detail()).log("block request failed");
      }
      return Answer.error(fs.errno(), fs.detail());
    }
    log.atError().addKeyValue("peer", peer).addKeyValue("op", op).setCause(e).log("block request failed");
    return Answer.error(Errno.EIO, e.toString());
  }

  private void put(Payload.Reader r, String peer, Consumer<Answer> answer) throws IOException {
    BlockId id = r.id();
    byte[] data = r.rest();
    if (data.length > blockSize) {
      throw FsException.of(Errno.EFBIG, "block of %d bytes over the node's block size %d", data.length, blockSize);
    }
    BlockId actual = BlockId.hash(data, 0, data.length);
    if (!actual.equals(id)) {
      log.atWarn().addKeyValue("peer", peer).addKeyValue("block", id.toHex()).addKeyValue("actual", actual.toHex())
          .log("PUT refused: bytes do not hash to the block id");
      throw FsException.of(Errno.EINVAL, "bytes of block %s hash to %s", id, actual);
    }
    storeDurably(id, data, Type.PUT, peer, answer);
  }

  /**
   * PUT_SHARD: key, then a shard record (at most the block size plus {@link ShardRecord#HEADER} bytes) that
   * must verify under the key; stored and made durable exactly as a PUT.
   */
  private void putShard(Payload.Reader r, String peer, Consumer<Answer> answer) throws IOException {
    BlockId key = r.id();
    byte[] record = r.rest();
    if (record.length > maxShardRecord(blockSize)) {
      throw FsException.of(Errno.EFBIG, "shard record of %d bytes over the node's %d (block size %d + header)",
          record.length, maxShardRecord(blockSize), blockSize);
    }
    try {
      ShardRecord.parse(key, record);
    } catch (FsException e) {
      log.atWarn().addKeyValue("peer", peer).addKeyValue("key", key.toHex()).addKeyValue("error", e.detail())
          .log("PUT_SHARD refused: record does not verify under its key");
      throw FsException.of(Errno.EINVAL, "PUT_SHARD refused: %s", e.detail());
    }
    storeDurably(key, record, Type.PUT_SHARD, peer, answer);
  }

  /** The largest shard record a node of block size {@code blockSize} takes: a shard of a whole block at K = 1. */
  static int maxShardRecord(int blockSize) {
    return blockSize + ShardRecord.HEADER;
  }

  /**
   * Stores verified bytes and answers OK (the stored block) once a sync that started after the store returned.
   * The store call and the copy's touch time are one step under the id's lock (see {@link CopyClock}).
   */
  private void storeDurably(BlockId id, byte[] data, Type op, String peer, Consumer<Answer> answer)
      throws IOException {
    StoredBlock sb;
    synchronized (clock.lockFor(id)) {
      sb = store.put(id, data, data.length);
      clock.touch(id);
    }
    byte[] ok = new Payload.Writer().storedBlock(sb).toBytes();
    commit.whenDurable(e -> answer.accept(e == null ? new Answer(Type.OK, ok) : failure(e, op, peer)));
  }

  private Answer get(Payload.Reader r) throws IOException {
    BlockId id = r.id();
    int flags = r.u8();
    r.end();
    if ((flags & ~1) != 0) {
      throw FsException.of(Errno.EINVAL, "GET flags %#x unknown", flags);
    }
    return checkedBlock(id, (flags & 1) != 0);
  }

  /**
   * GET_RANGE: id, offset (i32), length (i32, 1 to the block size): bytes [offset, offset + length) of the
   * block's plain bytes, fewer at its end (none past it). The node reads only the frames of its record that
   * cover the range and checks their CRC32Cs (a record of the first format, which has no frames, is read and
   * checked whole, as for GET), and sends only the range: a small random read costs the bytes asked for on
   * the disk and on the wire, and the client, which cannot hash a part of a block, relies on the node's
   * checks and the transport frame's checksum.
   */
  private Answer getRange(Payload.Reader r) throws IOException {
    BlockId id = r.id();
    int offset = r.i32();
    int length = r.i32();
    r.end();
    if (offset < 0 || length < 1 || length > blockSize) {
      throw FsException.of(Errno.EINVAL, "GET_RANGE of %d bytes at %d: offset must be >= 0 and length 1 to %d",
          length, offset, blockSize);
    }
    if (store.stat(id) == null) {
      throw missing(id);
    }
    byte[] range = new byte[length];
    int got;
    try {
      got = store.readRange(id, offset, range, 0, length);
    } catch (FsException e) {
      if (store.stat(id) == null) {
        throw missing(id); // deleted between the stat and the read
      }
      throw e;
    }
    if (got >= 0) {
      return new Answer(Type.DATA, got == length ? range : Arrays.copyOf(range, got));
    }
    byte[] block = read(id, false);
    int n = Math.max(0, Math.min(length, block.length - offset));
    return new Answer(Type.DATA, n == 0 ? new byte[0] : Arrays.copyOfRange(block, offset, offset + n));
  }

  /**
   * GET_SHARD: the record stored under the key, as stored (the client verifies it with
   * {@link ShardRecord#parse}); ENOENT when the node holds nothing under the key.
   */
  private Answer getShard(Payload.Reader r) throws IOException {
    BlockId key = r.id();
    r.end();
    return new Answer(Type.DATA, read(key, false));
  }

  /**
   * GET's answer: the block's plain bytes, checked against the id before they are sent. The store checked its
   * record's CRCs, which catch damaged bytes but not intact bytes of another block (an index or a store bug);
   * the hash catches both. The client relies on this and on the transport frame's checksum rather than
   * hashing again: in a cold sequential read through a mount the hash had been a quarter of the mount's CPU,
   * now it is spread over the nodes that serve the blocks. EIO when the copy does not hash to the id (the
   * client tries another copy).
   */
  private Answer checkedBlock(BlockId id, boolean sequential) throws IOException {
    byte[] data = read(id, sequential);
    BlockId actual = BlockId.hash(data, 0, data.length);
    if (!actual.equals(id)) {
      log.atError().addKeyValue("block", id.toHex()).addKeyValue("actual", actual.toHex())
          .log("stored copy does not hash to its block id; not sent");
      throw FsException.of(Errno.EIO, "bytes of the node's copy of block %s hash to %s", id, actual);
    }
    return new Answer(Type.DATA, data);
  }

  /** The stored bytes under {@code id} (a block or a shard record), as the store checked them. */
  private byte[] read(BlockId id, boolean sequential) throws IOException {
    if (store.stat(id) == null) {
      throw missing(id);
    }
    try {
      return store.get(id, sequential);
    } catch (FsException e) {
      if (store.stat(id) == null) {
        throw missing(id); // deleted between the stat and the read
      }
      throw e;
    }
  }

  private static FsException missing(BlockId id) {
    return FsException.of(Errno.ENOENT, "node holds no block %s", id.toHex());
  }

  private Answer has(Payload.Reader r) throws IOException {
    BlockId id = r.id();
    r.end();
    StoredBlock sb = store.stat(id);
    Payload.Writer w = new Payload.Writer();
    return new Answer(Type.OK, sb == null ? w.u8(0).toBytes() : w.u8(1).storedBlock(sb).toBytes());
  }

  /**
   * VERIFY: reads the node's own copy (the store checks its record's CRC) and checks it against the id (or,
   * for a shard key, the shard record against the key) without sending it: OK u8 0 absent, 1 intact,
   * 2 corrupt + u16 length and UTF-8 reason.
   */
  private Answer verify(Payload.Reader r) throws IOException {
    BlockId id = r.id();
    r.end();
    Payload.Writer w = new Payload.Writer();
    if (store.stat(id) == null) {
      return new Answer(Type.OK, w.u8(0).toBytes());
    }
    String why;
    try {
      byte[] data = store.get(id, false);
      if (BlockId.hash(data, 0, data.length).equals(id)) {
        return new Answer(Type.OK, w.u8(1).toBytes());
      }
      try {
        io.dynamicfs.cluster.blocks.ShardRecord.parse(id, data);
        return new Answer(Type.OK, w.u8(1).toBytes());
      } catch (FsException notAShard) {
        why = "bytes hash to " + BlockId.hash(data, 0, data.length).toHex();
      }
    } catch (FsException e) {
      if (store.stat(id) == null) {
        return new Answer(Type.OK, w.u8(0).toBytes()); // deleted meanwhile
      }
      if (e.errno() != Errno.EIO) {
        throw e;
      }
      why = e.detail();
    }
    log.atError().addKeyValue("block", id.toHex()).addKeyValue("error", why).log("stored copy is corrupt");
    return new Answer(Type.OK, w.u8(2).string(why, BlockFrame.MAX_REASON_BYTES).toBytes());
  }

  private Answer delete(Payload.Reader r) throws IOException {
    BlockId id = r.id();
    r.end();
    synchronized (clock.lockFor(id)) {
      store.delete(id);
      clock.forget(id);
    }
    return Answer.OK_EMPTY;
  }

  /** Most ids one TOUCH carries. */
  static final int MAX_TOUCH_IDS = 1024;

  /**
   * TOUCH: u16 count (1 to {@link #MAX_TOUCH_IDS}), then that many ids (blocks or shard keys). Each copy held
   * gets "touched now" on the {@link CopyClock}, under its id's lock, so the orphan scan leaves it for another
   * grace period; the answer lists the ids this node does not hold: OK with u16 count + ids, in request order.
   * A mount touches the copies it stored and has not committed yet (docs/cluster.md).
   */
  private Answer touch(Payload.Reader r) throws IOException {
    int count = r.u16();
    if (count < 1 || count > MAX_TOUCH_IDS) {
      throw FsException.of(Errno.EINVAL, "TOUCH of %d ids (1 to %d)", count, MAX_TOUCH_IDS);
    }
    List<BlockId> ids = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      ids.add(r.id());
    }
    r.end();
    List<BlockId> absent = new ArrayList<>();
    for (BlockId id : ids) {
      synchronized (clock.lockFor(id)) {
        if (store.stat(id) == null) {
          absent.add(id);
        } else {
          clock.touch(id);
        }
      }
    }
    Payload.Writer w = new Payload.Writer().u16(absent.size());
    for (BlockId id : absent) {
      w.id(id);
    }
    return new Answer(Type.OK, w.toBytes());
  }

  /**
   * One page of the held blocks in id order, after the cursor, of at most the asked size and the server's own
   * limit: one pass over the store keeping the smallest {@code limit + 1} ids in a heap, so memory is bounded by the page and the answer needs no server state
   * between pages (a client may resume from any id after a reconnect).
   */
  private Answer list(Payload.Reader r) throws IOException {
    BlockId after = r.u8() == 0 ? null : r.id();
    int max = r.i32();
    r.end();
    if (max < 1) {
      throw FsException.of(Errno.EINVAL, "LIST page of %d blocks", max);
    }
    int limit = Math.min(max, pageLimit);
    PriorityQueue<StoredBlock> smallest = new PriorityQueue<>(Comparator.comparing(StoredBlock::id).reversed());
    store.forEach(sb -> {
      if (after != null && sb.id().compareTo(after) <= 0) {
        return;
      }
      if (smallest.size() <= limit) {
        smallest.add(sb);
      } else if (sb.id().compareTo(smallest.peek().id()) < 0) {
        smallest.poll();
        smallest.add(sb);
      }
    });
    boolean more = smallest.size() > limit;
    if (more) {
      smallest.poll(); // the largest: only there to say another page follows
    }
    List<StoredBlock> page = new ArrayList<>(smallest);
    page.sort(Comparator.comparing(StoredBlock::id));
    Payload.Writer w = new Payload.Writer().u8(more ? 1 : 0).i32(page.size());
    for (StoredBlock sb : page) {
      w.storedBlock(sb);
    }
    return new Answer(Type.OK, w.toBytes());
  }

  private Answer reclaim(Payload.Reader r) throws IOException {
    int apply = r.u8();
    r.end();
    if (apply > 1) {
      throw FsException.of(Errno.EINVAL, "RECLAIM apply flag %d is not 0 or 1", apply);
    }
    Reclaimer.Report rep = reclaimer.reclaim(apply == 1);
    return new Answer(Type.OK, new Payload.Writer().i64(rep.pending()).i64(rep.due()).i64(rep.purged())
        .i64(rep.copiesDeleted()).toBytes());
  }

  private Answer stats(Payload.Reader r) throws IOException {
    r.end();
    StoreStats s = store.stats();
    long free = freeBytes.getAsLong();
    return new Answer(Type.OK, new Payload.Writer().i64(s.blocks()).i64(s.rawBytes()).i64(s.storedBytes())
        .i64(s.fileBytes()).i64(free).toBytes());
  }
}
