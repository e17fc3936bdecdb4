package io.dynamicfs.cli.storage;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.DaemonCall;
import io.dynamicfs.cli.Main;
import io.dynamicfs.cli.ProgressReporter;
import io.dynamicfs.cli.admin.AdminClient;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.cli.admin.AdminJson;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Common shape of the storage commands: a mounted target is served by its daemon (admin API, progress
 * streamed back), an unmounted DATA in this process; errors become one line and an exit code.
 */
abstract class StorageCommand implements Callable<Integer> {
  @Override
  public final Integer call() {
    try {
      return run();
    } catch (FsException e) {
      System.err.println("dynamicfs: " + e.detail());
      return Main.EXIT_USAGE;
    } catch (AdminException e) {
      return DaemonCall.fail(e);
    } catch (IOException e) {
      System.err.println("dynamicfs: " + e.getMessage());
      return 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    }
  }

  abstract int run() throws IOException, AdminException, InterruptedException;

  /** Runs a streaming admin call against a mount with a progress bar; the result as {@code type}. */
  static <T> T online(Target t, String label, String path, Map<String, Object> body, Class<T> type)
      throws IOException, AdminException {
    AdminClient client = AdminClient.forMount(t.mountPoint());
    JsonNode r;
    try (ProgressReporter bar = bar(label)) {
      r = client.stream(path, body, bar);
    }
    return AdminJson.mapper().treeToValue(r, type);
  }

  /** A progress bar for work done in this process. */
  static ProgressReporter bar(String label) {
    return ProgressReporter.create(label, ProgressReporter.Unit.ITEMS);
  }
}
