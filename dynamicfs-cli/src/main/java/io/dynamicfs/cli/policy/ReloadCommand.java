package io.dynamicfs.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.DaemonCall;
import io.dynamicfs.cli.admin.AdminClient;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.cli.admin.AdminJson;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs policy reload MNT}: the mount reads its rules file again. */
@Command(name = "reload", mixinStandardHelpOptions = true,
    description = {"Make a running mount read its policy rules file again (its --policy-rules, or "
        + "DATA/policy/rules.yaml) and use it from the next plan, explain and executor run on. A file that does "
        + "not validate changes nothing: its line and reason are printed, the rules in force stay, exit code 2. "
        + "Check a file first with 'dynamicfs policy check FILE --mount MNT'. See docs/policy.md."})
public final class ReloadCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "MNT", description = "The mount point.")
  Path mountPoint;

  @Option(names = "--json", description = "Print the daemon's answer as JSON.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    try {
      JsonNode r = AdminClient.forMount(mountPoint).post("/v1/policy/reload", Map.of());
      System.out.print(json ? AdminJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(r) + "\n"
          : String.format(Locale.ROOT, "policy rules reloaded from %s: %d rules (were %d); moves allowed %s; budget %s%n",
              r.path("source").asText(), r.path("rules_after").asInt(), r.path("rules_before").asInt(),
              r.path("schedule").asText(), r.path("budget").asText()));
      return 0;
    } catch (AdminException e) {
      return DaemonCall.fail(e);
    }
  }
}
