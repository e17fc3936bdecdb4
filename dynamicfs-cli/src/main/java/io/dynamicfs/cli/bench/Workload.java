package io.dynamicfs.cli.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The benchmark's files and phases in one work directory under the target, removed by {@link #close}.
 *
 * <p>Each thread owns {@code t<N>/} and runs every phase on its own files, all threads starting together;
 * a phase's wall time runs from that start until the last thread finishes. Phases, in order:
 * <ol>
 *   <li>big-write: one file of {@code bigFileSize} per thread in {@code ioSize} writes, then fsync (the
 *       fsync counts in the wall time, not in the per-write latency);
 *   <li>big-read: the same file read back after its pages were dropped from the page cache;
 *   <li>small-write / small-read: {@code smallFiles} files per thread, one operation = one whole file
 *       (create+write+close, open+read+close), pages dropped before reading;
 *   <li>create / stat / unlink: {@code metaFiles} empty files per thread, one syscall each.
 * </ol>
 * Data is random, and every 4 KiB carries a stamp unique to its thread, file and offset, so neither
 * deduplication nor compression can shrink it; reads check the stamps and fail the run on wrong data.
 */
final class Workload implements AutoCloseable {
  private static final int STAMP_EVERY = 4096;

  private final Path work;
  private final BenchSettings settings;
  private final PageCache pageCache;
  private final ExecutorService pool;
  private final long nonce;
  private boolean evictionFailed;
  private final Thread cleanup = new Thread(this::removeOnShutdown, "bench-cleanup");

  private Workload(Path work, BenchSettings settings, PageCache pageCache, long nonce) {
    this.work = work;
    this.settings = settings;
    this.pageCache = pageCache;
    this.nonce = nonce;
    this.pool = Executors.newFixedThreadPool(settings.threads(), r -> {
      Thread t = new Thread(r, "bench");
      t.setDaemon(true);
      return t;
    });
  }

  /**
   * A fresh work directory under {@code dir}, with one subdirectory per thread. Until {@link #close}, a
   * shutdown hook removes it if the JVM is stopped mid-run (Ctrl-C, SIGTERM).
   */
  static Workload create(Path dir, BenchSettings settings, long seed) throws IOException {
    PageCache pageCache = PageCache.open(); // slow to load: before anything exists that needs removing
    Workload w = new Workload(Files.createTempDirectory(dir, "dynamicfs-bench-"), settings, pageCache, seed);
    Runtime.getRuntime().addShutdownHook(w.cleanup);
    try {
      for (int t = 0; t < settings.threads(); t++) {
        Files.createDirectory(w.threadDir(t));
      }
    } catch (IOException e) {
      w.close();
      throw e;
    }
    return w;
  }

  Path workDir() {
    return work;
  }

  /** How reads were made cold: "posix_fadvise" or "none" (page cache kept). */
  String eviction() {
    return pageCache == null || evictionFailed ? "none" : "posix_fadvise";
  }

  List<PhaseResult> run() throws IOException {
    List<PhaseResult> results = new ArrayList<>();
    long blocks = (settings.bigFileSize() + settings.ioSize() - 1) / settings.ioSize();
    if (blocks > 0) {
      results.add(phase("big-write", blocks, this::bigWrite));
      evict(t -> List.of(bigFile(t)));
      results.add(phase("big-read", blocks, this::bigRead));
    }
    if (settings.smallFiles() > 0) {
      results.add(phase("small-write", settings.smallFiles(), this::smallWrite));
      evict(t -> smallFilesOf(t));
      results.add(phase("small-read", settings.smallFiles(), this::smallRead));
      for (int t = 0; t < settings.threads(); t++) {
        for (Path p : smallFilesOf(t)) {
          Files.delete(p);
        }
      }
    }
    if (settings.metaFiles() > 0) {
      results.add(phase("create", settings.metaFiles(), this::create));
      results.add(phase("stat", settings.metaFiles(), this::stat));
      results.add(phase("unlink", settings.metaFiles(), this::unlink));
    }
    return results;
  }

