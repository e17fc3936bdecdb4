package io.dynamicfs.cli.policy;

import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The arguments of a policy command that asks a running mount: its mount point, and JSON or text. */
final class OnMount {
  @Parameters(index = "0", paramLabel = "MNT", description = "The mount point.")
  Path mountPoint;

  @Option(names = "--json", description = "Print the daemon's answer as JSON.")
  boolean json;

  /** The mount point as the text output names it. */
  String shown() {
    return mountPoint.toAbsolutePath().normalize().toString();
  }
}
