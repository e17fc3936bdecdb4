package io.dynamicfs.core.block;

import java.nio.ByteBuffer;

/**
 * A per-thread direct buffer that stored bytes are read into (segment records, L2 cache chunks), aligned
 * for {@code O_DIRECT}. Reading into a direct buffer spares the bounce copy the JDK makes for a heap
 * buffer, and reusing one buffer per thread keeps the destination of every read in memory that is already
 * mapped and warm. A caller copies out what it needs before its next read on the same thread.
 */
public final class ReadBuffer {
  /** Alignment of file offsets, lengths and the buffer's address for {@code O_DIRECT} reads. */
  static final int ALIGN = 4096;
  private static final int INITIAL = 2 << 20;
  private static final ThreadLocal<ByteBuffer> BUFFER = ThreadLocal.withInitial(() -> allocate(INITIAL));

  private ReadBuffer() {}

  /** This thread's buffer, cleared, with room for at least {@code bytes}. */
  public static ByteBuffer get(int bytes) {
    ByteBuffer b = BUFFER.get();
    if (b.capacity() < bytes) {
      b = allocate(Math.max(bytes, b.capacity() * 2));
      BUFFER.set(b);
    }
    return b.clear();
  }

  /** A new direct buffer of at least {@code bytes}, aligned for {@code O_DIRECT}. */
  static ByteBuffer allocate(int bytes) {
    int rounded = (bytes + ALIGN - 1) / ALIGN * ALIGN;
    return ByteBuffer.allocateDirect(rounded + ALIGN).alignedSlice(ALIGN);
  }
}
