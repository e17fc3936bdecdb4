package io.dynamicfs.cluster.transport;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import java.util.concurrent.TimeUnit;

/**
 * The I/O threads every {@link RemoteBlockStore} of a process shares (a mount talks to many nodes over
 * few threads). Close it after the stores that use it; close joins its threads.
 */
public final class BlockClientGroup implements AutoCloseable {
  private final JoiningThreadFactory threads = new JoiningThreadFactory("dfs-block-client");
  private final EventLoopGroup group;

  /** {@code ioThreads}: 1 or 2 event loop threads. */
  public BlockClientGroup(int ioThreads) {
    if (ioThreads < 1 || ioThreads > 2) {
      throw new IllegalArgumentException("ioThreads " + ioThreads + " outside 1 to 2");
    }
    group = new MultiThreadIoEventLoopGroup(ioThreads, threads,
        NioIoHandler.newFactory());
  }

  EventLoopGroup eventLoops() {
    return group;
  }

  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly();
    threads.joinAll();
  }
}
