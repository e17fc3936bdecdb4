package io.dynamicfs.cli;

import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.check.Fsck;
import io.dynamicfs.core.format.DataDirectory;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs fsck DATA}: checks an unmounted filesystem and reports each problem by path. */
@Command(name = "fsck", mixinStandardHelpOptions = true,
    description = {"Check an unmounted DynamicFS: link counts, directory entries, block references and",
        "reference counts, and (unless --fast) every stored record's checksum and content hash.",
        "Exit code: 0 clean (warnings allowed), 1 errors found, 2 cannot check."})
final class FsckCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "DATA", description = "The data directory (must not be mounted).")
  Path data;

  @Option(names = "--fast", description = "Skip reading and verifying block contents.")
  boolean fast;

  @Option(names = {"-q", "--quiet"}, description = "Print only problems and the summary.")
  boolean quiet;

  @Override
  public Integer call() throws Exception {
    try (DataDirectory dir = DataDirectory.open(data, null)) {
      Fsck.Report r = Fsck.checkOffline(dir, !fast, step -> {
        if (!quiet) {
          System.out.println("fsck: " + step);
        }
      });
      for (Fsck.Problem p : r.problems()) {
        System.out.println(p);
      }
      boolean clean = r.clean();
      System.out.printf("fsck: %s — %d inodes (%d directories), %d blocks, %d bytes verified, %d errors, %d warnings%n",
          clean ? "clean" : "ERRORS FOUND", r.inodes(), r.directories(), r.blocks(), r.bytesVerified(),
          r.errors(), r.problems().size() - r.errors());
      return clean ? 0 : 1;
    } catch (FsException e) {
      System.err.println("dynamicfs: " + MountCommand.plain(e));
      return Main.EXIT_USAGE;
    }
  }
}
