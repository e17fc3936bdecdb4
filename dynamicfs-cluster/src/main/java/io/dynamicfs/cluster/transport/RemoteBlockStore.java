package io.dynamicfs.cluster.transport;

import io.dynamicfs.cluster.blocks.ShardRecord;
import io.dynamicfs.cluster.blocks.ShardStore;
import io.dynamicfs.cluster.transport.BlockFrame.Type;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.StoreStats;
import io.dynamicfs.core.block.StoredBlock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The block store of one remote node, through its {@link BlockServer}: what a mount writes each replica to
 * and reads from. Thread-safe; requests from many threads share a few connections (round robin), each
 * carrying many requests at once.
 *
 * <p>{@link #put} returns once the node answered that the block is durable there, so {@link #sync} has
 * nothing to do. {@link #get} returns bytes the node checked against the id. Every call waits at
 * most the configured timeout; a timeout, a refused connection or a dropped one is FsException(EIO) naming
 * the node, and an ERROR from the node is FsException with the node's errno (ENOENT: the node does not hold
 * the block). A dropped connection is opened again by the next call that needs it. The methods of
 * {@link BlockStore} that cannot throw IOException ({@link #stat}, {@link #contains}, {@link #forEach},
 * {@link #stats}) throw {@link UncheckedIOException} around it: a remote "don't know" is never reported as
 * "absent".
 *
 * <p>It is also the node's {@link ShardStore} for erasure-coded tiers: {@link #putShard} sends a shard record
 * under its derived key (the node verifies the record against the key with {@link ShardRecord#parse} instead of
 * hashing the bytes, and makes it durable as a put), {@link #getShard} checks the record the same way before
 * returning it, and {@link #deleteShard} is {@link #delete}.
 */
public final class RemoteBlockStore implements BlockStore, ShardStore {
  private static final Logger log = LoggerFactory.getLogger(RemoteBlockStore.class);
  private static final int LIST_PAGE = 4096;
  private static final byte[] NONE = new byte[0];

  private final BlockClientGroup group;
  private final InetSocketAddress node;
  private final ClusterCredentials credentials;
  private final BlockTls tls;
  private final long timeoutMillis;
  private final int maxFrameBytes;
  private final AtomicReferenceArray<ClientConnection> connections;
  private final Object[] connectLocks;
  private final AtomicInteger next = new AtomicInteger();
  private volatile boolean closed;

  private RemoteBlockStore(Builder b) {
    this.group = b.group;
    this.node = b.node;
    this.credentials = b.credentials;
    this.tls = b.tls;
    this.timeoutMillis = b.timeout.toMillis();
    this.maxFrameBytes = b.maxFrameBytes;
    this.connections = new AtomicReferenceArray<>(b.connections);
    this.connectLocks = new Object[b.connections];
    for (int i = 0; i < connectLocks.length; i++) {
      connectLocks[i] = new Object();
    }
  }

  /** A store of the block server at {@code node}, reached through {@code group}'s threads. */
  public static Builder builder(BlockClientGroup group, InetSocketAddress node, ClusterCredentials credentials) {
    return new Builder(group, node, credentials);
  }

  public InetSocketAddress node() {
    return node;
  }

  /** Sends the block and returns once the node has it durably (the node checked the bytes hash to the id). */
  @Override
  public StoredBlock put(BlockId id, byte[] data, int length) throws IOException {
    ClientConnection c = connection();
    int max = Math.min(c.blockSize(), BlockFrame.maxPayload(Math.min(maxFrameBytes, c.maxFrameBytes()))
        - BlockId.LENGTH);
    if (length < 0 || length > max) {
      throw FsException.of(Errno.EFBIG, "block of %d bytes over the %d block server %s takes", length, max, node);
    }
    BlockFrame answer = c.call(Type.PUT, id.toBytes(), data, 0, length, timeoutMillis);
    Payload.Reader r = c.expect(answer, Type.OK);
    StoredBlock sb = r.storedBlock();
    r.end();
    return sb;
  }

  /**
   * The block's bytes; ENOENT when the node does not hold it. The node hashed them against the id before
   * sending (EIO from it when they do not match) and the frame's CRC32C covers the way here, so they are not
   * hashed again: that was a quarter of a mount's CPU in a cold sequential read.
   */
  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    ClientConnection c = connection();
    byte[] req = new Payload.Writer().id(id).u8(sequential ? 1 : 0).toBytes();
    return c.expect(c.call(Type.GET, req, NONE, 0, 0, timeoutMillis), Type.DATA).rest();
  }

  /**
   * Bytes [offset, offset + length) of the block from the node (GET_RANGE): the node checks the whole record
   * and sends the range only. ENOENT when the node does not hold the block.
   */
  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    Objects.checkFromIndexSize(dstOffset, length, dst.length);
    if (length == 0) {
      return 0;
    }
    ClientConnection c = connection();
    byte[] req = new Payload.Writer().id(id).i32(offset).i32(length).toBytes();
    byte[] data = c.expect(c.call(Type.GET_RANGE, req, NONE, 0, 0, timeoutMillis), Type.DATA).rest();
    if (data.length > length) {
      throw FsException.of(Errno.EIO, "block server %s answered a range of %d bytes with %d", node, length,
          data.length);
    }
    System.arraycopy(data, 0, dst, dstOffset, data.length);
    return data.length;
  }

  /**
   * Sends a shard record under its key and returns once the node has it durably (the node checked that the
   * record verifies under the key). EFBIG without sending when the record is over what the node takes.
   */
  @Override
  public void putShard(BlockId key, byte[] record) throws IOException {
    ClientConnection c = connection();
    int max = Math.min(BlockOps.maxShardRecord(c.blockSize()),
        BlockFrame.maxPayload(Math.min(maxFrameBytes, c.maxFrameBytes())) - BlockId.LENGTH);
    if (record.length > max) {
      throw FsException.of(Errno.EFBIG, "shard record of %d bytes over the %d block server %s takes",
          record.length, max, node);
    }
    BlockFrame answer = c.call(Type.PUT_SHARD, key.toBytes(), record, 0, record.length, timeoutMillis);
    Payload.Reader r = c.expect(answer, Type.OK);
    StoredBlock sb = r.storedBlock();
    r.end();
    if (!sb.id().equals(key)) {
      throw FsException.of(Errno.EIO, "block server %s acknowledged shard %s as %s", node, key, sb.id());
    }
  }

  /**
   * The shard record stored under {@code key}, checked with {@link ShardRecord#parse} (EIO when it does not
   * verify under the key); ENOENT when the node holds nothing under it.
   */
  @Override
  public byte[] getShard(BlockId key) throws IOException {
    ClientConnection c = connection();
    byte[] req = new Payload.Writer().id(key).toBytes();
    byte[] record = c.expect(c.call(Type.GET_SHARD, req, NONE, 0, 0, timeoutMillis), Type.DATA).rest();
    try {
      ShardRecord.parse(key, record);
    } catch (FsException e) {
      log.atError().addKeyValue("node", node.toString()).addKeyValue("key", key.toHex())
          .addKeyValue("error", e.detail()).log("block server returned a shard record that does not verify");
      throw FsException.of(Errno.EIO, "block server %s returned a bad shard record: %s", node, e.detail());
    }
    return record;
  }

  /** Forgets the shard under {@code key} (absent is not an error): a DELETE of the key. */
  @Override
  public void deleteShard(BlockId key) throws IOException {
    delete(key);
  }

  @Override
  public StoredBlock stat(BlockId id) {
    try {
      ClientConnection c = connection();
      byte[] req = new Payload.Writer().id(id).toBytes();
      Payload.Reader r = c.expect(c.call(Type.HAS, req, NONE, 0, 0, timeoutMillis), Type.OK);
      StoredBlock sb = r.u8() == 0 ? null : r.storedBlock();
      r.end();
      return sb;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** What a node's VERIFY found of its own copy of a block. */
  public enum CopyState { ABSENT, INTACT, CORRUPT }

  /**
   * Has the node read its own copy of {@code id} and check it (record CRC, then the bytes against the id, or
   * a shard record against its key), without sending the bytes.
   */
  public CopyState verify(BlockId id) throws IOException {
    ClientConnection c = connection();
    byte[] req = new Payload.Writer().id(id).toBytes();
    Payload.Reader r = c.expect(c.call(Type.VERIFY, req, NONE, 0, 0, timeoutMillis), Type.OK);
    int state = r.u8();
    if (state == 2) {
      r.string(); // the reason; the node has logged it
      r.end();
      return CopyState.CORRUPT;
    }
    r.end();
    return switch (state) {
      case 0 -> CopyState.ABSENT;
      case 1 -> CopyState.INTACT;
      default -> throw FsException.of(Errno.EIO, "block server %s answered VERIFY with state %d", node, state);
    };
  }

  /**
   * TOUCH: has the node note that its copies of {@code ids} (blocks or shard keys) were used now, so its orphan
   * scan leaves them for another grace period; returns the ids it does not hold (in request order). Sent in
   * pages that fit the node's frame bound; each page is one request.
   */
  public List<BlockId> touch(List<BlockId> ids) throws IOException {
    List<BlockId> absent = new ArrayList<>();
    int from = 0;
    while (from < ids.size()) {
      ClientConnection c = connection();
      int fit = (BlockFrame.maxPayload(Math.min(maxFrameBytes, c.maxFrameBytes())) - 2) / BlockId.LENGTH;
      int n = Math.min(ids.size() - from, Math.min(BlockOps.MAX_TOUCH_IDS, fit));
      Payload.Writer w = new Payload.Writer().u16(n);
      for (BlockId id : ids.subList(from, from + n)) {
        w.id(id);
      }
      Payload.Reader r = c.expect(c.call(Type.TOUCH, w.toBytes(), NONE, 0, 0, timeoutMillis), Type.OK);
      int missing = r.u16();
      if (missing > n) {
        throw FsException.of(Errno.EIO, "block server %s answered a TOUCH of %d ids with %d absent", node, n, missing);
      }
      for (int i = 0; i < missing; i++) {
        absent.add(r.id());
      }
      r.end();
      from += n;
    }
    return absent;
  }

  /**
   * The grace period of the node's orphan scan in milliseconds, as the node said when this store connected
   * (0: it removes no copies). Connects if needed.
   */
  public long orphanGraceMillis() throws IOException {
    return connection().orphanGraceMillis();
  }

  @Override
  public void delete(BlockId id) throws IOException {
    ClientConnection c = connection();
    byte[] req = new Payload.Writer().id(id).toBytes();
    c.expect(c.call(Type.DELETE, req, NONE, 0, 0, timeoutMillis), Type.OK).end();
  }

  /** Pages through the node's blocks in id order; a page is one request (each within the timeout). */
  @Override
  public void forEach(Consumer<StoredBlock> action) {
    try {
      BlockId after = null;
      while (true) {
        ClientConnection c = connection();
        Payload.Writer w = new Payload.Writer();
        byte[] req = (after == null ? w.u8(0) : w.u8(1).id(after)).i32(LIST_PAGE).toBytes();
        Payload.Reader r = c.expect(c.call(Type.LIST, req, NONE, 0, 0, timeoutMillis), Type.OK);
        boolean more = r.u8() != 0;
        int count = r.i32();
        if (count < 0 || count > r.remaining() / Payload.STORED_BLOCK_BYTES || (more && count == 0)) {
          throw FsException.of(Errno.EIO, "block server %s sent a LIST page of %d blocks", node, count);
        }
        StoredBlock[] page = new StoredBlock[count];
        for (int i = 0; i < count; i++) {
          page[i] = r.storedBlock();
        }
        r.end();
        for (StoredBlock sb : page) {
          action.accept(sb);
        }
        if (!more) {
          return;
        }
        after = page[count - 1].id();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Nothing to do: {@link #put} returned only once the node had the block durably. */
  @Override
  public void sync() {}

  @Override
  public StoreStats stats() {
    try {
      return nodeStats().store();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The node's store figures and its free space. */
  public NodeStats nodeStats() throws IOException {
    ClientConnection c = connection();
    Payload.Reader r = c.expect(c.call(Type.STATS, NONE, NONE, 0, 0, timeoutMillis), Type.OK);
    NodeStats s = new NodeStats(new StoreStats(r.i64(), r.i64(), r.i64(), r.i64()), r.i64());
    r.end();
    return s;
  }

  /**
   * Asks the node to reclaim blocks pending deletion ({@code apply}) or only to count them; only the metadata
   * leader's node does (others answer EAGAIN).
   */
  public Reclaimer.Report reclaim(boolean apply, long timeoutMillis) throws IOException {
    ClientConnection c = connection();
    byte[] req = new Payload.Writer().u8(apply ? 1 : 0).toBytes();
    Payload.Reader r = c.expect(c.call(Type.RECLAIM, req, NONE, 0, 0, timeoutMillis), Type.OK);
    Reclaimer.Report rep = new Reclaimer.Report(r.i64(), r.i64(), r.i64(), r.i64());
    r.end();
    return rep;
  }

  /** Closes the connections (requests waiting on them fail). Idempotent; the group stays open. */
  @Override
  public void close() {
    closed = true;
    for (int i = 0; i < connections.length(); i++) {
      synchronized (connectLocks[i]) {
        ClientConnection c = connections.getAndSet(i, null);
        if (c != null) {
          c.close();
        }
      }
    }
  }

  /** The next connection in turn, opened (again) when it is missing or dropped. */
  private ClientConnection connection() throws FsException {
    int i = Math.floorMod(next.getAndIncrement(), connections.length());
    ClientConnection c = connections.get(i);
    if (c != null && c.usable()) {
      return c;
    }
    synchronized (connectLocks[i]) {
      if (closed) {
        throw FsException.of(Errno.EIO, "remote block store %s is closed", node);
      }
      c = connections.get(i);
      if (c != null && c.usable()) {
        return c;
      }
      if (c != null) {
        c.close();
        log.atInfo().addKeyValue("node", node.toString()).log("reconnecting to block server");
      }
      c = ClientConnection.open(group.eventLoops(), node, credentials, tls, maxFrameBytes, timeoutMillis);
      connections.set(i, c);
      return c;
    }
  }

  @Override
  public String toString() {
    return "RemoteBlockStore[" + node + "]";
  }

  /** Options, each checked when set (IllegalArgumentException naming it). */
  public static final class Builder {
    private final BlockClientGroup group;
    private final InetSocketAddress node;
    private final ClusterCredentials credentials;
    private Duration timeout = Duration.ofSeconds(10);
    private int connections = 2;
    private int maxFrameBytes = 4 << 20;
    private BlockTls tls;

    private Builder(BlockClientGroup group, InetSocketAddress node, ClusterCredentials credentials) {
      this.group = Objects.requireNonNull(group, "group");
      this.node = Objects.requireNonNull(node, "node");
      this.credentials = Objects.requireNonNull(credentials, "credentials");
    }

    /** How long one request (and a connect, and its HELLO) may take. Default 10 s. */
    public Builder timeout(Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("timeout " + d + " must be positive");
      }
      this.timeout = d;
      return this;
    }

    /** Connections to the node, opened on first use. Default 2. */
    public Builder connections(int n) {
      if (n < 1 || n > 16) {
        throw new IllegalArgumentException("connections " + n + " outside 1 to 16");
      }
      this.connections = n;
      return this;
    }

    /** The largest frame this client reads or sends. Default 4 MiB, as the server's. */
    public Builder maxFrameBytes(int bytes) {
      if (bytes < 4096 || bytes > (256 << 20)) {
        throw new IllegalArgumentException("maxFrameBytes " + bytes + " outside 4 KiB to 256 MiB");
      }
      this.maxFrameBytes = bytes;
      return this;
    }

    /** Connect with TLS ({@link BlockTls}; the node must accept it). Default: plain. */
    public Builder tls(BlockTls t) {
      this.tls = Objects.requireNonNull(t, "tls");
      return this;
    }

    /** The store; it connects on its first call. */
    public RemoteBlockStore build() {
      return new RemoteBlockStore(this);
    }
  }
}
