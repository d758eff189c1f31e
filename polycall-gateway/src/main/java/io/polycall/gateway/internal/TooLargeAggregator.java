package io.polycall.gateway.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpUtil;
import io.polycall.Status;
import java.util.concurrent.TimeUnit;

/**
 * Aggregates request bodies up to the limit, and answers a larger one with 413 and a status body as
 * soon as its Content-Length (or the bytes received so far) shows it is too large, without reading
 * the rest.
 *
 * <p>After the answer the connection closes the way nginx's lingering close does: output is shut
 * down first and what the client is still sending is discarded for a short while, because closing a
 * socket with unread input makes the kernel send a reset that can destroy the 413 before the client
 * has read it. Not sharable; one per connection.
 */
final class TooLargeAggregator extends HttpObjectAggregator {
  private static final long LINGER_MILLIS = 1000;
  private final int maxBodyBytes;

  TooLargeAggregator(int maxBodyBytes) {
    super(maxBodyBytes);
    this.maxBodyBytes = maxBodyBytes;
  }

  @Override
  protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
    long declared = HttpUtil.getContentLength(oversized, -1L);
    Status status =
        Status.RESOURCE_EXHAUSTED.withDescription(
            "the request body is "
                + (declared >= 0 ? declared + " bytes" : "larger than the limit")
                + "; the gateway accepts at most "
                + maxBodyBytes
                + " bytes (http.max_body_bytes); send less, or raise the limit");
    var response = Responses.error(status, Codec.JSON, 413);
    if (!(ctx.channel() instanceof SocketChannel)) {
      // An HTTP/2 stream: the answer ends it; what the client still sends is discarded here,
      // and the connection serves its other streams.
      ctx.writeAndFlush(response);
      return;
    }
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ctx.writeAndFlush(response)
        .addListener(
            f -> {
              if (!f.isSuccess() || !(ctx.channel() instanceof SocketChannel socket)) {
                ctx.close();
                return;
              }
              socket.shutdownOutput();
              ctx.channel().config().setAutoRead(true);
              ctx.executor().schedule(() -> ctx.close(), LINGER_MILLIS, TimeUnit.MILLISECONDS);
            });
  }
}
