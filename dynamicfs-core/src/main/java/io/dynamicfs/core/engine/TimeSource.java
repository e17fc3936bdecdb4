package io.dynamicfs.core.engine;

import java.time.Instant;

/** Where the engine reads the time: injected so tests can control it. */
@FunctionalInterface
public interface TimeSource {
  TimeSource SYSTEM = () -> {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  };

  /** Nanoseconds since the epoch. */
  long nowNanos();
}
