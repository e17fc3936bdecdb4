package io.dynamicfs.cli;

import io.dynamicfs.cluster.node.ClusterNode;
import java.nio.file.Path;
import java.time.Duration;
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

  @Option(names = "--reclaim-grace", paramLabel = "SECONDS", defaultValue = "60",
      description = {"How long the leader lets a block wait in pending deletion before purging it and deleting its",
          "copies (default ${DEFAULT-VALUE}; at least 1): it covers a dedup hit on one mount racing a delete on another."})
  long reclaimGraceSeconds;

  @Option(names = "--orphan-grace", paramLabel = "SECONDS", defaultValue = "3600",
      description = {"Remove a block copy this node holds once no block record places it here and nobody has put or",
          "touched it for this long (default ${DEFAULT-VALUE}; 0 never). Mounts touch the copies they have not",
          "committed yet well within it (docs/cluster.md, the orphan scan)."})
  long orphanGraceSeconds;

  @Option(names = "--dead-node-after", paramLabel = "SECONDS", defaultValue = "600",
      description = "While this node leads: a node unreachable this long counts as dead and its blocks are copied "
          + "to the others (default ${DEFAULT-VALUE}).")
  long deadNodeAfterSeconds;

  @Option(names = "--replace-voter-after", paramLabel = "SECONDS", defaultValue = "1800",
      description = {"While this node leads: a metadata voter unreachable this long is taken out of the group and a",
          "block-only node takes its seat, if there is one (default ${DEFAULT-VALUE}; 0 never). Should it come back, it",
          "stops; to use the machine again, wipe its DATA and cluster-join it."})
  long replaceVoterAfterSeconds;

  @Option(names = "--scrub-every", paramLabel = "DURATION", defaultValue = "7d",
      description = {"While this node leads: scrub the whole cluster (verify every copy on its node, replace bad ones)",
          "this long after the last scrub finished: a number with h or d, or 0 for never (default ${DEFAULT-VALUE})."})
  String scrubEvery;

  @Option(names = "--scrub-rate", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "32M",
      description = {"While this node leads: the scheduled scrub reads copies at most this fast, cluster-wide (e.g.",
          "100M; 0 as fast as the nodes answer; default ${DEFAULT-VALUE}, as a single-node mount's background scrub)."})
  long scrubRate;

  @Option(names = "--block-tls",
      description = {"Take only TLS connections on this node's block port, and use TLS for the node's own block",
          "traffic (repair, drain, scrub): mutual TLS 1.3 under the cluster's key. Without it the port takes TLS and",
          "plain alike; mounts choose with their own --block-tls. Costs CPU on every block."})
  boolean blockTls;

  /** {@code --scrub-every} as a duration (zero: never); IllegalArgumentException naming the option. */
  Duration scrubEvery() {
    Duration d;
    try {
      d = Durations.parse(scrubEvery);
    } catch (IllegalArgumentException e) {
      d = null;
    }
    if (d == null || d.toDays() > 999_999 || (!d.isZero() && d.toHours() < 1)) {
      throw new IllegalArgumentException("--scrub-every must be 0 (never) or hours or days such as 12h or 7d, not '"
          + scrubEvery + "'");
    }
    return d;
  }

  /** The node's tunables; IllegalArgumentException naming the option for a bad value. */
  ClusterNode.Options options() {
    if (snapshotEvery < 1) {
      throw new IllegalArgumentException("--snapshot-every must be at least 1, got " + snapshotEvery);
    }
    if (reclaimGraceSeconds < 1) {
      throw new IllegalArgumentException("--reclaim-grace must be at least 1 (seconds), got " + reclaimGraceSeconds);
    }
    if (deadNodeAfterSeconds < 1) {
      throw new IllegalArgumentException("--dead-node-after must be at least 1 (seconds), got " + deadNodeAfterSeconds);
    }
    if (scrubRate < 0) {
      throw new IllegalArgumentException("--scrub-rate must be 0 (unlimited) or a size per second, got " + scrubRate);
    }
    if (replaceVoterAfterSeconds < 0) {
      throw new IllegalArgumentException("--replace-voter-after must be 0 (never) or seconds, got "
          + replaceVoterAfterSeconds);
    }
    if (orphanGraceSeconds < 0) {
      throw new IllegalArgumentException("--orphan-grace must be 0 (never) or seconds, got " + orphanGraceSeconds);
    }
    ClusterNode.Options d = ClusterNode.Options.DEFAULT;
    return new ClusterNode.Options(Duration.ofSeconds(reclaimGraceSeconds), d.dutyPeriod(), d.blockSize(),
        snapshotEvery).withDeadNodeAfter(Duration.ofSeconds(deadNodeAfterSeconds)).withScrubEvery(scrubEvery())
        .withScrubRate(scrubRate).withReplaceVoterAfter(Duration.ofSeconds(replaceVoterAfterSeconds))
        .withBlockTls(blockTls).withOrphanGrace(Duration.ofSeconds(orphanGraceSeconds));
  }

  /** What a background child needs to run as this command was asked to. */
  List<String> childArguments() {
    List<String> a = new ArrayList<>(ops.childArguments());
    a.addAll(List.of("--snapshot-every", Long.toString(snapshotEvery), "--reclaim-grace",
        Long.toString(reclaimGraceSeconds), "--dead-node-after", Long.toString(deadNodeAfterSeconds),
        "--scrub-every", scrubEvery, "--scrub-rate", Long.toString(scrubRate), "--replace-voter-after",
        Long.toString(replaceVoterAfterSeconds), "--orphan-grace", Long.toString(orphanGraceSeconds)));
    if (blockTls) {
      a.add("--block-tls");
    }
    return a;
  }
}
