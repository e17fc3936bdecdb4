package io.dynamicfs.core.storage;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.ForwardingBlockStore;
import java.io.IOException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A debugging and testing decorator that makes one tier slow: every read the engine has that tier serve
 * waits {@code latency} first, and at most {@code iops} such reads start per second (later ones queue for
 * their slot). It stands in for a slow disk where there is only one (no device-mapper {@code delay} target
 * without root): the policy engine's end-to-end test puts both tiers on one disk and this in front of the
 * slow one. Writes, moves, scrubs and rebuilds are not slowed (they read the tier directly).
 *
 * <p>It sits right above the {@link TieredStore}, below the caches, so a cache hit is as fast as ever.
 * Enabled by the mount's {@code --debug-slow-tier NAME:LATENCY[:IOPS]} (see docs/policy.md).
 */
public final class SlowTierStore extends ForwardingBlockStore {
  private static final Pattern SPEC = Pattern.compile("([^:]+):(\\d+(?:\\.\\d+)?)(us|ms|s)(?::(\\d+))?");

  /** What to slow down: a tier by name, the wait per read, the reads per second (0: no limit). */
  public record Spec(String tier, long latencyNanos, int iops) {
    /** Parses {@code NAME:LATENCY[:IOPS]}, e.g. {@code slow:5ms} or {@code slow:2ms:200}. */
    public static Spec parse(String s) throws FsException {
      Matcher m = SPEC.matcher(s.trim());
      if (!m.matches()) {
        throw FsException.of(Errno.EINVAL, "a slow tier is NAME:LATENCY[:IOPS] with LATENCY in us, ms or s "
            + "(e.g. slow:5ms or slow:2ms:200), not '%s'", s);
      }
      double v = Double.parseDouble(m.group(2));
      long unit = switch (m.group(3)) {
        case "us" -> 1_000L;
        case "ms" -> 1_000_000L;
        default -> 1_000_000_000L;
      };
      int iops = m.group(4) == null ? 0 : Integer.parseInt(m.group(4));
      return new Spec(m.group(1), (long) (v * unit), iops);
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "%s:%dus%s", tier, latencyNanos / 1000, iops > 0 ? ":" + iops : "");
    }
  }

  private final Tier slow;
  private final long latencyNanos;
  private final long intervalNanos;
  /** When the next read may start (System.nanoTime); guarded by {@code this}. */
  private long nextSlot;

  private SlowTierStore(BlockStore delegate, Tier slow, Spec spec) {
    super(delegate);
    this.slow = slow;
    this.latencyNanos = spec.latencyNanos();
    this.intervalNanos = spec.iops() > 0 ? TimeUnit.SECONDS.toNanos(1) / spec.iops() : 0;
  }

  /** Wraps {@code store}, which must be the filesystem's {@link TieredStore} with a tier named {@code spec.tier()}. */
  public static BlockStore wrap(BlockStore store, Spec spec) {
    if (!(store instanceof TieredStore tiers)) {
      throw new IllegalArgumentException("a slow tier needs the local tiered store, not " + store.getClass().getSimpleName());
    }
    Tier t = tiers.tier(spec.tier());
    if (t == null) {
      throw new IllegalArgumentException("no tier named '" + spec.tier() + "' to slow down (tiers: "
          + tiers.tiers().stream().map(Tier::name).toList() + ")");
    }
    return new SlowTierStore(store, t, spec);
  }

  @Override
  public byte[] get(BlockId id, boolean sequential) throws IOException {
    delayIfSlow(id);
    return delegate.get(id, sequential);
  }

  @Override
  public int readRange(BlockId id, int offset, byte[] dst, int dstOffset, int length) throws IOException {
    delayIfSlow(id);
    return delegate.readRange(id, offset, dst, dstOffset, length);
  }

  private void delayIfSlow(BlockId id) {
    if (!slow.contains(id)) {
      return;
    }
    long start = System.nanoTime();
    if (intervalNanos > 0) {
      synchronized (this) {
        start = Math.max(start, nextSlot);
        nextSlot = start + intervalNanos;
      }
    }
    long until = start + latencyNanos;
    for (long left = until - System.nanoTime(); left > 0; left = until - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }
}
