package io.dynamicfs.cli;

import io.dynamicfs.cluster.node.ClusterNode;
import io.dynamicfs.cluster.node.Endpoint;
import io.dynamicfs.core.api.FsException;
import io.dynamicfs.core.codec.Codec;
import io.dynamicfs.core.format.FormatOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dynamicfs cluster-init}: the first node of a new cluster. */
@Command(name = "cluster-init", mixinStandardHelpOptions = true,
    description = {"Create a cluster: this node is its first metadata replica and block server.",
        "DATA must be empty. Writes DATA/cluster/token (the cluster's id and secret: give a copy to nodes that",
        "join and machines that mount, with --token-file). Runs in the background unless --foreground."})
final class ClusterInitCommand implements Callable<Integer> {
  @Option(names = "--node-id", required = true, paramLabel = "ID", description = "This node's name (letters, digits, . _ -).")
  String nodeId;

  @Option(names = "--data", required = true, paramLabel = "DIR", description = "The node's own, empty directory.")
  Path data;

  @Option(names = "--listen", required = true, paramLabel = "HOST:PORT",
      description = "Raft (gRPC) address; the block server listens on PORT+1.")
  String listen;

  @Option(names = "--redundancy", defaultValue = "replicate-2", paramLabel = "R",
      description = "How blocks are spread over nodes: replicate-1, replicate-2 or replicate-3 whole copies, or rs-K-M "
          + "(K data and M parity shards on K+M distinct nodes; a write needs K+1 shards stored, a read any K) "
          + "(default ${DEFAULT-VALUE}).")
  String redundancy;

  @Option(names = "--block-size", paramLabel = "SIZE", converter = SizeConverter.class, defaultValue = "1M",
      description = "Block size of the cluster's files (default ${DEFAULT-VALUE}).")
  long blockSize;

  @Option(names = "--compression", paramLabel = "CODEC", defaultValue = "lz4",
      description = "lz4, zstd or none (default ${DEFAULT-VALUE}).")
  String compression;

  @Mixin
  NodeOptions node = new NodeOptions();

  @Override
  public Integer call() throws Exception {
    Endpoint at;
    FormatOptions format;
    ClusterNode.Options options;
    try {
      options = node.options();
      at = Endpoint.parse("--listen", listen);
      format = new FormatOptions(Math.toIntExact(blockSize), Codec.parse(compression), FormatOptions.DEFAULT.inlineMax());
    } catch (FsException e) {
      return NodeDaemon.fail(node.readyFile, e.detail());
    } catch (IllegalArgumentException | ArithmeticException e) {
      return NodeDaemon.fail(node.readyFile, e.getMessage());
    }
    Path dir = data.toAbsolutePath().normalize();
    if (!node.foreground) {
      List<String> args = new ArrayList<>(List.of("cluster-init", "--node-id", nodeId, "--data", dir.toString(),
          "--listen", listen, "--redundancy", redundancy, "--block-size", Long.toString(blockSize),
          "--compression", compression));
      args.addAll(node.childArguments());
      int code = new Daemonizer(NodeDaemon.daemon(args)).start();
      if (code == 0) {
        System.out.println("cluster created; node " + nodeId + " runs on " + at + "; token: " + dir.resolve("cluster/token"));
      }
      return code;
    }
    return NodeDaemon.runForeground(dir, node.ops, node.readyFile,
        () -> ClusterNode.init(dir, nodeId, at, redundancy, format, options));
  }
}
