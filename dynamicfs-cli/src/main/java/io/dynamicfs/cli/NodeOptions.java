package io.dynamicfs.cli;

import io.dynamicfs.cluster.node.ClusterNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

  @Option(names = "--snapshot-every", paramLabel = "ENTRIES", defaultValue = "10000",
      description = {"Metadata log entries between checkpoints of this node's replica (default ${DEFAULT-VALUE});",
          "the log is purged up to each, and a node that missed more installs the leader's checkpoint."})
  long snapshotEvery;

  /** The node's tunables; IllegalArgumentException naming the option for a bad value. */
  ClusterNode.Options options() {
    if (snapshotEvery < 1) {
      throw new IllegalArgumentException("--snapshot-every must be at least 1, got " + snapshotEvery);
    }
    return ClusterNode.Options.DEFAULT.withSnapshotEvery(snapshotEvery);
  }

  /** What a background child needs to run as this command was asked to. */
  List<String> childArguments() {
    List<String> a = new ArrayList<>(ops.childArguments());
    a.addAll(List.of("--snapshot-every", Long.toString(snapshotEvery)));
    return a;
  }
}
