package io.dynamicfs.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dynamicfs.cluster.node.ClusterAdmin;
import io.dynamicfs.cluster.node.ClusterToken;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.cluster.node.NodeLeave;
import io.dynamicfs.core.api.FsException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dynamicfs cluster …}: commands on a running cluster. */
@Command(name = "cluster", mixinStandardHelpOptions = true, description = "Look at or change a running cluster.",
    subcommands = {ClusterCommand.Status.class, ClusterCommand.Leave.class})
final class ClusterCommand implements Runnable {
  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this), "a subcommand is required (status, leave)");
  }

  /** {@code dynamicfs cluster status --peer HOST:PORT [--json]}. */
  @Command(name = "status", mixinStandardHelpOptions = true,
      description = "Leader, term, commit index, each member's role, health, last contact, space and blocks, and the"
          + " mounts (their metadata replicas) with their last contact.")
  static final class Status implements Callable<Integer> {
    @Option(names = "--peer", required = true, paramLabel = "HOST:PORT", description = "Any node of the cluster.")
    String peer;

    @Option(names = "--token-file", paramLabel = "FILE", description = "The cluster's token (default $DYNAMICFS_TOKEN_FILE).")
    Path tokenFile;

    @Option(names = "--json", description = "One JSON object instead of a table.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      ClusterAdmin.Status st;
      try {
        ClusterToken token = ClusterToken.read(TokenFiles.resolve(tokenFile));
        Endpoint at = Endpoint.parse("--peer", peer);
        try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(at), Duration.ofSeconds(15))) {
          st = admin.status(at);
        }
      } catch (FsException e) {
        System.err.println("dynamicfs: " + e.detail());
        return Main.EXIT_USAGE;
      }
      if (json) {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("cluster_id", st.clusterId()).put("leader", st.leader()).put("term", st.term())
            .put("commit_index", st.commitIndex());
        ArrayNode members = o.putArray("members");
        for (ClusterAdmin.Member mb : st.members()) {
          members.addObject().put("node_id", mb.nodeId()).put("number", mb.number()).put("address", mb.address())
              .put("role", mb.role()).put("health", mb.health()).put("last_contact_ms", mb.lastContactMs())
              .put("commit_index", mb.commitIndex()).put("blocks", mb.blocks()).put("used_bytes", mb.usedBytes())
              .put("free_bytes", mb.freeBytes()).put("state", mb.state());
        }
        ArrayNode mounts = o.putArray("mounts");
        for (ClusterAdmin.MountReplica r : st.mounts()) {
          mounts.addObject().put("replica", r.id()).put("address", r.address())
              .put("last_contact_ms", r.lastContactMs()).put("commit_index", r.commitIndex());
        }
        System.out.println(m.writerWithDefaultPrettyPrinter().writeValueAsString(o));
        return 0;
      }
      StringBuilder b = new StringBuilder();
      b.append(String.format(Locale.ROOT, "cluster %s%n  leader %s, term %d, commit index %d%n", st.clusterId(),
          st.leader(), st.term(), st.commitIndex()));
      b.append(String.format(Locale.ROOT, "  %-12s %-22s %-9s %-9s %-11s %12s %10s %12s %12s%n", "node", "address",
          "role", "state", "health", "contact ms", "blocks", "used", "free"));
      for (ClusterAdmin.Member mb : st.members()) {
        b.append(String.format(Locale.ROOT, "  %-12s %-22s %-9s %-9s %-11s %12d %10d %12s %12s%n", mb.nodeId(),
            mb.address(), mb.role(), mb.state(), mb.health(), mb.lastContactMs(), mb.blocks(),
            ProgressReporter.bytes(Math.max(0, mb.usedBytes())),
            mb.freeBytes() < 0 ? "?" : ProgressReporter.bytes(mb.freeBytes())));
      }
      b.append(String.format(Locale.ROOT, "  %d mount(s)%n", st.mounts().size()));
      for (ClusterAdmin.MountReplica r : st.mounts()) {
        b.append(String.format(Locale.ROOT, "  %-34s %-22s %12d%n", r.id(), r.address(), r.lastContactMs()));
      }
      System.out.print(b);
      return 0;
    }
  }

  /** {@code dynamicfs cluster leave --peer HOST:PORT --node-id N}. */
  @Command(name = "leave", mixinStandardHelpOptions = true,
      description = {"Take a node out of the cluster: mark it DRAINING, wait (printing the blocks left) until the",
          "leader has copied every block it holds to the other nodes, remove it from the metadata voters if it is",
          "one, and mark it REMOVED; the node's process then stops itself. Refused when the node is unknown, when",
          "fewer live nodes than the redundancy needs would remain, or when the remaining metadata voters would",
          "have no live majority. Running it again after an interruption resumes."})
  static final class Leave implements Callable<Integer> {
    @Option(names = "--peer", required = true, paramLabel = "HOST:PORT", description = "Any node of the cluster.")
    String peer;

    @Option(names = "--node-id", required = true, paramLabel = "ID", description = "The node that leaves.")
    String nodeId;

    @Option(names = "--token-file", paramLabel = "FILE", description = "The cluster's token (default $DYNAMICFS_TOKEN_FILE).")
    Path tokenFile;

    @Override
    public Integer call() throws Exception {
      try {
        ClusterToken token = ClusterToken.read(TokenFiles.resolve(tokenFile));
        Endpoint at = Endpoint.parse("--peer", peer);
        try (ClusterAdmin admin = ClusterAdmin.connect(token, List.of(at), Duration.ofSeconds(30))) {
          NodeLeave leave = new NodeLeave(admin, at, Duration.ofSeconds(1), Duration.ofSeconds(6));
          NodeLeave.Outcome o = leave.leave(nodeId, left -> {
            System.out.println("leave " + nodeId + ": " + left + " block(s) left to move");
            System.out.flush();
          });
          System.out.println(o == NodeLeave.Outcome.ALREADY_REMOVED
              ? "node " + nodeId + " had already left the cluster"
              : "node " + nodeId + " has left the cluster; its process stops itself (its DATA can then be deleted)");
          return 0;
        }
      } catch (FsException e) {
        System.err.println("dynamicfs: " + e.detail());
        return Main.EXIT_USAGE;
      }
    }
  }
}
