package io.dynamicfs.cluster.transport;

import io.dynamicfs.cluster.transport.BlockFrame.Type;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.Future;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated connection to a block server, carrying many requests at once: each gets a fresh
 * request id and waits for the answer with that id, up to its timeout. When the connection drops, every
 * waiting request fails at once (EIO naming the node); the owner opens a new connection on its next call.
 */
final class ClientConnection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ClientConnection.class);

  private final String node;
  private final Map<Long, CompletableFuture<BlockFrame>> pending = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong();
  private volatile Channel channel;
  private volatile FsException broken;
  private int blockSize;
  private int maxFrameBytes;
  private long orphanGraceMillis;

  private ClientConnection(String node) {
    this.node = node;
  }

  /** Connects and authenticates, within {@code timeoutMillis} for each. */
  static ClientConnection open(EventLoopGroup group, InetSocketAddress node, ClusterCredentials credentials,
      BlockTls tls, int maxFrameBytes, long timeoutMillis) throws FsException {
    ClientConnection c = new ClientConnection(node.toString());
    ChannelFuture connected = new Bootstrap().group(group).channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOCATOR, PooledByteBufAllocator.DEFAULT)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(timeoutMillis, Integer.MAX_VALUE))
        .handler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            if (tls != null) {
              ch.pipeline().addLast(tls.client().newHandler(ch.alloc(), node.getHostString(), node.getPort()));
            }
            ch.pipeline().addLast(new FrameDecoder(maxFrameBytes), c);
          }
        })
        .connect(node);
    if (!connected.awaitUninterruptibly(timeoutMillis + 1000) || !connected.isSuccess()) {
      connected.channel().close();
      Throwable cause = connected.cause();
      throw FsException.of(Errno.EIO, "cannot connect to block server %s: %s", node,
          cause == null ? "timed out after " + timeoutMillis + " ms" : cause.toString());
    }
    c.channel = connected.channel();
    try {
      if (tls != null) {
        Future<Channel> shake = c.channel.pipeline().get(SslHandler.class).handshakeFuture();
        if (!shake.awaitUninterruptibly(timeoutMillis) || !shake.isSuccess()) {
          throw FsException.of(Errno.EACCES, "TLS handshake with block server %s failed: %s (is the token file "
              + "from another cluster, or the node too old for --block-tls?)", node,
              shake.cause() == null ? "timed out after " + timeoutMillis + " ms" : shake.cause().getMessage());
        }
      }
      // challenge-response (ClusterCredentials): our nonce, the server's nonce and proof, then our proof
      byte[] clientNonce = ClusterCredentials.nonce();
      byte[] hello = new Payload.Writer().string(credentials.clusterId().toString(), 64).bytes16(clientNonce)
          .toBytes();
      Payload.Reader challenge = c.expect(c.call(Type.HELLO, hello, hello, 0, 0, timeoutMillis), Type.OK);
      byte[] serverNonce = challenge.bytes16();
      byte[] serverProof = challenge.bytes16();
      challenge.end();
      if (serverNonce.length != ClusterCredentials.NONCE_BYTES
          || !credentials.proofMatches(ClusterCredentials.Role.SERVER, clientNonce, serverNonce, serverProof)) {
        throw FsException.of(Errno.EACCES, "block server %s does not know the cluster's secret: bad token "
            + "(is the token file from another cluster?)", node);
      }
      byte[] auth = new Payload.Writer()
          .bytes16(credentials.proof(ClusterCredentials.Role.CLIENT, clientNonce, serverNonce)).toBytes();
      Payload.Reader ok = c.expect(c.call(Type.AUTH, auth, auth, 0, 0, timeoutMillis), Type.OK);
      c.blockSize = ok.i32();
      c.maxFrameBytes = ok.i32();
      // a node from before the orphan scan sends no grace: it removes nothing, so nothing needs touching there
      c.orphanGraceMillis = ok.remaining() == 0 ? 0 : ok.i64();
      ok.end();
    } catch (FsException e) {
      c.close();
      throw e;
    }
    log.atDebug().addKeyValue("node", c.node).log("block server connected");
    return c;
  }

  /** The node's block size, as its HELLO answer said. */
  int blockSize() {
    return blockSize;
  }

  /** The node's frame bound, as its HELLO answer said. */
  int maxFrameBytes() {
    return maxFrameBytes;
  }

  /** The grace period of the node's orphan scan, as its AUTH answer said; 0: the node scans nothing. */
  long orphanGraceMillis() {
    return orphanGraceMillis;
  }

  boolean usable() {
    Channel ch = channel;
    return broken == null && ch != null && ch.isActive();
  }

  /**
   * Sends a request whose payload is {@code head} then {@code body[off, off + len)} and returns the answer
   * (OK or DATA). An ERROR answer becomes an FsException with its errno; no answer within the timeout, or
   * a dropped connection, is EIO naming the node.
   */
  BlockFrame call(Type type, byte[] head, byte[] body, int off, int len, long timeoutMillis) throws FsException {
    long id = nextId.incrementAndGet();
    CompletableFuture<BlockFrame> answer = new CompletableFuture<>();
    pending.put(id, answer);
    Channel ch = channel;
    if (!usable()) { // checked after registering: a drop from here on fails the request through failAll
      pending.remove(id);
      FsException why = broken;
      throw why != null ? copy(why) : FsException.of(Errno.EIO, "connection to block server %s is closed", node);
    }
    ch.writeAndFlush(BlockFrame.encode(ch.alloc(), type, id, head, body, off, len)).addListener(w -> {
      if (!w.isSuccess()) {
        fail(id, FsException.of(Errno.EIO, "cannot send %s to block server %s: %s", type, node, w.cause()));
      }
    });
    BlockFrame f;
    try {
      f = answer.get(timeoutMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      pending.remove(id);
      log.atWarn().addKeyValue("node", node).addKeyValue("op", type).addKeyValue("timeout_ms", timeoutMillis)
          .log("block server did not answer in time");
      throw FsException.of(Errno.EIO, "block server %s did not answer %s within %d ms", node, type, timeoutMillis);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof FsException fs ? copy(fs)
          : new FsException(Errno.EIO, "block server " + node + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      pending.remove(id);
      Thread.currentThread().interrupt();
      throw FsException.of(Errno.EIO, "interrupted waiting for block server %s", node);
    }
    if (f.type() == Type.ERROR) {
      throw remoteError(f);
    }
    return f;
  }

  /** A reader of the answer's payload, or EIO when the answer has another type. */
  Payload.Reader expect(BlockFrame answer, Type type) throws FsException {
    if (answer.type() != type) {
      throw FsException.of(Errno.EIO, "block server %s answered %s where %s was due", node, answer.type(), type);
    }
    return new Payload.Reader(answer.payload(), answer.type().name());
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof BlockFrame.Refused r) {
      failAll(FsException.of(Errno.EIO, "block server %s sent a bad frame (%s)", node, r.reason()));
      ctx.close();
      return;
    }
    BlockFrame f = (BlockFrame) msg;
    if (f.requestId() == BlockFrame.NO_REQUEST && f.type() == Type.ERROR) {
      failAll(remoteError(f)); // about the connection, not one request: the server closes it
      ctx.close();
      return;
    }
    CompletableFuture<BlockFrame> waiting = pending.remove(f.requestId());
    if (waiting == null) {
      log.atDebug().addKeyValue("node", node).addKeyValue("request", f.requestId())
          .log("answer to a request no longer waiting (timed out)");
      return;
    }
    waiting.complete(f);
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    failAll(FsException.of(Errno.EIO, "connection to block server %s lost", node));
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.atWarn().addKeyValue("node", node).addKeyValue("error", cause.toString()).log("block connection failed");
    failAll(FsException.of(Errno.EIO, "connection to block server %s failed: %s", node, cause));
    ctx.close();
  }

  void close() {
    Channel ch = channel;
    if (ch != null) {
      ch.close();
    }
  }

  private void failAll(FsException why) {
    if (broken == null) {
      broken = why;
    }
    for (Long id : pending.keySet()) {
      fail(id, why);
    }
  }

  private void fail(long id, FsException why) {
    CompletableFuture<BlockFrame> waiting = pending.remove(id);
    if (waiting != null) {
      waiting.completeExceptionally(why);
    }
  }

  private FsException remoteError(BlockFrame f) {
    try {
      Payload.Reader r = new Payload.Reader(f.payload(), "ERROR");
      Errno errno = errno(r.u16());
      String reason = r.string();
      r.end();
      return FsException.of(errno, "block server %s: %s", node, reason);
    } catch (FsException e) {
      return FsException.of(Errno.EIO, "block server %s sent an unreadable ERROR (%s)", node, e.detail());
    }
  }

  private static Errno errno(int code) {
    for (Errno e : Errno.values()) {
      if (e.code() == code) {
        return e;
      }
    }
    return Errno.EIO;
  }

  /** The same error, thrown again with the caller's stack (the original is its cause). */
  private static FsException copy(FsException e) {
    return new FsException(e.errno(), e.detail(), e);
  }
}
