package io.dynamicfs.policy.trace;

import java.io.Closeable;
import java.io.IOException;

/**
 * A stream of accesses read one at a time, in time order, without materialising the trace: {@link #next()}
 * advances and the getters describe the current access (valid until the next call). One access is (time on
 * a virtual clock, object or extent key, bytes, read or write). Not thread-safe.
 */
public interface TraceReader extends Closeable {
  /** Advances to the next access; false at the end of the trace. A malformed trace throws with its position. */
  boolean next() throws IOException;

  /** Virtual time of the current access; never decreases. */
  long time();

  /** The object or extent the current access touches. */
  long key();

  /** Bytes the current access reads or writes (the object's size for traces that carry none). */
  int bytes();

  /** Whether the current access writes. */
  boolean write();

  /** A short name for reports. */
  String name();
}
