package io.dynamicfs.cluster.blocks;

import io.dynamicfs.cluster.transport.BlockClientGroup;
import io.dynamicfs.cluster.transport.BlockServer;
import io.dynamicfs.cluster.transport.ClusterCredentials;
import io.dynamicfs.cluster.transport.RemoteBlockStore;
import io.dynamicfs.core.block.BlockId;
import io.dynamicfs.core.block.BlockStore;
import io.dynamicfs.core.block.SegmentStore;
import io.dynamicfs.core.codec.Codec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * Real block nodes on 127.0.0.1: each a SegmentStore in its own directory behind a BlockServer on an ephemeral
 * port, reached through a RemoteBlockStore, all in one {@link NodeSet}. Closes everything it started, in
 * reverse order, even when a close fails (the first failure is thrown, the rest suppressed).
 */
final class TestNodes implements AutoCloseable {
  static final ClusterCredentials CREDS =
      new ClusterCredentials(UUID.fromString("0d4c5e0b-7a8e-4f0e-8d1c-5b2a9e3f6c71"), "nodes-test-token");

  /** One node's parts; {@code server} and {@code remote} change when the node is stopped or restarted. */
  static final class Node {
    final int number;
    final Path dir;
    SegmentStore segments;
    BlockStore served;
    BlockServer server;
    RemoteBlockStore remote;

    Node(int number, Path dir) {
      this.number = number;
      this.dir = dir;
    }

    BlockNode blockNode() {
      return new BlockNode(number, server == null ? remote.node() : server.address(), remote);
    }
  }

  private final Path root;
  private final BlockClientGroup clients = new BlockClientGroup(1);
  private final List<Node> nodes = new ArrayList<>();
  private final List<AutoCloseable> retired = new ArrayList<>();
  private final Duration timeout;
  final NodeSet set;

  /** {@code count} nodes numbered 1..count; {@code wrap} may put a test store in front of each SegmentStore. */
  TestNodes(Path root, int count, NodeSet set, UnaryOperator<BlockStore> wrap) throws IOException {
    this.root = root;
    this.set = set;
    this.timeout = Duration.ofSeconds(3);
    try {
      for (int i = 1; i <= count; i++) {
        Node n = new Node(i, root.resolve("node-" + i + "-a"));
        nodes.add(n);
        start(n, wrap);
      }
      publish();
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  TestNodes(Path root, int count) throws IOException {
    this(root, count, new NodeSet(), s -> s);
  }

  private void start(Node n, UnaryOperator<BlockStore> wrap) throws IOException {
    n.segments = SegmentStore.open(n.dir, Codec.LZ4, 16 << 20);
    n.served = wrap.apply(n.segments);
    n.server = BlockServer.builder(n.served, CREDS).ioThreads(1).storeThreads(2).start();
    n.remote = RemoteBlockStore.builder(clients, n.server.address(), CREDS).timeout(timeout).connections(1).build();
  }

  /** Hands the current nodes to the NodeSet (what a membership change from Raft will do). */
  void publish() {
    set.setNodes(nodes.stream().map(Node::blockNode).toList());
  }

  Node node(int number) {
    return nodes.get(number - 1);
  }

  List<Node> all() {
    return nodes;
  }

  /** The node's server stops (its store stays open to inspect); the NodeSet still lists it, as it would until Raft says otherwise. */
  void stop(int number) {
    Node n = node(number);
    n.server.close();
    n.server = null;
  }

  /** The node comes back on a new port with an empty store (a replaced disk), and the NodeSet learns its new address. */
  void restartEmpty(int number) throws IOException {
    Node n = node(number);
    if (n.server != null) {
      n.server.close();
    }
    retired.add(n.remote);
    retired.add(n.segments);
    Node fresh = new Node(number, root.resolve("node-" + number + "-b-" + System.nanoTime()));
    start(fresh, s -> s);
    nodes.set(number - 1, fresh);
    publish();
  }

  /** The node numbers whose own store holds {@code id}, ascending. */
  List<Integer> holders(BlockId id) {
    List<Integer> out = new ArrayList<>();
    for (Node n : nodes) {
      if (n.segments.contains(id)) {
        out.add(n.number);
      }
    }
    return out;
  }

  static byte[] randomBlock(Random r, int size) {
    byte[] b = new byte[size];
    r.nextBytes(b);
    return b;
  }

  static BlockId idOf(byte[] b) {
    return BlockId.hash(b, 0, b.length);
  }

  @Override
  public void close() throws IOException {
    List<AutoCloseable> order = new ArrayList<>();
    for (Node n : nodes) {
      order.add(n.remote);
      order.add(n.server);
      order.add(n.segments);
    }
    order.addAll(retired);
    order.add(clients);
    Exception first = null;
    for (AutoCloseable c : order) {
      if (c == null) {
        continue;
      }
      try {
        c.close();
      } catch (Exception e) {
        if (first == null) {
          first = e;
        } else {
          first.addSuppressed(e);
        }
      }
    }
    if (first instanceof IOException io) {
      throw io;
    }
    if (first != null) {
      throw new IOException(first);
    }
  }
}
