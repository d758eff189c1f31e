package io.polycall.gateway.internal;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Turns a connection that switched to HTTP/2 (h2c upgrade or prior knowledge) into one: the
 * HTTP/1.1 handlers behind the HTTP/2 codec are removed (they would see connection frames they
 * cannot read), except the {@link HttpHandler}, which keeps answering drain events; and the
 * connection is read freely, since HTTP/2 streams have their own flow control. Added right after
 * the multiplex handler; removes itself once done. Not sharable.
 */
final class Http2Switch extends ChannelInboundHandlerAdapter {

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    ChannelPipeline p = ctx.pipeline();
    boolean after = false;
    List<ChannelHandler> remove = new ArrayList<>();
    for (Map.Entry<String, ChannelHandler> e : p) {
      if (e.getValue() == this) {
        after = true;
      } else if (after && !(e.getValue() instanceof HttpHandler)) {
        remove.add(e.getValue());
      }
    }
    remove.forEach(p::remove);
    HttpHandler http = p.get(HttpHandler.class);
    if (http != null) {
      http.switchedToHttp2();
    }
    ctx.channel().config().setAutoRead(true);
    p.remove(this);
  }
}
