package io.dynamicfs.cli;

import java.nio.file.Path;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** What cluster-init and cluster-join share: attached or in the background, logs, the ready file. */
final class NodeOptions {
  @Option(names = {"-f", "--foreground"}, description = "Stay attached; log to stderr as well.")
  boolean foreground;

  @Mixin
  OperationsOptions ops = new OperationsOptions();

  @Option(names = "--ready-file", hidden = true, description = "Where a background child reports readiness.")
  Path readyFile;
}
