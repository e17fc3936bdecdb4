package io.dynamicfs.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.admin.AdminClient;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.cli.admin.DynamicFsMounts;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs warmup PATH...}: pulls files into the mount's caches. */
@Command(name = "warmup", mixinStandardHelpOptions = true,
    description = {"Pull files into the caches of the DynamicFS they live on.",
        "So that the first reads are fast. A directory means every file under it. Each block is read and "
            + "verified by the daemon; a progress bar shows the bytes done (plain progress lines when not on a "
            + "terminal)."})
final class WarmupCommand implements Callable<Integer> {
  @Parameters(arity = "1..*", paramLabel = "PATH", description = "Files or directories on a mounted DynamicFS.")
  List<Path> paths;

  @Override
  public Integer call() throws Exception {
    Map<DynamicFsMounts.Mount, List<String>> byMount = new LinkedHashMap<>();
    for (Path p : paths) {
      Path real;
      try {
        real = p.toRealPath();
      } catch (IOException e) {
        System.err.println("dynamicfs: " + p + " does not exist");
        return Main.EXIT_USAGE;
      }
      Optional<DynamicFsMounts.Mount> m = DynamicFsMounts.containing(real);
      if (m.isEmpty()) {
        System.err.println("dynamicfs: " + p + " is not on a mounted DynamicFS");
        return Main.EXIT_USAGE;
      }
      byMount.computeIfAbsent(m.get(), k -> new ArrayList<>()).add(m.get().mountPoint().relativize(real)
          .toString());
    }
    for (Map.Entry<DynamicFsMounts.Mount, List<String>> e : byMount.entrySet()) {
      JsonNode r;
      try (ProgressReporter bar = ProgressReporter.create("warmup", ProgressReporter.Unit.BYTES)) {
        AdminClient client = AdminClient.forData(e.getKey().data());
        r = client.stream("/v1/warmup", Map.of("paths", e.getValue()), bar);
      } catch (AdminException ex) {
        return DaemonCall.fail(ex);
      }
      System.out.printf(Locale.ROOT, "warmup: %d files, %d blocks, %s read into the caches of %s%n",
          r.path("files").asLong(), r.path("blocks").asLong(), ProgressReporter.bytes(r.path("bytes").asLong()),
          e.getKey().mountPoint());
    }
    return 0;
  }

}
