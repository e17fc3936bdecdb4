package io.dynamicfs.cli;

import io.dynamicfs.fuse.FuseMount;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs umount MNT}: unmounts and waits until the daemon has flushed and released DATA. */
@Command(name = "umount", aliases = "unmount", mixinStandardHelpOptions = true,
    description = "Unmount a DynamicFS and wait until its daemon has flushed everything and exited.")
final class UmountCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MNT", description = "The mount point.")
  Path mountPoint;

  @Override
  public Integer call() throws Exception {
    Path mp = mountPoint.toAbsolutePath().normalize();
    if (!FuseMount.isMounted(mp)) {
      System.err.println("dynamicfs: " + mp + " is not mounted");
      return Main.EXIT_USAGE;
    }
    Path data = dataOf(mp);
    String lastError = "";
    for (List<String> cmd : List.of(List.of("fusermount", "-u", mp.toString()),
        List.of("fusermount3", "-u", mp.toString()), List.of("umount", mp.toString()))) {
      try {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        if (p.waitFor() == 0) {
          lastError = "";
          break;
        }
        lastError = out;
      } catch (java.io.IOException e) {
        // tool not installed; try the next
      }
    }
    if (FuseMount.isMounted(mp)) {
      System.err.println("dynamicfs: cannot unmount " + mp + (lastError.isEmpty() ? "" : ": " + lastError));
      return 1;
    }
    if (data != null && !awaitLockRelease(data.resolve("lock"), 120_000)) {
      System.err.println("dynamicfs: unmounted, but the daemon still holds " + data + " after 120 s");
      return 1;
    }
    return 0;
  }

  /** DATA from the mount's fsname ("dynamicfs:/path"), or null. */
  private static Path dataOf(Path mp) throws java.io.IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/mounts"), StandardCharsets.UTF_8)) {
      String[] f = line.split(" ");
      if (f.length > 2 && f[1].replace("\\040", " ").equals(mp.toString()) && f[0].startsWith("dynamicfs:")) {
        return Path.of(f[0].substring("dynamicfs:".length()).replace("\\040", " "));
      }
    }
    return null;
  }

  private static boolean awaitLockRelease(Path lock, long timeoutMs) throws Exception {
    if (!Files.exists(lock)) {
      return true;
    }
    long deadline = System.currentTimeMillis() + timeoutMs;
    try (FileChannel ch = FileChannel.open(lock, StandardOpenOption.WRITE)) {
      while (System.currentTimeMillis() < deadline) {
        FileLock l = ch.tryLock();
        if (l != null) {
          l.release();
          return true;
        }
        Thread.sleep(100);
      }
    }
    return false;
  }
}
