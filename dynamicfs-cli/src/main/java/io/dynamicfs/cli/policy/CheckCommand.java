package io.dynamicfs.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import io.dynamicfs.cli.DaemonCall;
import io.dynamicfs.cli.Main;
import io.dynamicfs.cli.admin.AdminClient;
import io.dynamicfs.cli.admin.AdminException;
import io.dynamicfs.policy.rules.PolicyRules;
import io.dynamicfs.policy.rules.RulesException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dynamicfs policy check FILE}: validates a rules file offline. */
@Command(name = "check", mixinStandardHelpOptions = true,
    description = {"Validate a policy rules file (YAML) without mounting: every problem is reported with its line "
        + "and the reason, exit code 2; a good file is summarised. Tier names are checked against --tiers or the "
        + "tiers of a running mount (--mount), else only their form. See docs/policy.md for the format."})
public final class CheckCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE", description = "The rules file.")
  Path file;

  @Option(names = "--tiers", paramLabel = "NAME[,NAME...]", split = ",",
      description = "The tier names rules may name (e.g. fast,slow).")
  List<String> tiers;

  @Option(names = "--mount", paramLabel = "MNT", description = "Check tier names against this running mount's tiers.")
  Path mount;

  @Override
  public Integer call() throws Exception {
    if (tiers != null && mount != null) {
      System.err.println("dynamicfs: give --tiers or --mount, not both");
      return Main.EXIT_USAGE;
    }
    List<String> names = tiers;
    if (mount != null) {
      try {
        names = new ArrayList<>();
        for (JsonNode t : AdminClient.forMount(mount).get("/v1/tiers")) {
          names.add(t.path("name").asText());
        }
      } catch (AdminException e) {
        return DaemonCall.fail(e);
      }
      if (names.isEmpty()) {
        names = null; // a cluster mount: the tiers are the nodes'
      }
    }
    PolicyRules r;
    try {
      r = PolicyRules.read(file, names);
    } catch (RulesException e) {
      System.err.println("dynamicfs: " + e.in(file.toString()));
      return Main.EXIT_USAGE;
    }
    System.out.print(render(r, names));
    return 0;
  }

  static String render(PolicyRules r, List<String> tiers) {
    StringBuilder b = new StringBuilder();
    b.append(String.format(Locale.ROOT, "%s: ok, %d %s%n", r.source(), r.rules().size(),
        r.rules().size() == 1 ? "rule" : "rules"));
    for (PolicyRules.Rule x : r.rules()) {
      b.append(String.format(Locale.ROOT, "  %-8s %s (line %d): %s%n", x.kind().hard() ? "hard" : "prefer",
          x.name(), x.line(), x.describe()));
    }
    b.append("  moves allowed ").append(r.schedule().describe()).append('\n');
    b.append("  budget ").append(r.budget().describe()).append('\n');
    r.headroom().forEach((t, h) -> b.append("  headroom ").append(t).append(": keep ").append(h.describe())
        .append(" free\n"));
    r.capacity().forEach((t, c) -> b.append("  capacity ").append(t).append(": hold at most ").append(c.describe())
        .append('\n'));
    b.append(tiers == null ? "  tier names not checked (give --tiers or --mount)\n"
        : "  tier names checked against " + String.join(", ", tiers) + "\n");
    return b.toString();
  }
}
