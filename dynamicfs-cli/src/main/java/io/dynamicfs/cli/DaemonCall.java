package io.dynamicfs.cli;

import io.dynamicfs.cli.admin.AdminClient;
import io.dynamicfs.cli.admin.AdminException;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How a command talks to a mount's daemon: find it from the mount point, run the action, and turn a
 * failure into one line on stderr — exit 2 when the daemon cannot be found or refuses the request as
 * bad input (4xx), 1 when the operation itself failed (5xx).
 */
public final class DaemonCall {
  @FunctionalInterface
  interface Action {
    int run(AdminClient client) throws AdminException, IOException, InterruptedException;
  }

  private DaemonCall() {}

  static int run(Path mnt, Action action) throws IOException, InterruptedException {
    try {
      return action.run(AdminClient.forMount(mnt));
    } catch (AdminException e) {
      return fail(e);
    }
  }

  public static int fail(AdminException e) {
    System.err.println("dynamicfs: " + e.getMessage());
    return e.status() == 0 || e.status() < 500 ? Main.EXIT_USAGE : 1;
  }
}
