package io.polycall.gateway.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.handler.timeout.WriteTimeoutHandler;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of one connection:
 *
 * <pre>
 *   socket
 *     WriteTimeoutHandler     a write the client does not take in time closes the connection
 *     HttpServerCodec         HTTP/1.1 (request line 8 KB, headers 16 KB)
 *     IdleStateHandler        no traffic for the idle timeout: closed unless a call is running
 *     TooLargeAggregator      whole requests up to max_body_bytes, else 413 at once
 *     FlowControlHandler      one message per read(): the handlers decide when to read more
 *     WebSocketServerProtocolHandler   /v1/stream upgrade, ping/pong, close
 *     WebSocketFrameAggregator         fragmented messages up to max_body_bytes
 *     HttpHandler             the HTTP routes
 *     StreamHandler           the WebSocket calls
 * </pre>
 *
 * Stateless apart from the shared settings; sharable.
 */
public final class GatewayInitializer extends ChannelInitializer<SocketChannel> {
  private final Settings settings;
  private final String version;

  public GatewayInitializer(Settings settings, String version) {
    this.settings = settings;
    this.version = version;
  }

  @Override
  protected void initChannel(SocketChannel ch) {
    ChannelPipeline p = ch.pipeline();
    p.addLast(new WriteTimeoutHandler(settings.writeTimeout().toMillis(), TimeUnit.MILLISECONDS));
    p.addLast(new HttpServerCodec(8192, 16384, 65536));
    p.addLast(new IdleStateHandler(0, 0, settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
    p.addLast(new TooLargeAggregator(settings.maxBodyBytes()));
    p.addLast(new FlowControlHandler());
    p.addLast(
        new WebSocketServerProtocolHandler(
            WebSocketServerProtocolConfig.newBuilder()
                .websocketPath("/v1/stream")
                .checkStartsWith(false)
                .maxFramePayloadLength(settings.maxBodyBytes())
                .handleCloseFrames(true)
                .build()));
    p.addLast(new WebSocketFrameAggregator(settings.maxBodyBytes()));
    p.addLast(new HttpHandler(settings, version));
    p.addLast(new StreamHandler(settings));
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
