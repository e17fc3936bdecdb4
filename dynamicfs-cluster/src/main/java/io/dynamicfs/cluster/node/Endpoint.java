package io.dynamicfs.cluster.node;

import io.dynamicfs.core.api.Errno;
import io.dynamicfs.core.api.FsException;
import java.net.InetSocketAddress;

/**
 * A node's address as users give it ({@code HOST:PORT}): the Raft (gRPC) port; the block server listens on
 * the next port. A Raft peer's id is derived from its address, so any {@code --peer} can be reached
 * without knowing the node's name.
 */
public record Endpoint(String host, int port) {
  public Endpoint {
    if (host.isEmpty() || port < 1 || port > 65534) {
      throw new IllegalArgumentException("bad endpoint " + host + ":" + port);
    }
  }

  /** Parses {@code HOST:PORT}; a clear EINVAL naming {@code what} otherwise. */
  public static Endpoint parse(String what, String text) throws FsException {
    int colon = text.lastIndexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw FsException.of(Errno.EINVAL, "%s '%s' must be HOST:PORT", what, text);
    }
    try {
      int port = Integer.parseInt(text.substring(colon + 1));
      if (port < 1 || port > 65534) {
        throw FsException.of(Errno.EINVAL, "%s '%s': port must be 1-65534 (the block server takes the next)",
            what, text);
      }
      return new Endpoint(text.substring(0, colon), port);
    } catch (NumberFormatException e) {
      throw FsException.of(Errno.EINVAL, "%s '%s': '%s' is not a port number", what, text, text.substring(colon + 1));
    }
  }

  public String raftAddress() {
    return host + ":" + port;
  }

  public InetSocketAddress blockAddress() {
    return new InetSocketAddress(host, port + 1);
  }

  public String blockAddressText() {
    return host + ":" + (port + 1);
  }

  /** The Raft peer id of the server at this address. */
  public String peerId() {
    return "p-" + host.replaceAll("[^A-Za-z0-9]", "-") + "_" + port;
  }

  @Override
  public String toString() {
    return raftAddress();
  }
}
