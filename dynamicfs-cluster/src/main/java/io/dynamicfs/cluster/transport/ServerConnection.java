package io.dynamicfs.cluster.transport;

import io.dynamicfs.cluster.transport.BlockFrame.Type;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.group.ChannelGroup;
import io.netty.handler.ssl.SslHandler;
import java.util.UUID;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of a {@link BlockServer}: runs the challenge-response of {@link ClusterCredentials}
 * (HELLO, then AUTH), hands requests to the store workers, answers refused frames, and stops reading while
 * too many of its requests are in flight.
 *
 * <p>Threads: every field is touched on the connection's event loop only; answers are written from store
 * workers or the commit thread (Netty hands the write to the event loop) and the in-flight count is
 * decremented back on the event loop.
 */
final class ServerConnection extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(ServerConnection.class);

  /** What every connection of one server shares. */
  record Shared(ClusterCredentials credentials, BlockOps ops, Executor workers, ChannelGroup channels,
      int blockSize, int maxFrameBytes, int maxInFlight, int maxConnections, long helloTimeoutMillis,
      boolean tlsRequired, long orphanGraceMillis) {}

  private final Shared shared;
  private String peer = "?";
  private boolean authenticated;
  /** The nonces of the challenge this connection's HELLO got (until AUTH answers it; event loop only). */
  private byte[] clientNonce;
  private byte[] serverNonce;
  /** Set by a refusal that closes the connection: frames already decoded behind it are dropped unread. */
  private boolean closing;
  private int inFlight;
  private ScheduledFuture<?> helloTimer;

  ServerConnection(Shared shared) {
    this.shared = shared;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    peer = String.valueOf(ctx.channel().remoteAddress());
    shared.channels().add(ctx.channel());
    if (shared.channels().size() > shared.maxConnections()) {
      refuse(ctx, BlockFrame.NO_REQUEST, Errno.EAGAIN,
          "block server has " + shared.maxConnections() + " connections already", true);
      return;
    }
    helloTimer = ctx.executor().schedule(() -> {
      if (!authenticated && !closing) {
        refuse(ctx, BlockFrame.NO_REQUEST, Errno.EACCES,
            "no HELLO within " + shared.helloTimeoutMillis() + " ms", true);
      }
    }, shared.helloTimeoutMillis(), TimeUnit.MILLISECONDS);
    ctx.fireChannelActive();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (helloTimer != null) {
      helloTimer.cancel(false);
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing) {
      return;
    }
    if (msg instanceof BlockFrame.Refused r) {
      refuse(ctx, r.requestId(), r.errno(), r.reason(), r.fatal());
      return;
    }
    BlockFrame f = (BlockFrame) msg;
    if (!authenticated) {
      if (serverNonce == null) {
        hello(ctx, f);
      } else {
        auth(ctx, f);
      }
    } else if (f.type() == Type.HELLO || f.type() == Type.AUTH) {
      refuse(ctx, f.requestId(), Errno.EINVAL, f.type() + " sent twice", false);
    } else if (f.type().isAnswer()) {
      refuse(ctx, f.requestId(), Errno.EINVAL, f.type() + " is an answer, not a request", false);
    } else {
      submit(ctx, f);
    }
  }

  private void hello(ChannelHandlerContext ctx, BlockFrame f) {
    if (shared.tlsRequired() && ctx.pipeline().get(SslHandler.class) == null) {
      refuse(ctx, f.requestId(), Errno.EACCES, "this node takes only TLS connections on its block port "
          + "(start the mount or node with --block-tls)", true);
      return;
    }
    if (f.type() != Type.HELLO) {
      refuse(ctx, f.requestId(), Errno.EACCES, "HELLO must be the first frame, not " + f.type(), true);
      return;
    }
    UUID cluster;
    byte[] nonce;
    try {
      Payload.Reader r = new Payload.Reader(f.payload(), "HELLO");
      String presented = r.string();
      nonce = r.bytes16();
      r.end();
      try {
        cluster = UUID.fromString(presented);
      } catch (IllegalArgumentException e) {
        throw FsException.of(Errno.EINVAL, "HELLO cluster id is not a UUID");
      }
      if (nonce.length != ClusterCredentials.NONCE_BYTES) {
        throw FsException.of(Errno.EINVAL, "HELLO nonce has %d bytes, not %d", nonce.length,
            ClusterCredentials.NONCE_BYTES);
      }
    } catch (FsException e) {
      refuse(ctx, f.requestId(), e.errno(), e.detail(), true);
      return;
    }
    if (!cluster.equals(shared.credentials().clusterId())) {
      refuse(ctx, f.requestId(), Errno.EACCES, "client of another cluster " + cluster, true);
      return;
    }
    clientNonce = nonce;
    serverNonce = ClusterCredentials.nonce();
    byte[] challenge = new Payload.Writer().bytes16(serverNonce)
        .bytes16(shared.credentials().proof(ClusterCredentials.Role.SERVER, clientNonce, serverNonce)).toBytes();
    ctx.writeAndFlush(BlockFrame.encode(ctx.alloc(), Type.OK, f.requestId(), challenge));
  }

  /** The client's answer to this connection's challenge: its proof for both nonces. */
  private void auth(ChannelHandlerContext ctx, BlockFrame f) {
    if (f.type() != Type.AUTH) {
      refuse(ctx, f.requestId(), Errno.EACCES, "AUTH must follow HELLO, not " + f.type(), true);
      return;
    }
    byte[] proof;
    try {
      Payload.Reader r = new Payload.Reader(f.payload(), "AUTH");
      proof = r.bytes16();
      r.end();
    } catch (FsException e) {
      refuse(ctx, f.requestId(), e.errno(), e.detail(), true);
      return;
    }
    if (!shared.credentials().proofMatches(ClusterCredentials.Role.CLIENT, clientNonce, serverNonce, proof)) {
      refuse(ctx, f.requestId(), Errno.EACCES, "bad token proof", true);
      return;
    }
    authenticated = true;
    clientNonce = null;
    serverNonce = null;
    if (helloTimer != null) {
      helloTimer.cancel(false);
    }
    log.atDebug().addKeyValue("peer", peer).log("block client authenticated");
    byte[] ok = new Payload.Writer().i32(shared.blockSize()).i32(shared.maxFrameBytes())
        .i64(shared.orphanGraceMillis()).toBytes();
    ctx.writeAndFlush(BlockFrame.encode(ctx.alloc(), Type.OK, f.requestId(), ok));
  }

  private void submit(ChannelHandlerContext ctx, BlockFrame f) {
    if (++inFlight >= shared.maxInFlight()) {
      ctx.channel().config().setAutoRead(false);
    }
    try {
      shared.workers().execute(() -> shared.ops().run(f, peer, answer -> {
        ctx.writeAndFlush(BlockFrame.encode(ctx.alloc(), answer.type(), f.requestId(), answer.payload()));
        try {
          ctx.executor().execute(() -> done(ctx));
        } catch (RejectedExecutionException e) {
          // the event loop is shutting down with the server: nothing left to resume
        }
      }));
    } catch (RejectedExecutionException e) {
      done(ctx);
      refuse(ctx, f.requestId(), Errno.EAGAIN, "block server busy", false);
    }
  }

  private void done(ChannelHandlerContext ctx) {
    if (--inFlight < shared.maxInFlight() && !ctx.channel().config().isAutoRead()) {
      ctx.channel().config().setAutoRead(true);
    }
  }

  /** Answers ERROR; with {@code close}, closes the connection once the answer is written. */
  private void refuse(ChannelHandlerContext ctx, long requestId, Errno errno, String reason, boolean close) {
    log.atWarn().addKeyValue("peer", peer).addKeyValue("request", requestId).addKeyValue("errno", errno)
        .addKeyValue("reason", reason).addKeyValue("closing", close).log("block frame refused");
    var written = ctx.writeAndFlush(BlockFrame.error(ctx.alloc(), requestId, errno, reason));
    if (close) {
      closing = true;
      ctx.channel().config().setAutoRead(false);
      written.addListener(ChannelFutureListener.CLOSE);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.atDebug().addKeyValue("peer", peer).addKeyValue("error", cause.toString()).log("block connection failed");
    ctx.close();
  }
}
