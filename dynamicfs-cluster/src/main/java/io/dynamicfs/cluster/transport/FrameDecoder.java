package io.dynamicfs.cluster.transport;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Cuts the byte stream of one connection into {@link BlockFrame}s and {@link BlockFrame.Refused} notes (see
 * {@link BlockFrame#decode}). After a fatal refusal framing is lost: the rest of the stream is discarded
 * unread while the handler answers and closes.
 */
final class FrameDecoder extends ByteToMessageDecoder {
  private final int maxFrameBytes;
  private boolean lost;

  FrameDecoder(int maxFrameBytes) {
    this.maxFrameBytes = maxFrameBytes;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (lost) {
      in.skipBytes(in.readableBytes());
      return;
    }
    Object r = BlockFrame.decode(in, maxFrameBytes);
    if (r == null) {
      // the cumulation grows once to the whole frame (bounded by maxFrameBytes) rather than doubling and
      // copying its way up over a megabyte of block
      int missing = BlockFrame.announcedBytes(in, maxFrameBytes) - in.readableBytes();
      if (missing > 0 && in.maxWritableBytes() >= missing) {
        in.ensureWritable(missing);
      }
    } else {
      out.add(r);
      if (r instanceof BlockFrame.Refused refused && refused.fatal()) {
        lost = true;
      }
    }
  }
}
