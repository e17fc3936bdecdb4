package io.dynamicfs.core.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * How copy_file_range copies {@code len} bytes from {@code offIn} of one file to {@code offOut} of another:
 * the whole blocks of the source range that land on whole blocks of the destination are shared
 * ({@link #cloneCount} blocks from {@link #srcIndex} to {@link #dstIndex}: one
 * {@link io.dynamicfs.core.meta.MetaOp.CloneBlocks}), the unaligned edges are copied as bytes
 * ({@link #byteCopies}). Sharing needs both offsets at the same position within a block; otherwise, or
 * when no whole block fits, everything is a byte copy. The source's short last block (its end of file) is
 * shared when the copy reaches it and nothing of the destination lies past it.
 */
record CopyPlan(long srcIndex, long dstIndex, long cloneCount, long minSize, List<Range> byteCopies) {

  /** {@code n} bytes from {@code from} in the source to {@code to} in the destination. */
  record Range(long from, long to, long n) {}

  /**
   * The plan for a copy already clipped to the source's size ({@code offIn + len <= srcSize}).
   * {@code inlineFirst}: the source's block 0 is inline bytes (they can only be block 0 of the destination).
   */
  static CopyPlan of(long offIn, long offOut, long len, long srcSize, long dstSize, int bs, boolean inlineFirst) {
    long endIn = offIn + len;
    if (offIn % bs != offOut % bs) {
      return bytesOnly(offIn, offOut, len);
    }
    long first = (offIn + bs - 1) / bs;
    long end = endIn / bs; // exclusive: whole blocks
    long shift = (offOut - offIn) / bs;
    boolean tail = endIn == srcSize && endIn % bs != 0 && offOut + len >= dstSize;
    if (tail) {
      end++;
    }
    if (first == 0 && inlineFirst && shift != 0) {
      first = 1;
    }
    if (end <= first) {
      return bytesOnly(offIn, offOut, len);
    }
    List<Range> copies = new ArrayList<>(2);
    long headEnd = first * bs;
    if (headEnd > offIn) {
      copies.add(new Range(offIn, offOut, headEnd - offIn));
    }
    long tailStart = end * bs;
    if (tailStart < endIn) {
      copies.add(new Range(tailStart, tailStart + (offOut - offIn), endIn - tailStart));
    }
    long minSize = tail ? offOut + len : (end + shift) * bs;
    return new CopyPlan(first, first + shift, end - first, minSize, copies);
  }

  static CopyPlan bytesOnly(long offIn, long offOut, long len) {
    return new CopyPlan(0, 0, 0, 0, len > 0 ? List.of(new Range(offIn, offOut, len)) : List.of());
  }
}
