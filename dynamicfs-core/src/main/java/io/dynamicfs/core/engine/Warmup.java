package io.dynamicfs.core.engine;

import io.dynamicfs.core.api.Caller;
import io.dynamicfs.core.api.FileSystem;
import io.dynamicfs.core.api.OpenResult;
import io.dynamicfs.core.api.SetAttr;
import io.dynamicfs.core.format.DataDirectory;
import io.dynamicfs.core.format.FormatOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the engine's request paths on a throwaway filesystem before a daemon serves, so the JIT has compiled
 * them when the first real requests come. A daemon runs C1 only (docs/architecture.md), and in the
 * first second of its first many-file workload compiled code, not the work itself, took most of the CPU:
 * on a fresh 3-node cluster the mount and each node spent 0.2–0.4 s in their compiler threads during the
 * first 2,000 creates (session 23 profile), so the first 1,000 ran at a third of the later rate. A node's
 * metadata apply and a mount's engine share this code with a single-node engine, so one warm-up serves all
 * three: it formats a scratch data directory in a new temporary directory, runs creates, small and whole-block
 * writes, reads, lookups, attribute changes, renames and removals through {@code wrap} (the daemon's own
 * request layers, e.g. its metrics) until the JIT goes quiet or {@code budget} ends, then closes and deletes it.
 * It never touches the daemon's data, and it is best effort: a failure is logged and the daemon starts anyway.
 */
public final class Warmup {
  private static final Logger log = LoggerFactory.getLogger(Warmup.class);
  private static final int O_RDWR = 2;
  private static final int O_RDONLY = 0;
  /** Files per directory before the round removes them (a few directories, so lookups miss and hit). */
  private static final int PER_ROUND = 200;

  private Warmup() {}

  /**
   * Runs the warm-up in a new directory under {@code tmp} until the JIT goes quiet or {@code budget} ends;
   * returns the filesystem calls it made through {@code wrap} (0 if it failed or had no budget).
   */
  public static long run(Path tmp, java.time.Duration budget, UnaryOperator<FileSystem> wrap) {
    return inScratch(tmp, "warm-up", "dynamicfs-warmup-", budget, (scratch, deadline) -> {
      DataDirectory dir = DataDirectory.open(scratch, FormatOptions.DEFAULT);
      try {
        EngineOptions options = EngineOptions.defaults().withIntentLogBytes(4L << 20);
        try (DynamicFileSystem engine = DynamicFileSystem.open(dir, options)) {
          return exercise(wrap.apply(engine), deadline);
        }
      } finally {
        dir.close();
      }
    });
  }

  /** A warm-up's work in its scratch directory until {@code deadline} (System.nanoTime); returns its calls. */
  @FunctionalInterface
  public interface Exercise {
    long run(Path scratch, long deadline) throws IOException;
  }

  /**
   * Runs {@code exercise} in a new directory under {@code tmp} named {@code prefix}…, within {@code budget}, and
   * deletes the directory after; logs {@code what} done (calls, time, the JIT's total) or failed. Best effort:
   * returns the calls made, 0 if it failed or had no budget.
   */
  public static long inScratch(Path tmp, String what, String prefix, java.time.Duration budget, Exercise exercise) {
    if (budget.isNegative() || budget.isZero()) {
      return 0;
    }
    long start = System.nanoTime();
    Path scratch = null;
    long ops = 0;
    try {
      Files.createDirectories(tmp);
      scratch = Files.createTempDirectory(tmp, prefix);
      ops = exercise.run(scratch, start + budget.toNanos());
      log.atInfo().addKeyValue("ops", ops).addKeyValue("ms", (System.nanoTime() - start) / 1_000_000)
          .addKeyValue("jit_total_ms", JitQuiet.totalCompileMillis()).log(what + " done");
    } catch (IOException | RuntimeException e) {
      log.atWarn().addKeyValue("error", String.valueOf(e.getMessage())).log(what + " failed; starting without it");
    } finally {
      if (scratch != null) {
        delete(scratch);
      }
    }
    return ops;
  }

  private static long exercise(FileSystem fs, long deadline) throws IOException {
    byte[] small = new byte[16 << 10];
    byte[] block = new byte[1 << 20];
    ThreadLocalRandom.current().nextBytes(small);
    ThreadLocalRandom.current().nextBytes(block);
    byte[] into = new byte[64 << 10];
    long ops = 0;
    JitQuiet quiet = new JitQuiet(deadline);
    for (int round = 0; !quiet.done(); round++) {
      long d = fs.mkdir(Caller.ROOT, FileSystem.ROOT_INO, "d" + round, 0755).ino();
      ops++;
      for (int i = 0; i < PER_ROUND && !quiet.done(); i++) {
        String name = "f" + i;
        try {
          fs.lookup(d, name); // a miss, as before every create
        } catch (io.dynamicfs.core.api.FsException expected) {
          // ENOENT
        }
        OpenResult r = fs.create(Caller.ROOT, d, name, 0644, O_RDWR);
        small[0] = (byte) i;
        fs.write(r.handle(), 0, small, 0, i % 4 == 0 ? small.length : 100 + i);
        fs.flush(r.handle());
        fs.release(r.handle());
        fs.getattr(r.attr().ino());
        fs.lookup(d, name);
        long h = fs.open(Caller.ROOT, r.attr().ino(), O_RDONLY);
        fs.read(h, 0, into, 0, into.length);
        fs.flush(h);
        fs.release(h);
        ops += 11;
        if (i % 10 == 0) {
          fs.setattr(Caller.ROOT, r.attr().ino(), SetAttr.chmod(0600), 0);
          fs.rename(d, name, d, name + ".r", 0);
          fs.rename(d, name + ".r", d, name, 0);
          ops += 3;
        }
        if (i % 50 == 0) { // whole blocks: hash, compress, store, read back
          OpenResult big = fs.create(Caller.ROOT, d, "b" + i, 0644, O_RDWR);
          block[0] = (byte) (round * PER_ROUND + i);
          fs.write(big.handle(), 0, block, 0, block.length);
          fs.fsync(big.handle(), false);
          fs.read(big.handle(), 4096, into, 0, 4096);
          fs.release(big.handle());
          fs.unlink(d, "b" + i);
          ops += 6;
        }
      }
      for (var e : fs.readdir(d)) {
        if (!e.name().equals(".") && !e.name().equals("..")) {
          fs.unlink(d, e.name());
          ops++;
        }
      }
      fs.rmdir(FileSystem.ROOT_INO, "d" + round);
      ops += 2;
    }
    return ops;
  }

  private static void delete(Path root) {
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.deleteIfExists(p);
        } catch (IOException e) {
          log.atWarn().addKeyValue("path", p).addKeyValue("error", e.getMessage()).log("warm-up could not delete");
        }
      });
    } catch (IOException e) {
      log.atWarn().addKeyValue("path", root).addKeyValue("error", e.getMessage()).log("warm-up could not delete");
    }
  }
}
