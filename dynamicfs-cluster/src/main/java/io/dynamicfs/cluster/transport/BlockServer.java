package io.dynamicfs.cluster.transport;

import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.SegmentStore;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.OptionalSslHandler;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A node's block server: serves one {@link BlockStore} to authenticated clients of the cluster over the
 * framed protocol of {@link BlockFrame} (docs/cluster-transport.md).
 *
 * <p>Guarantees: a PUT is answered OK only after its bytes hashed to the id and a {@link BlockStore#sync}
 * that started after they were stored returned (concurrent PUTs share one sync); a PUT_SHARD likewise, once
 * its record verified under its key ({@link io.dynamicfs.cluster.blocks.ShardRecord#parse}); a GET or
 * GET_SHARD answers the store's verified bytes. A malformed frame gets an ERROR and costs only its own connection, and only when framing
 * is lost.
 *
 * <p>Threads, all bounded and all joined by {@link #close}: one accept thread, {@code ioThreads} (at most 2)
 * event loops that only frame and route, {@code storeThreads} workers that call the store (a bounded queue;
 * beyond it a request gets EAGAIN), and one commit thread that runs the syncs.
 */
public final class BlockServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BlockServer.class);

  private final JoiningThreadFactory acceptThreads = new JoiningThreadFactory("dfs-block-accept");
  private final JoiningThreadFactory ioThreads = new JoiningThreadFactory("dfs-block-io");
  private final JoiningThreadFactory storeThreads = new JoiningThreadFactory("dfs-block-store");
  private final JoiningThreadFactory commitThread = new JoiningThreadFactory("dfs-block-commit");
  private final EventLoopGroup acceptGroup;
  private final EventLoopGroup ioGroup;
  private final ThreadPoolExecutor workers;
  private final GroupCommit commit;
  private final ChannelGroup channels;
  private final Channel serverChannel;
  private final InetSocketAddress address;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final BlockServerStats stats;
  private final CopyClock clock;

  private BlockServer(Builder b) throws IOException {
    acceptGroup = new MultiThreadIoEventLoopGroup(1, acceptThreads,
        NioIoHandler.newFactory());
    ioGroup = new MultiThreadIoEventLoopGroup(b.ioThreads, ioThreads,
        NioIoHandler.newFactory());
    workers = new ThreadPoolExecutor(b.storeThreads, b.storeThreads, 0, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(b.storeQueue), storeThreads);
    commit = new GroupCommit(b.store, commitThread);
    channels = new DefaultChannelGroup("block-clients", acceptGroup.next());
    clock = b.clock;
    BlockOps ops = new BlockOps(b.store, commit, b.blockSize, BlockFrame.maxPayload(b.maxFrameBytes), b.freeSpace,
        b.reclaimer, b.clock);
    stats = ops.stats();
    ServerConnection.Shared shared = new ServerConnection.Shared(b.credentials, ops, workers, channels,
        b.blockSize, b.maxFrameBytes, b.maxInFlightPerConnection, b.maxConnections, b.helloTimeout.toMillis(),
        b.tls != null && b.tls.required(), b.orphanGrace.toMillis());
    int maxFrameBytes = b.maxFrameBytes;
    BlockTls tls = b.tls;
    ServerBootstrap boot = new ServerBootstrap().group(acceptGroup, ioGroup).channel(NioServerSocketChannel.class)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (tls != null) {
              ch.pipeline().addLast(new OptionalSslHandler(tls.server())); // TLS or plain, by the first bytes
            }
            ch.pipeline().addLast(new FrameDecoder(maxFrameBytes), new ServerConnection(shared));
          }
        });
    ChannelFuture bound = boot.bind(b.bind).awaitUninterruptibly();
    if (!bound.isSuccess()) {
      shutdownThreads();
      throw new IOException("block server cannot listen on " + b.bind + ": " + bound.cause(), bound.cause());
    }
    serverChannel = bound.channel();
    address = (InetSocketAddress) serverChannel.localAddress();
    log.atInfo().addKeyValue("address", address.toString()).addKeyValue("cluster", b.credentials.clusterId())
        .addKeyValue("block_size", b.blockSize).addKeyValue("max_frame_bytes", b.maxFrameBytes)
        .addKeyValue("tls", b.tls == null ? "off" : b.tls.required() ? "required" : "accepted")
        .log("block server listening");
  }

  /** Requests, errors and bytes this server has handled since it started. */
  public BlockServerStats stats() {
    return stats;
  }

  /** When each copy was last put or touched, and the per-id locks PUT and TOUCH take (the orphan scan's). */
  public CopyClock copyClock() {
    return clock;
  }

  /** A builder for a server of {@code store} to the clients of the cluster {@code credentials} names. */
  public static Builder builder(BlockStore store, ClusterCredentials credentials) {
    return new Builder(store, credentials);
  }

  /** The address the server listens on (with the actual port when it was asked to bind port 0). */
  public InetSocketAddress address() {
    return address;
  }

  public int port() {
    return address.getPort();
  }

  /**
   * Stops accepting, closes every connection, lets requests already on the store workers finish (waiting up
   * to 10 s before interrupting them), answers the syncs they wait for, and joins every thread. The store is
   * the caller's and stays open. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    serverChannel.close().awaitUninterruptibly();
    channels.close().awaitUninterruptibly();
    shutdownThreads();
    log.atInfo().addKeyValue("address", address.toString()).log("block server closed");
  }

  private void shutdownThreads() {
    acceptGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    ioGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS);
    acceptGroup.terminationFuture().awaitUninterruptibly();
    ioGroup.terminationFuture().awaitUninterruptibly();
    workers.shutdown();
    boolean interrupted = false;
    try {
      if (!workers.awaitTermination(10, TimeUnit.SECONDS)) {
        log.atWarn().log("block store workers still busy after 10 s; interrupting them");
        workers.shutdownNow();
        workers.awaitTermination(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      interrupted = true;
      workers.shutdownNow();
    }
    commit.close();
    acceptThreads.joinAll();
    ioThreads.joinAll();
    storeThreads.joinAll();
    commitThread.joinAll();
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Options, each checked when set (IllegalArgumentException naming it); {@link #start} checks them together. */
  public static final class Builder {
    private final BlockStore store;
    private final ClusterCredentials credentials;
    private InetSocketAddress bind = new InetSocketAddress("127.0.0.1", 0);
    private int blockSize = 1 << 20;
    private int maxFrameBytes = 4 << 20;
    private int ioThreads = 2;
    private int storeThreads = 3;
    private int storeQueue = 256;
    private int maxInFlightPerConnection = 32;
    private int maxConnections = 256;
    private Duration helloTimeout = Duration.ofSeconds(10);
    private LongSupplier freeSpace;
    private Reclaimer reclaimer = Reclaimer.NONE;
    private BlockTls tls;
    private CopyClock clock = new CopyClock();
    private Duration orphanGrace = Duration.ZERO;

    private Builder(BlockStore store, ClusterCredentials credentials) {
      this.store = Objects.requireNonNull(store, "store");
      this.credentials = Objects.requireNonNull(credentials, "credentials");
    }

    /** Where to listen; port 0 picks a free port ({@link BlockServer#port}). Default 127.0.0.1:0. */
    public Builder bind(InetSocketAddress address) {
      this.bind = Objects.requireNonNull(address, "bind");
      return this;
    }

    /** The filesystem's block size B: the largest block a PUT may carry. Default 1 MiB. */
    public Builder blockSize(int bytes) {
      require(bytes >= 1 && bytes <= (64 << 20), "blockSize", bytes, "1 B to 64 MiB");
      this.blockSize = bytes;
      return this;
    }

    /**
     * The largest frame read or written, header and checksum included. Default 4 MiB; must carry a PUT_SHARD
     * of a whole block (block size + 136 bytes), checked by {@link #start}.
     */
    public Builder maxFrameBytes(int bytes) {
      require(bytes >= 4096 && bytes <= (256 << 20), "maxFrameBytes", bytes, "4 KiB to 256 MiB");
      this.maxFrameBytes = bytes;
      return this;
    }

    /** Event loop threads (framing and routing only). Default 2, at most 2. */
    public Builder ioThreads(int n) {
      require(n >= 1 && n <= 2, "ioThreads", n, "1 to 2");
      this.ioThreads = n;
      return this;
    }

    /** Threads that call the store. Default 3. */
    public Builder storeThreads(int n) {
      require(n >= 1 && n <= 16, "storeThreads", n, "1 to 16");
      this.storeThreads = n;
      return this;
    }

    /** Requests waiting for a store thread before the server answers EAGAIN. Default 256. */
    public Builder storeQueue(int n) {
      require(n >= 1 && n <= 65536, "storeQueue", n, "1 to 65536");
      this.storeQueue = n;
      return this;
    }

    /** Requests of one connection in flight before the server stops reading from it. Default 32. */
    public Builder maxInFlightPerConnection(int n) {
      require(n >= 1 && n <= 4096, "maxInFlightPerConnection", n, "1 to 4096");
      this.maxInFlightPerConnection = n;
      return this;
    }

    /** Connections at once; further ones get EAGAIN and are closed. Default 256. */
    public Builder maxConnections(int n) {
      require(n >= 1, "maxConnections", n, "at least 1");
      this.maxConnections = n;
      return this;
    }

    /** How long a new connection may take to authenticate. Default 10 s. */
    public Builder helloTimeout(Duration d) {
      require(!d.isNegative() && !d.isZero(), "helloTimeout", d, "positive");
      this.helloTimeout = d;
      return this;
    }

    /** What a RECLAIM request runs (default: refused with EOPNOTSUPP). */
    public Builder reclaimer(Reclaimer r) {
      this.reclaimer = Objects.requireNonNull(r, "reclaimer");
      return this;
    }

    /**
     * TLS on this port ({@link BlockTls}): connections that start TLS are served encrypted, plain ones too
     * unless {@link BlockTls#required}. Default none: plain only.
     */
    public Builder tls(BlockTls t) {
      this.tls = Objects.requireNonNull(t, "tls");
      return this;
    }

    /** The clock PUT and TOUCH record copies' touch times on (default: a new one on System.nanoTime). */
    public Builder copyClock(CopyClock c) {
      this.clock = Objects.requireNonNull(c, "copyClock");
      return this;
    }

    /**
     * The grace period G of this node's orphan scan, told to every client when it authenticates: a mount
     * touches the copies it holds uncommitted well within it. Default zero: this node scans nothing, and
     * mounts touch nothing here.
     */
    public Builder orphanGrace(Duration g) {
      require(!g.isNegative(), "orphanGrace", g, "zero or positive");
      this.orphanGrace = g;
      return this;
    }

    /**
     * Free bytes reported by STATS (-1: unknown). Default: the usable space of a {@link SegmentStore}'s
     * directory, else -1.
     */
    public Builder freeSpace(LongSupplier freeBytes) {
      this.freeSpace = Objects.requireNonNull(freeBytes, "freeSpace");
      return this;
    }

    /** Binds and starts serving. IOException when the address cannot be bound. */
    public BlockServer start() throws IOException {
      // the largest request: a PUT_SHARD of a whole block's shard (K = 1), key and record header included
      int needed = BlockOps.maxShardRecord(blockSize) + BlockId.LENGTH + BlockFrame.HEADER + BlockFrame.TRAILER;
      if (maxFrameBytes < needed) {
        throw new IllegalArgumentException("maxFrameBytes " + maxFrameBytes + " cannot carry a PUT_SHARD of a "
            + "blockSize " + blockSize + " shard (needs " + needed + ")");
      }
      if (freeSpace == null) {
        freeSpace = defaultFreeSpace(store);
      }
      return new BlockServer(this);
    }

    private static LongSupplier defaultFreeSpace(BlockStore store) {
      if (!(store instanceof SegmentStore s)) {
        return () -> -1;
      }
      return () -> {
        try {
          FileStore fs = Files.getFileStore(s.directory());
          return fs.getUsableSpace();
        } catch (IOException e) {
          return -1;
        }
      };
    }

    private static void require(boolean ok, String option, Object value, String range) {
      if (!ok) {
        throw new IllegalArgumentException(option + " " + value + " outside " + range);
      }
    }
  }
}
