package io.polycall.gateway.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpServerUpgradeHandler;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.codec.http2.CleartextHttp2ServerUpgradeHandler;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2FrameCodec;
import io.netty.handler.codec.http2.Http2FrameCodecBuilder;
import io.netty.handler.codec.http2.Http2MultiplexHandler;
import io.netty.handler.codec.http2.Http2ServerUpgradeCodec;
import io.netty.handler.codec.http2.Http2StreamChannel;
import io.netty.handler.codec.http2.Http2StreamFrameToHttpObjectCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.handler.timeout.WriteTimeoutHandler;
import io.netty.util.AsciiString;
import java.util.concurrent.TimeUnit;

/**
 * The pipeline of one connection:
 *
 * <pre>
 *   socket
 *     WriteTimeoutHandler     a write the client does not take in time closes the connection
 *     IdleStateHandler        no traffic for the idle timeout: closed unless a call is running
 *     CleartextHttp2ServerUpgradeHandler   h2c: prior knowledge or Upgrade: h2c switch the
 *                             connection to HTTP/2, whose streams each get {@link #stream}
 *     HttpServerCodec         HTTP/1.1 (request line 8 KB, headers 16 KB)
 *     HttpServerUpgradeHandler
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
    // At the socket, so that it sees the bytes of every protocol (HTTP/2 streams included).
    p.addLast(new IdleStateHandler(0, 0, settings.idleTimeout().toMillis(), TimeUnit.MILLISECONDS));
    HttpServerCodec http1 = new HttpServerCodec(8192, 16384, 65536);
    HttpServerUpgradeHandler upgrade =
        new HttpServerUpgradeHandler(
            http1,
            protocol ->
                AsciiString.contentEquals(Http2CodecUtil.HTTP_UPGRADE_PROTOCOL_NAME, protocol)
                    ? new Http2ServerUpgradeCodec(
                        http2(), new Http2MultiplexHandler(stream()), new Http2Switch())
                    : null,
            settings.maxBodyBytes()) {
          /**
           * Only requests without a body switch to h2c: Netty's HTTP/2 codec loses the body of an
           * upgrade request (stream 1 starts half-closed), so such a request is answered in
           * HTTP/1.1 and the client upgrades on a later one, as RFC 9113 allows.
           */
          @Override
          protected boolean shouldHandleUpgradeRequest(HttpRequest req) {
            return HttpUtil.getContentLength(req, 0L) == 0
                && !HttpUtil.isTransferEncodingChunked(req);
          }
        };
    p.addLast(new CleartextHttp2ServerUpgradeHandler(http1, upgrade, http2Connection()));
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

  private static Http2FrameCodec http2() {
    return Http2FrameCodecBuilder.forServer().build();
  }

  /** What a prior-knowledge HTTP/2 connection gets in place of the HTTP/1.1 handlers. */
  private ChannelInitializer<io.netty.channel.Channel> http2Connection() {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(io.netty.channel.Channel ch) {
        String self = ch.pipeline().context(this).name();
        // The multiplexer needs the frame codec before it, and the switch comes last.
        ch.pipeline().addAfter(self, "h2-codec", http2());
        ch.pipeline().addAfter("h2-codec", "h2-streams", new Http2MultiplexHandler(stream()));
        ch.pipeline().addAfter("h2-streams", null, new Http2Switch());
      }
    };
  }

  /**
   * One HTTP/2 stream: its frames become the same HTTP objects as HTTP/1.1's, so the same
   * aggregator and handler serve it.
   */
  private ChannelInitializer<Http2StreamChannel> stream() {
    return new ChannelInitializer<>() {
      @Override
      protected void initChannel(Http2StreamChannel ch) {
        ch.pipeline()
            .addLast(new Http2StreamFrameToHttpObjectCodec(true))
            .addLast(new TooLargeAggregator(settings.maxBodyBytes()))
            .addLast(new HttpHandler(settings, version));
      }
    };
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close();
  }
}
