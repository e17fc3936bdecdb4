package io.dynamicfs.cli.policy;

import io.dynamicfs.cli.DaemonCall;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code dynamicfs policy reload MNT}: the mount reads its rules file again. */
@Command(name = "reload", mixinStandardHelpOptions = true,
    description = {"Make a running mount read its policy rules file again (its --policy-rules, or "
        + "DATA/policy/rules.yaml) and use it from the next plan, explain and executor run on. A file that does "
        + "not validate changes nothing: its line and reason are printed, the rules in force stay, exit code 2. "
        + "Check a file first with 'dynamicfs policy check FILE --mount MNT'. See docs/policy.md."})
public final class ReloadCommand implements Callable<Integer> {
  @Mixin
  OnMount mount;

  @Override
  public Integer call() throws Exception {
    return DaemonCall.run(mount.mountPoint, c -> {
      DaemonCall.print(c.post("/v1/policy/reload", Map.of()), mount.json, r -> String.format(Locale.ROOT,
          "policy rules reloaded from %s: %d rules (were %d); moves allowed %s; budget %s%n", r.path("source").asText(),
          r.path("rules_after").asInt(), r.path("rules_before").asInt(), r.path("schedule").asText(),
          r.path("budget").asText()));
      return 0;
    });
  }
}
