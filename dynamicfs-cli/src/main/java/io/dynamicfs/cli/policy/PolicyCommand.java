package io.dynamicfs.cli.policy;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code dynamicfs policy …}: the policy engine's commands. */
@Command(name = "policy", mixinStandardHelpOptions = true,
    description = "The policy engine: what a mount's engine sees and decides, and placement policies evaluated on "
        + "access traces.",
    subcommands = {PolicyStatusCommand.class, ExplainCommand.class, PlanCommand.class, SimulateCommand.class,
        ApplyCommand.class, ReloadCommand.class, RecordCommand.class, CheckCommand.class, EvaluateCommand.class})
public final class PolicyCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (status, explain, plan, simulate, apply, check, evaluate)");
  }
}
