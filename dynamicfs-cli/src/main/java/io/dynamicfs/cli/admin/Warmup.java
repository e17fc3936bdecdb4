package io.dynamicfs.cli.admin;

import io.dynamicfs.core.api.Attr;
import io.dynamicfs.core.api.DirEntry;
import io.dynamicfs.core.api.FileType;
import io.dynamicfs.core.api.ProgressListener;
import io.dynamicfs.core.engine.DynamicFileSystem;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Pulls the blocks of files into the caches: each path (relative to the mount root; a directory means
 * every file under it) is walked, then every stored block of every regular file is read through the
 * engine's (cached) block store, which verifies it on the way. Inline small files live in the metadata
 * and need no warming. Progress is in bytes.
 */
final class Warmup {

  /** What was warmed. */
  record Result(long files, long blocks, long bytes, long inlineFiles) {}

  private final DynamicFileSystem fs;

  Warmup(DynamicFileSystem fs) {
    this.fs = fs;
  }

  Result run(List<String> paths, ProgressListener progress) throws IOException {
    List<long[]> files = new ArrayList<>();
    long sum = 0;
    for (String p : paths) {
      sum += collect(fs.resolve(p), files);
    }
    long total = sum;
    progress.progress("warm", 0, total);
    long[] done = {0};
    long blocks = 0;
    long inline = 0;
    for (long[] f : files) {
      long read = fs.warm(f[0], bytes -> {
        done[0] += bytes;
        progress.progress("warm", done[0], total);
      });
      blocks += read;
      if (read == 0) {
        inline++;
      }
    }
    progress.progress("warm", total, total);
    return new Result(files.size(), blocks, done[0], inline);
  }

  /** Adds the regular files at or under {@code ino} to {@code out}; returns the sum of their sizes. */
  private long collect(long ino, List<long[]> out) throws IOException {
    long bytes = 0;
    Deque<Long> todo = new ArrayDeque<>();
    todo.push(ino);
    while (!todo.isEmpty()) {
      long i = todo.pop();
      Attr a = fs.getattr(i);
      if (a.isDirectory()) {
        for (DirEntry e : fs.readdir(i)) {
          if (e.type() == FileType.DIRECTORY || e.type() == FileType.REGULAR) {
            todo.push(e.ino());
          }
        }
      } else if (a.type() == FileType.REGULAR) {
        out.add(new long[] {i, a.size()});
        bytes += a.size();
      }
    }
    return bytes;
  }
}
