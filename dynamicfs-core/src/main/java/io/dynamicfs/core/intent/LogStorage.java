package io.dynamicfs.core.intent;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.SortedSet;

/**
 * Where the intent log keeps its numbered files: a directory ({@link DirectoryLogStorage}), or a test's
 * wrapper that forgets what was not synced. Appends go to the end of a file; {@link #sync} makes a file's
 * bytes durable; {@link #create} makes the new file's directory entry durable before it returns.
 */
public interface LogStorage extends Closeable {
  /** The numbers of the files present. */
  SortedSet<Integer> list() throws IOException;

  /** Creates an empty file (and syncs the directory entry). */
  void create(int file) throws IOException;

  /** Appends {@code data} at the end of {@code file}. */
  void append(int file, ByteBuffer data) throws IOException;

  /** Makes every byte appended to {@code file} so far durable. */
  void sync(int file) throws IOException;

  /** Reads up to {@code dst.remaining()} bytes at {@code pos}; returns the count (-1 at the end). */
  int read(int file, long pos, ByteBuffer dst) throws IOException;

  long size(int file) throws IOException;

  void delete(int file) throws IOException;
}