  /** One thread's share of a phase: fills {@code latency} (one slot per operation), returns bytes moved. */
  @FunctionalInterface
  private interface Task {
    long run(int thread, long[] latency) throws IOException;
  }

  private PhaseResult phase(String name, long opsPerThread, Task task) throws IOException {
    int threads = settings.threads();
    long[][] latencies = new long[threads][Math.toIntExact(opsPerThread)];
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Long>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      futures.add(pool.submit(() -> {
        go.await();
        return task.run(thread, latencies[thread]);
      }));
    }
    long start = System.nanoTime();
    go.countDown();
    long bytes = 0;
    try {
      for (Future<Long> f : futures) {
        bytes += f.get();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted during " + name, e);
    } catch (ExecutionException e) {
      for (Future<Long> f : futures) {
        f.cancel(true);
      }
      Throwable cause = e.getCause();
      throw cause instanceof IOException io ? io : new IOException(name + " failed: " + cause, cause);
    }
    long wall = System.nanoTime() - start;
    long[] all = new long[Math.toIntExact(opsPerThread * threads)];
    for (int t = 0; t < threads; t++) {
      System.arraycopy(latencies[t], 0, all, t * latencies[t].length, latencies[t].length);
    }
    return new PhaseResult(name, all.length, bytes, wall, all);
  }

