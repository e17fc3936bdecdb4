package io.dynamicfs.cluster.node;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * What makes a directory a cluster node's DATA: {@code DATA/cluster/node.json} names the cluster, the
 * node, its address, whether it holds a metadata replica (a voter) or blocks only, and the voters it
 * started with (Ratis keeps the current configuration in its own log). Written once, when the node is
 * made; read at every restart.
 */
public record NodeFile(UUID clusterId, String nodeId, Endpoint listen, boolean voter, List<Endpoint> peers) {
  static final String FORMAT = "dynamicfs-cluster-node";
  private static final ObjectMapper JSON = new ObjectMapper();

  public static Path path(Path data) {
    return data.resolve("cluster").resolve("node.json");
  }

  public static Path tokenPath(Path data) {
    return data.resolve("cluster").resolve("token");
  }

  public void write(Path data) throws IOException {
    ObjectNode o = JSON.createObjectNode();
    o.put("format", FORMAT).put("version", 1).put("cluster_id", clusterId.toString()).put("node_id", nodeId)
        .put("listen", listen.raftAddress()).put("voter", voter);
    ArrayNode p = o.putArray("peers");
    for (Endpoint e : peers) {
      p.add(e.raftAddress());
    }
    Path file = path(data);
    Files.createDirectories(file.getParent());
    Path tmp = file.resolveSibling("node.json.tmp");
    Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
    try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
      ch.force(true);
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }

  /** The node file of {@code data}, or null when there is none (not a node yet). */
  public static NodeFile read(Path data) throws FsException {
    Path file = path(data);
    if (!Files.exists(file)) {
      return null;
    }
    try {
      JsonNode o = JSON.readTree(file.toFile());
      if (!FORMAT.equals(o.path("format").asText()) || o.path("version").asInt() != 1) {
        throw FsException.of(Errno.EINVAL, "%s is not a DynamicFS cluster node file (or from a newer version)", file);
      }
      List<Endpoint> peers = new ArrayList<>();
      for (JsonNode p : o.path("peers")) {
        peers.add(Endpoint.parse("peer in " + file, p.asText()));
      }
      return new NodeFile(UUID.fromString(o.path("cluster_id").asText()), o.path("node_id").asText(),
          Endpoint.parse("listen in " + file, o.path("listen").asText()), o.path("voter").asBoolean(), peers);
    } catch (IOException | IllegalArgumentException e) {
      throw FsException.of(Errno.EINVAL, "%s is damaged: %s", file, e.getMessage());
    }
  }
}
