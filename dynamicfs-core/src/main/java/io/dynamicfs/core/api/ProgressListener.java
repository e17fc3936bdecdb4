package io.dynamicfs.core.api;

/**
 * Told how a long operation (gc, warmup, scrub, a tier move) is getting on: {@code done} of {@code total}
 * units in the named phase ({@code total} is 0 when not known yet). Called on the worker's thread; keep it
 * cheap.
 */
@FunctionalInterface
public interface ProgressListener {
  ProgressListener NONE = (phase, done, total) -> {};

  void progress(String phase, long done, long total);
}
