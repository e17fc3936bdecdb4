package io.dynamicfs.cli;

import io.dynamicfs.cli.bench.BenchCommand;
import io.dynamicfs.cli.policy.PolicyCommand;
import io.dynamicfs.cli.storage.RebuildCommand;
import io.dynamicfs.cli.storage.ScrubCommand;
import io.dynamicfs.cli.storage.TierCommand;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code dynamicfs} command. */
@Command(name = "dynamicfs", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
    description = "A deduplicating, compressing, checksumming FUSE filesystem.",
    subcommands = {MountCommand.class, UmountCommand.class, FsckCommand.class, StatusCommand.class,
        StatsCommand.class, WarmupCommand.class, GcCommand.class, ScrubCommand.class, TierCommand.class,
        RebuildCommand.class, BenchCommand.class, ClusterInitCommand.class, ClusterJoinCommand.class,
        ClusterCommand.class, PolicyCommand.class, AutoComplete.GenerateCompletion.class, CommandLine.HelpCommand.class})
public final class Main implements Runnable {
  /** Exit code for bad usage, a bad option or input that cannot be used. */
  public static final int EXIT_USAGE = 2;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required (mount, umount, fsck, status, stats, warmup, gc)");
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    // `dynamicfs generate-completion` prints the bash/zsh completion script; not a command people need listed.
    cl.getSubcommands().get("generate-completion").getCommandSpec().usageMessage().hidden(true);
    cl.setCaseInsensitiveEnumValuesAllowed(true);
    cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      cmd.getErr().println("dynamicfs: " + ex.getMessage());
      return EXIT_USAGE;
    });
    cl.setParameterExceptionHandler((ex, args) -> {
      ex.getCommandLine().getErr().println("dynamicfs: " + ex.getMessage());
      ex.getCommandLine().getErr().println("Try 'dynamicfs " + ex.getCommandLine().getCommandName()
          + " --help' for more information.");
      return EXIT_USAGE;
    });
    return cl;
  }
}
