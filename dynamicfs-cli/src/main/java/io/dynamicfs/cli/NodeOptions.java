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

  @Option(names = "--dead-node-after", paramLabel = "SECONDS", defaultValue = "600",
      description = "While this node leads: a node unreachable this long counts as dead and its blocks are copied "
          + "to the others (default ${DEFAULT-VALUE}).")
  long deadNodeAfterSeconds;

  /** The node's tunables from these options. */
  io.dynamicfs.cluster.node.ClusterNode.Options nodeOptions() {
    if (deadNodeAfterSeconds < 1) {
      throw new IllegalArgumentException("--dead-node-after " + deadNodeAfterSeconds + " must be at least 1 second");
    }
    return io.dynamicfs.cluster.node.ClusterNode.Options.DEFAULT
        .withDeadNodeAfter(java.time.Duration.ofSeconds(deadNodeAfterSeconds));
  }

  /** These options (but --foreground and --ready-file) for a background child. */
  java.util.List<String> childArguments() {
    java.util.List<String> a = new java.util.ArrayList<>(ops.childArguments());
    a.add("--dead-node-after");
    a.add(Long.toString(deadNodeAfterSeconds));
    return a;
  }
}
