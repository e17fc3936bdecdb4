package io.dynamicfs.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * docs/configuration.md is generated from picocli's model of the command line, so it cannot drift: this test
 * fails when the committed file differs from what the code says. Regenerate with scripts/gen-config-docs
 * (which runs this test with DFS_WRITE_DOCS=1). Also checks that --help explains every command and option.
 */
class ConfigurationReferenceTest {
  private static final Path DOC = repo().resolve("docs/configuration.md");

  private static Path repo() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("docs"))) {
      p = p.getParent();
    }
    return p;
  }

  static String generate() {
    CommandLine root = Main.commandLine();
    StringBuilder sb = new StringBuilder();
    sb.append("# Configuration reference\n\n")
        .append("Every command and option of `dynamicfs`, generated from the code's picocli model by\n")
        .append("`ConfigurationReferenceTest` (dynamicfs-cli/src/test): do not edit by hand, run\n")
        .append("`scripts/gen-config-docs`. The same text, per command, is `dynamicfs COMMAND --help`.\n")
        .append("Sizes take K, M, G, T suffixes (binary: 1K = 1024). Bad input of any kind gets a one-line\n")
        .append("error and exit code 2. Mount options for `mount -t fuse.dynamicfs` and /etc/fstab are the\n")
        .append("long options below written with `_` (e.g. `cache_memory=512M`): see docs/operations.md.\n\n");
    section(sb, root);
    return sb.toString();
  }

  private static void section(StringBuilder sb, CommandLine cl) {
    CommandSpec spec = cl.getCommandSpec();
    String name = spec.qualifiedName();
    sb.append("## `").append(name).append("`").append(spec.usageMessage().hidden() ? " (hidden)" : "")
        .append("\n\n");
    // picocli writes %n for a line break in descriptions
    sb.append(String.join("\n", spec.usageMessage().description()).replace("%n", "\n").strip()).append('\n');
    sb.append("\n```\n").append(synopsis(cl)).append("\n```\n\n");
    List<String[]> rows = new ArrayList<>();
    for (PositionalParamSpec p : spec.positionalParameters()) {
      if (!p.hidden()) {
        rows.add(new String[] {"`" + p.paramLabel() + "`", "", "", text(p)});
      }
    }
    for (OptionSpec o : spec.options()) {
      if (!o.hidden()) {
        String label = o.typeInfo().isBoolean() || o.arity().max() == 0 ? "" : "`" + o.paramLabel() + "`";
        String def = o.defaultValue() == null ? "" : "`" + o.defaultValue() + "`";
        rows.add(new String[] {"`" + String.join("`, `", o.names()) + "`", label, def, text(o)});
      }
    }
    if (!rows.isEmpty()) {
      sb.append("| parameter / option | value | default | meaning |\n|---|---|---|---|\n");
      for (String[] r : rows) {
        sb.append("| ").append(String.join(" | ", r)).append(" |\n");
      }
      sb.append('\n');
    }
    for (CommandLine sub : cl.getSubcommands().values().stream().distinct().toList()) {
      section(sb, sub);
    }
  }

  private static String synopsis(CommandLine cl) {
    String s = cl.getHelp().synopsis(0).trim();
    return s.startsWith("Usage: ") ? s.substring("Usage: ".length()) : s;
  }

  private static String text(ArgSpec a) {
    return String.join(" ", a.renderedDescription()).replace("%n", " ").replace("|", "\\|").trim();
  }

  @Test
  void configurationReference_matchesTheCode() throws Exception {
    String expected = generate();
    if ("1".equals(System.getenv("DFS_WRITE_DOCS"))) {
      Files.writeString(DOC, expected, StandardCharsets.UTF_8);
    }
    assertTrue(Files.exists(DOC), DOC + " missing: run scripts/gen-config-docs");
    assertEquals(expected, Files.readString(DOC, StandardCharsets.UTF_8),
        "docs/configuration.md is out of date with the command line: run scripts/gen-config-docs and commit it");
  }

  @Test
  void help_explainsEveryCommandParameterAndOption() {
    List<String> missing = new ArrayList<>();
    check(Main.commandLine(), missing);
    assertEquals(List.of(), missing, "every command, parameter and option needs a --help description");
  }

  private static void check(CommandLine cl, List<String> missing) {
    CommandSpec spec = cl.getCommandSpec();
    if (String.join("", spec.usageMessage().description()).isBlank()) {
      missing.add(spec.qualifiedName());
    }
    for (ArgSpec a : spec.args()) {
      if (!a.hidden() && String.join("", a.description()).isBlank()) {
        missing.add(spec.qualifiedName() + " " + (a instanceof OptionSpec o ? o.longestName() : a.paramLabel()));
      }
    }
    cl.getSubcommands().values().stream().distinct().forEach(sub -> check(sub, missing));
  }

  @Test
  void configurationReference_namesEveryVisibleOption() throws Exception {
    String doc = Files.readString(DOC, StandardCharsets.UTF_8);
    for (CommandLine sub : Main.commandLine().getSubcommands().values()) {
      assertTrue(doc.contains("## `" + sub.getCommandSpec().qualifiedName() + "`"), sub.getCommandName());
      for (OptionSpec o : sub.getCommandSpec().options()) {
        assertFalse(!o.hidden() && !doc.contains("`" + o.longestName() + "`"), o.longestName() + " not documented");
      }
    }
  }
}
