package io.dynamicfs.cli.policy;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code dynamicfs policy …}: the policy engine's commands (so far {@code evaluate}). */
@Command(name = "policy", mixinStandardHelpOptions = true,
    description = "The policy engine: evaluate placement policies on access traces.",
    subcommands = {EvaluateCommand.class})
public final class PolicyCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (evaluate)");
  }
}
