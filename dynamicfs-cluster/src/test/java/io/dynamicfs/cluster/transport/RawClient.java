package io.dynamicfs.cluster.transport;

import io.dynamicfs.cluster.transport.BlockFrame.Type;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** A blocking socket that speaks raw bytes to a block server: for sending what a real client never would. */
final class RawClient implements AutoCloseable {
  /** What {@link #read} returns when the server closed the connection. */
  static final Object CLOSED = new Object() {
    @Override
    public String toString() {
      return "CLOSED";
    }
  };

  private final Socket socket;
  private final InputStream in;
  private final ByteBuf buffered = Unpooled.buffer();

  RawClient(InetSocketAddress server) throws IOException {
    socket = new Socket();
    socket.connect(server, 5000);
    socket.setSoTimeout(5000); // a read that waits longer fails the test: the server must answer or close
    in = socket.getInputStream();
  }

  void send(byte[] bytes) throws IOException {
    socket.getOutputStream().write(bytes);
    socket.getOutputStream().flush();
  }

  /** The whole challenge-response as a real client runs it; fails unless both steps are answered OK. */
  void hello(ClusterCredentials creds) throws IOException {
    byte[] clientNonce = ClusterCredentials.nonce();
    byte[][] challenge = challenge(creds.clusterId(), clientNonce);
    if (!creds.proofMatches(ClusterCredentials.Role.SERVER, clientNonce, challenge[0], challenge[1])) {
      throw new IOException("the server's proof does not match");
    }
    Object answer = auth(creds.proof(ClusterCredentials.Role.CLIENT, clientNonce, challenge[0]));
    if (!(answer instanceof BlockFrame f) || f.type() != Type.OK) {
      throw new IOException("AUTH answered " + answer);
    }
  }

  /** Sends HELLO with {@code clientNonce}; returns the server's nonce and proof. */
  byte[][] challenge(java.util.UUID cluster, byte[] clientNonce) throws IOException {
    send(frame(Type.HELLO, 1, new Payload.Writer().string(cluster.toString(), 64).bytes16(clientNonce).toBytes()));
    Object answer = read();
    if (!(answer instanceof BlockFrame f) || f.type() != Type.OK) {
      throw new IOException("HELLO answered " + answer);
    }
    try {
      Payload.Reader r = new Payload.Reader(f.payload(), "challenge");
      byte[][] out = {r.bytes16(), r.bytes16()};
      r.end();
      return out;
    } catch (io.dynamicfs.core.api.FsException e) {
      throw new IOException("malformed challenge: " + e.getMessage(), e);
    }
  }

  /** Sends AUTH with {@code proof}; returns the answer (or {@link #CLOSED}). */
  Object auth(byte[] proof) throws IOException {
    send(frame(Type.AUTH, 2, new Payload.Writer().bytes16(proof).toBytes()));
    return read();
  }

  /** The next frame (or {@link BlockFrame.Refused} note) from the server, or {@link #CLOSED}. */
  Object read() throws IOException {
    byte[] chunk = new byte[8192];
    while (true) {
      Object r = BlockFrame.decode(buffered, 64 << 20);
      if (r != null) {
        return r;
      }
      int n;
      try {
        n = in.read(chunk);
      } catch (SocketException e) { // reset: the server closed with our bytes unread
        return CLOSED;
      }
      if (n < 0) {
        return CLOSED;
      }
      buffered.writeBytes(chunk, 0, n);
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
    buffered.release();
  }

  /** A well-formed frame. */
  static byte[] frame(Type type, long requestId, byte[] payload) {
    ByteBuf b = BlockFrame.encode(UnpooledByteBufAllocator.DEFAULT, type, requestId, payload);
    try {
      byte[] out = new byte[b.readableBytes()];
      b.readBytes(out);
      return out;
    } finally {
      b.release();
    }
  }

  /** A frame with every header field chosen, {@code declaredLength} possibly not the payload's, CRC good or not. */
  static byte[] rawFrame(int magic, int version, int typeCode, long requestId, int declaredLength, byte[] payload,
      boolean goodCrc) {
    ByteBuffer b = ByteBuffer.allocate(BlockFrame.HEADER + payload.length + BlockFrame.TRAILER);
    b.putInt(magic).put((byte) version).put((byte) typeCode).putShort((short) 0).putLong(requestId)
        .putInt(declaredLength).put(payload);
    CRC32C crc = new CRC32C();
    crc.update(b.array(), 0, b.position());
    b.putInt((int) crc.getValue() ^ (goodCrc ? 0 : 0x5a5a5a5a));
    return b.array();
  }
}
