package io.dynamicfs.cluster.blocks;

import io.dynamicfs.core.block.BlockStore;
import java.net.InetSocketAddress;
import java.util.Objects;

/**
 * One block node as a client sees it: its number in the cluster (what a {@link io.dynamicfs.core.block.Placement}
 * names), its block server's address, and the store that reaches it (a
 * {@link io.dynamicfs.cluster.transport.RemoteBlockStore}; whoever builds the node owns and closes it).
 */
public record BlockNode(int number, InetSocketAddress address, BlockStore store) {
  public BlockNode {
    if (number < 0) {
      throw new IllegalArgumentException("node number " + number + " is negative");
    }
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(store, "store");
  }

  @Override
  public String toString() {
    return "node " + number + " (" + address + ")";
  }
}
