package io.dynamicfs.cluster.transport;

import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.engine.JitQuiet;
import io.dynamicfs.core.engine.Warmup;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.SplittableRandom;

/**
 * Runs the block transport's paths before a cluster daemon serves, so that its first block writes do not pay
 * for the JIT. Neither the engine warm-up (a scratch engine over a local store) nor the metadata one reaches
 * them: on a fresh cluster the first 512 MiB written through a mount ran at 98-102 MiB/s against 138-139 for
 * the next (session 24, {@code fio} sequential 1 MiB writes), each node spending 16-18 ticks in its C1 compiler
 * threads and its block I/O thread 4,300-4,600 page faults during the first, none during the next. This starts
 * a throwaway {@link BlockServer} over a scratch {@link SegmentStore} in a new directory under {@code tmp}, on
 * an ephemeral loopback port, and a {@link RemoteBlockStore} client of it (both with the daemon's credentials,
 * so the handshake runs too), and puts, reads whole and in ranges, asks about and deletes blocks of a few sizes
 * through them until at least {@link #MIN_OPS} calls were made and the JIT is quiet ({@link JitQuiet}), or the
 * budget passes; then it closes them and deletes the directory. It never touches the daemon's own store or
 * port, and it is best effort: a failure is logged and the daemon starts anyway.
 */
public final class BlockPathWarmup {
  static final int MIN_OPS = 1000;
  private static final long SEGMENT_BYTES = 64L << 20;
  private static final int SMALL = 64 << 10;
  /** Every so many rounds a whole block (the rest are small ones, to spare the disk). */
  private static final int WHOLE_EVERY = 16;

  private BlockPathWarmup() {}

  /** Runs the warm-up within {@code budget}; returns the calls made through the client (0 on failure). */
  public static long run(Path tmp, ClusterCredentials credentials, int blockSize, Duration budget) {
    return Warmup.inScratch(tmp, "block path warm-up", "dynamicfs-block-warmup-", budget, (scratch, deadline) -> {
      try (SegmentStore store = SegmentStore.open(scratch, Codec.LZ4, SEGMENT_BYTES);
          BlockServer server = BlockServer.builder(store, credentials)
              .bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).blockSize(blockSize).start()) {
        BlockClientGroup group = new BlockClientGroup(1);
        try (RemoteBlockStore client = RemoteBlockStore.builder(group, server.address(), credentials).build()) {
          return exercise(client, blockSize, deadline);
        } finally {
          group.close();
        }
      }
    });
  }

  private static long exercise(RemoteBlockStore client, int blockSize, long deadline) throws IOException {
    SplittableRandom random = new SplittableRandom();
    byte[] whole = new byte[blockSize];
    random.nextBytes(whole);
    byte[] small = new byte[Math.min(SMALL, blockSize)];
    for (int i = 0; i < small.length; i++) {
      small[i] = (byte) ('a' + i % 23); // compressible, as text is
    }
    byte[] range = new byte[4096];
    JitQuiet quiet = new JitQuiet(deadline);
    long ops = 0;
    for (int round = 0; !quiet.pastDeadline() && (ops < MIN_OPS || !quiet.done()); round++) {
      byte[] data = round % WHOLE_EVERY == 0 ? whole : small;
      data[0] = (byte) round;
      data[1] = (byte) (round >>> 8);
      BlockId id = BlockId.hash(data, 0, data.length);
      client.put(id, data, data.length);
      client.get(id);
      client.readRange(id, data.length / 2, range, 0, Math.min(range.length, data.length / 2));
      client.contains(id);
      client.delete(id);
      ops += 5;
    }
    return ops;
  }
}
