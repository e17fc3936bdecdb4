package io.dynamicfs.policy.tier;

import java.util.HashMap;
import java.util.Map;

/**
 * Counts what a fast tier moved: promotions and demotions with their bytes, and ping-pong moves (a
 * promotion of a key demoted less than {@code pingPongWindow} ticks earlier: data that went down and came
 * straight back up, pure cost). Used by the evaluation, so it may allocate.
 */
public final class TierMoves {
  private final long pingPongWindow;
  private final Map<Long, Long> demotedAt = new HashMap<>();
  private long promotions;
  private long demotions;
  private long bytesPromoted;
  private long bytesDemoted;
  private long pingPong;

  public TierMoves(long pingPongWindow) {
    this.pingPongWindow = pingPongWindow;
  }

  void promoted(long key, int bytes, long now) {
    promotions++;
    bytesPromoted += bytes;
    Long down = demotedAt.remove(key);
    if (down != null && now - down < pingPongWindow) {
      pingPong++;
    }
  }

  void demoted(long key, int bytes, long now) {
    demotions++;
    bytesDemoted += bytes;
    demotedAt.put(key, now);
  }

  public long promotions() {
    return promotions;
  }

  public long demotions() {
    return demotions;
  }

  /** Bytes copied up plus bytes moved down. */
  public long bytesMoved() {
    return bytesPromoted + bytesDemoted;
  }

  public long bytesPromoted() {
    return bytesPromoted;
  }

  public long pingPong() {
    return pingPong;
  }
}
