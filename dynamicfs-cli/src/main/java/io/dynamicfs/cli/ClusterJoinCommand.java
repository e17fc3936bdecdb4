package io.dynamicfs.cli;

import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.node.ClusterToken;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.cluster.node.NodeFile;
import io.dynamicfs.core.api.FsException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dynamicfs cluster-join}: adds a node, or restarts one from its existing DATA. */
@Command(name = "cluster-join", mixinStandardHelpOptions = true,
    description = {"Add this node to a cluster (a metadata replica while there are fewer than 3, else blocks only),",
        "or, on a DATA that already is a node, start it again after a crash or reboot (no other option needed).",
        "Runs in the background unless --foreground."})
final class ClusterJoinCommand implements Callable<Integer> {
  @Option(names = "--node-id", paramLabel = "ID", description = "This node's name (new nodes only).")
  String nodeId;

  @Option(names = "--data", required = true, paramLabel = "DIR", description = "The node's own directory.")
  Path data;

  @Option(names = "--listen", paramLabel = "HOST:PORT", description = "Raft address; blocks on PORT+1 (new nodes only).")
  String listen;

  @Option(names = "--peer", paramLabel = "HOST:PORT", description = "Any node of the cluster (new nodes only).")
  String peer;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "The cluster's token (a copy of the first node's DATA/cluster/token; default $DYNAMICFS_TOKEN_FILE).")
  Path tokenFile;

  @Mixin
  NodeOptions node = new NodeOptions();

  @Override
  public Integer call() throws Exception {
    Path dir = data.toAbsolutePath().normalize();
    boolean restart;
    Endpoint at = null;
    Endpoint via = null;
    ClusterToken token = null;
    ClusterNode.Options options;
    try {
      options = node.options();
    } catch (IllegalArgumentException e) {
      return NodeDaemon.fail(node.readyFile, e.getMessage());
    }
    try {
      NodeFile existing = NodeFile.read(dir);
      restart = existing != null;
      if (restart) {
        if (nodeId != null && !nodeId.equals(existing.nodeId())) {
          return NodeDaemon.fail(node.readyFile, dir + " is node '" + existing.nodeId() + "', not '" + nodeId + "'");
        }
      } else {
        if (nodeId == null || listen == null || peer == null) {
          return NodeDaemon.fail(node.readyFile, dir + " is not a node yet: --node-id, --listen and --peer are needed"
              + " to join a cluster");
        }
        at = Endpoint.parse("--listen", listen);
        via = Endpoint.parse("--peer", peer);
        token = ClusterToken.read(TokenFiles.resolve(tokenFile));
      }
    } catch (FsException e) {
      return NodeDaemon.fail(node.readyFile, e.detail());
    }
    if (!node.foreground) {
      List<String> args = new ArrayList<>(List.of("cluster-join", "--data", dir.toString()));
      if (!restart) {
        args.addAll(List.of("--node-id", nodeId, "--listen", listen, "--peer", peer, "--token-file",
            TokenFiles.resolve(tokenFile).toAbsolutePath().toString()));
      }
      args.addAll(node.childArguments());
      return new Daemonizer(NodeDaemon.daemon(args)).start();
    }
    Endpoint listenAt = at;
    Endpoint peerAt = via;
    ClusterToken t = token;
    return NodeDaemon.runForeground(dir, node.ops, node.readyFile, () -> restart
        ? ClusterNode.restart(dir, options)
        : ClusterNode.join(dir, nodeId, listenAt, peerAt, t, options));
  }
}
