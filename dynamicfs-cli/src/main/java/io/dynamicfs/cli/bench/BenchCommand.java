package io.dynamicfs.cli.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import io.dynamicfs.cli.SizeConverter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dynamicfs bench DIR}: a quick, built-in benchmark of any directory (a DynamicFS mount, another
 * FUSE filesystem or a local disk), in the spirit of {@code juicefs bench}. For the side-by-side
 * comparisons the project's speed targets are checked with, see scripts/bench.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Benchmark a directory: big-file sequential write (with fsync) and read, small-file write",
        "and read, then create, stat and unlink of many empty files. Works on any directory (a DynamicFS",
        "mount or a plain one); everything it creates goes into a fresh subdirectory that is removed at",
        "the end, also on failure. Reads are made cold-ish by dropping each file's pages from the page",
        "cache (posix_fadvise) first; DynamicFS's own block cache stays warm. Data is random and unique",
        "per 4 KiB, so deduplication and compression cannot flatter the figures, and every byte read is",
        "checked. Exit code: 0 done, 1 a phase failed, 2 bad options or DIR."},
    sortOptions = false)
public final class BenchCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DIR", description = "An existing, writable directory to benchmark.")
  Path dir;

  @Option(names = {"-p", "--threads"}, paramLabel = "N", defaultValue = "1",
      description = "Parallel workers; each works on its own files (default ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--big-file-size", paramLabel = "SIZE", defaultValue = "1G", converter = SizeConverter.class,
      description = "Size of the big file each worker writes and reads back; 0 skips (default ${DEFAULT-VALUE}).")
  long bigFileSize;

  @Option(names = "--io-size", paramLabel = "SIZE", defaultValue = "1M", converter = SizeConverter.class,
      description = "Bytes per read or write call on the big file, a multiple of 4K (default ${DEFAULT-VALUE}).")
  long ioSize;

  @Option(names = "--small-file-size", paramLabel = "SIZE", defaultValue = "128K", converter = SizeConverter.class,
      description = "Size of each small file (default ${DEFAULT-VALUE}).")
  long smallFileSize;

  @Option(names = "--small-files", paramLabel = "N", defaultValue = "100",
      description = "Small files each worker writes and reads back; 0 skips (default ${DEFAULT-VALUE}).")
  int smallFiles;

  @Option(names = "--meta-files", paramLabel = "N", defaultValue = "1000",
      description = "Empty files each worker creates, stats and unlinks; 0 skips (default ${DEFAULT-VALUE}).")
  int metaFiles;

  @Option(names = "--json", description = "Print the results as JSON (for scripts/plot-bench) instead of a table.")
  boolean json;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    BenchSettings settings;
    try {
      settings = new BenchSettings(threads, bigFileSize, Math.toIntExact(ioSize), Math.toIntExact(smallFileSize),
          smallFiles, metaFiles);
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    Path target = dir.toAbsolutePath().normalize();
    if (!Files.isDirectory(target)) {
      throw new CommandLine.ParameterException(spec.commandLine(), target + " is not a directory");
    }
    if (!Files.isWritable(target)) {
      throw new CommandLine.ParameterException(spec.commandLine(), target + " is not writable");
    }
    BenchReport report;
    var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    double loadBefore = os.getSystemLoadAverage();
    try (Workload w = Workload.create(target, settings, System.nanoTime())) {
      List<PhaseResult> phases = w.run();
      report = new BenchReport(target, fsType(target), settings, w.eviction(), loadBefore,
          os.getSystemLoadAverage(), phases);
    } catch (IOException | RuntimeException e) {
      err.println("dynamicfs: bench failed: " + e.getMessage());
      err.flush();
      return 1;
    }
    out.println(json ? report.json() : report.table());
    out.flush();
    return 0;
  }

  private static String fsType(Path p) {
    try {
      return Files.getFileStore(p).type();
    } catch (IOException e) {
      return "unknown";
    }
  }
}