  private long bigWrite(int thread, long[] latency) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(randomBytes(thread, settings.ioSize()));
    long written = 0;
    try (FileChannel ch = FileChannel.open(bigFile(thread), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE)) {
      for (int b = 0; b < latency.length; b++) {
        int len = (int) Math.min(settings.ioSize(), settings.bigFileSize() - written);
        stamp(buf.array(), len, thread, -1, written);
        buf.clear().limit(len);
        long t0 = System.nanoTime();
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        latency[b] = System.nanoTime() - t0;
        written += len;
      }
      ch.force(true);
    }
    return written;
  }

  private long bigRead(int thread, long[] latency) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(settings.ioSize());
    long read = 0;
    try (FileChannel ch = FileChannel.open(bigFile(thread), StandardOpenOption.READ)) {
      for (int b = 0; b < latency.length; b++) {
        int len = (int) Math.min(settings.ioSize(), settings.bigFileSize() - read);
        buf.clear().limit(len);
        long t0 = System.nanoTime();
        while (buf.hasRemaining()) {
          if (ch.read(buf) < 0) {
            throw new IOException(bigFile(thread) + " is shorter than written: " + (read + buf.position()));
          }
        }
        latency[b] = System.nanoTime() - t0;
        check(buf.array(), len, thread, -1, read, bigFile(thread));
        read += len;
      }
    }
    return read;
  }

  private long smallWrite(int thread, long[] latency) throws IOException {
    byte[] data = randomBytes(thread + 1000, settings.smallFileSize());
    for (int i = 0; i < latency.length; i++) {
      stamp(data, data.length, thread, i, 0);
      long t0 = System.nanoTime();
      Files.write(smallFile(thread, i), data, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      latency[i] = System.nanoTime() - t0;
    }
    return (long) data.length * latency.length;
  }

  private long smallRead(int thread, long[] latency) throws IOException {
    long bytes = 0;
    for (int i = 0; i < latency.length; i++) {
      Path p = smallFile(thread, i);
      long t0 = System.nanoTime();
      byte[] data = Files.readAllBytes(p);
      latency[i] = System.nanoTime() - t0;
      if (data.length != settings.smallFileSize()) {
        throw new IOException(p + " read back " + data.length + " bytes, wrote " + settings.smallFileSize());
      }
      check(data, data.length, thread, i, 0, p);
      bytes += data.length;
    }
    return bytes;
  }

  private long create(int thread, long[] latency) throws IOException {
    for (int i = 0; i < latency.length; i++) {
      Path p = metaFile(thread, i);
      long t0 = System.nanoTime();
      Files.createFile(p);
      latency[i] = System.nanoTime() - t0;
    }
    return 0;
  }

  private long stat(int thread, long[] latency) throws IOException {
    for (int i = 0; i < latency.length; i++) {
      Path p = metaFile(thread, i);
      long t0 = System.nanoTime();
      BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
      latency[i] = System.nanoTime() - t0;
      if (!a.isRegularFile() || a.size() != 0) {
        throw new IOException(p + " should be an empty regular file");
      }
    }
    return 0;
  }

  private long unlink(int thread, long[] latency) throws IOException {
    for (int i = 0; i < latency.length; i++) {
      Path p = metaFile(thread, i);
      long t0 = System.nanoTime();
      Files.delete(p);
      latency[i] = System.nanoTime() - t0;
    }
    return 0;
  }

  @FunctionalInterface
  private interface FilesOf {
    List<Path> of(int thread) throws IOException;
  }

  private void evict(FilesOf files) throws IOException {
    if (pageCache == null) {
      return;
    }
    for (int t = 0; t < settings.threads(); t++) {
      for (Path p : files.of(t)) {
        if (!pageCache.evict(p)) {
          evictionFailed = true;
        }
      }
    }
  }

  private Path threadDir(int t) {
    return work.resolve("t" + t);
  }

  private Path bigFile(int t) {
    return threadDir(t).resolve("big");
  }

  private Path smallFile(int t, int i) {
    return threadDir(t).resolve("small-" + i);
  }

  private List<Path> smallFilesOf(int t) {
    List<Path> l = new ArrayList<>();
    for (int i = 0; i < settings.smallFiles(); i++) {
      l.add(smallFile(t, i));
    }
    return l;
  }

  private Path metaFile(int t, int i) {
    return threadDir(t).resolve("meta-" + i);
  }

  private byte[] randomBytes(int stream, int size) {
    byte[] b = new byte[size];
    new SplittableRandom(nonce * 31 + stream).nextBytes(b);
    return b;
  }

  /** The value stamped at {@code offset} of file {@code file} (-1 = the big file) of {@code thread}. */
  private long stampValue(int thread, int file, long offset) {
    long h = nonce ^ (thread * 0x9E3779B97F4A7C15L) ^ (file * 0xC2B2AE3D27D4EB4FL) ^ (offset * 0x165667B19E3779F9L);
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    return h ^ (h >>> 33);
  }

  private void stamp(byte[] buf, int len, int thread, int file, long fileOffset) {
    for (int i = 0; i + Long.BYTES <= len; i += STAMP_EVERY) {
      putLong(buf, i, stampValue(thread, file, fileOffset + i));
    }
  }

  private void check(byte[] buf, int len, int thread, int file, long fileOffset, Path p) throws IOException {
    for (int i = 0; i + Long.BYTES <= len; i += STAMP_EVERY) {
      if (getLong(buf, i) != stampValue(thread, file, fileOffset + i)) {
        throw new IOException(p + " read back wrong data at offset " + (fileOffset + i));
      }
    }
  }

  private static void putLong(byte[] b, int off, long v) {
    for (int i = 0; i < Long.BYTES; i++) {
      b[off + i] = (byte) (v >>> (8 * i));
    }
  }

  private static long getLong(byte[] b, int off) {
    long v = 0;
    for (int i = 0; i < Long.BYTES; i++) {
      v |= (b[off + i] & 0xffL) << (8 * i);
    }
    return v;
  }

  private void removeOnShutdown() {
    try {
      delete();
    } catch (IOException e) {
      System.err.println("dynamicfs: bench could not remove " + work + ": " + e.getMessage());
    }
  }

  /** Stops the workers and deletes the work directory and everything in it. */
  @Override
  public void close() throws IOException {
    try {
      Runtime.getRuntime().removeShutdownHook(cleanup);
    } catch (IllegalStateException e) {
      return; // the JVM is shutting down: the hook is doing it
    }
    delete();
  }

  private synchronized void delete() throws IOException {
    pool.shutdownNow();
    try {
      pool.awaitTermination(30, java.util.concurrent.TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!Files.exists(work)) {
      return;
    }
    Files.walkFileTree(work, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        Files.delete(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
