package io.dynamicfs.cli.storage;

import io.dynamicfs.cli.Main;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.util.concurrent.Callable;

/** Common shape of the storage commands: resolve the target, run online or offline, map errors to exit codes. */
abstract class StorageCommand implements Callable<Integer> {
  @Override
  public final Integer call() {
    try {
      return run();
    } catch (FsException e) {
      System.err.println("dynamicfs: " + plain(e));
      return Main.EXIT_USAGE;
    } catch (IOException e) {
      System.err.println("dynamicfs: " + e.getMessage());
      return 1;
    }
  }

  abstract int run() throws IOException;

  static String plain(FsException e) {
    String m = String.valueOf(e.getMessage());
    int colon = m.indexOf(": ");
    return colon > 0 && colon < 14 ? m.substring(colon + 2) : m;
  }

  /** Until the daemon's admin API serves this command, a mounted target is refused with a clear message. */
  static FsException needsOffline(Target t, String what) {
    return FsException.of(io.dynamicfs.core.api.Errno.EBUSY,
        "%s is mounted at %s; %s of a mounted filesystem goes through its daemon", t.data(), t.mountPoint(), what);
  }
}
