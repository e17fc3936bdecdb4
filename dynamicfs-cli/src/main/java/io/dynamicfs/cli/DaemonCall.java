package io.dynamicfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.admin.AdminClient;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.cli.admin.AdminJson;
import java.io.IOException;
import java.nio.file.Path;

/**
 * How a command talks to a mount's daemon: find it from the mount point, run the action, and turn a
 * failure into one line on stderr — exit 2 when the daemon cannot be found or refuses the request as
 * bad input (4xx), 1 when the operation itself failed (5xx).
 */
public final class DaemonCall {
  /** What a command does with the daemon; answers its exit code. */
  @FunctionalInterface
  public interface Action {
    int run(AdminClient client) throws AdminException, IOException, InterruptedException;
  }

  private DaemonCall() {}

  public static int run(Path mnt, Action action) throws IOException, InterruptedException {
    try {
      return action.run(AdminClient.forMount(mnt));
    } catch (AdminException e) {
      return fail(e);
    }
  }

  /** Prints the daemon's answer {@code r}: as indented JSON when {@code json}, else {@code text}'s rendering. */
  public static void print(JsonNode r, boolean json, java.util.function.Function<JsonNode, String> text)
      throws IOException {
    System.out.print(json ? AdminJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(r) + "\n"
        : text.apply(r));
  }

  public static int fail(AdminException e) {
    System.err.println("dynamicfs: " + e.getMessage());
    return e.status() == 0 || e.status() < 500 ? Main.EXIT_USAGE : 1;
  }
}
