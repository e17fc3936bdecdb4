package io.dynamicfs.policy.trace;

import java.io.IOException;

/** A named trace that can be opened (and so replayed) any number of times. */
public interface TraceSource {
  /** A short name for reports. */
  String name();

  /** Opens a fresh reader at the trace's beginning. */
  TraceReader open() throws IOException;
}
