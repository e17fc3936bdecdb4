package io.dynamicfs.cache;

import io.dynamicfs.core.block.BlockId;
import java.io.Closeable;
import java.io.IOException;

/**
 * L3: the SPI a remote block source implements (the cluster will: peers' caches and block servers). It is
 * consulted after L1 and L2 and before the local block store; what it returns is verified against the
 * block id (SHA-256) before anyone sees it, and promoted into L2 and L1 on the way up.
 *
 * <p>A source is only ever a cache: returning null (or failing) is always allowed and makes the read fall
 * through to the block store. Implementations are thread-safe; {@link #fetch} may block (network).
 */
public interface RemoteBlockSource extends Closeable {
  /** The plain bytes of {@code id}, or null when this source does not have them. */
  byte[] fetch(BlockId id) throws IOException;

  /** A hint that {@code id} will be read soon (e.g. start a transfer); the default ignores it. */
  default void prefetch(BlockId id) {}

  /** A short name for logs (e.g. the peer's address). */
  String name();

  @Override
  default void close() throws IOException {}
}
