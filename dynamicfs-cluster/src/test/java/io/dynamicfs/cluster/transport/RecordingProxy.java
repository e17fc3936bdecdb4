package io.dynamicfs.cluster.transport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP relay on 127.0.0.1 in front of {@code target} that keeps a copy of every byte it relays, both ways:
 * what someone reading the network between a client and a block server would see.
 */
final class RecordingProxy implements AutoCloseable {
  private final ServerSocket listener;
  private final InetSocketAddress target;
  private final ByteArrayOutputStream seen = new ByteArrayOutputStream();
  private final List<Socket> sockets = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();

  RecordingProxy(InetSocketAddress target) throws IOException {
    this.target = target;
    this.listener = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
    Thread accept = new Thread(this::accept, "recording-proxy-accept");
    accept.setDaemon(true);
    accept.start();
    threads.add(accept);
  }

  InetSocketAddress address() {
    return (InetSocketAddress) listener.getLocalSocketAddress();
  }

  /** Every byte relayed so far, in both directions. */
  byte[] seen() {
    synchronized (seen) {
      return seen.toByteArray();
    }
  }

  private void accept() {
    try {
      while (true) {
        Socket in = listener.accept();
        Socket out = new Socket(target.getAddress(), target.getPort());
        synchronized (sockets) {
          sockets.add(in);
          sockets.add(out);
        }
        relay(in, out);
        relay(out, in);
      }
    } catch (IOException closed) {
      // the listener was closed
    }
  }

  private void relay(Socket from, Socket to) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16384];
      try (InputStream i = from.getInputStream(); OutputStream o = to.getOutputStream()) {
        for (int n; (n = i.read(buf)) > 0; ) {
          synchronized (seen) {
            seen.write(buf, 0, n);
          }
          o.write(buf, 0, n);
        }
      } catch (IOException e) {
        // one side closed
      }
    }, "recording-proxy-relay");
    t.setDaemon(true);
    t.start();
    synchronized (threads) {
      threads.add(t);
    }
  }

  @Override
  public void close() throws IOException {
    listener.close();
    synchronized (sockets) {
      for (Socket s : sockets) {
        s.close();
      }
    }
  }
}
