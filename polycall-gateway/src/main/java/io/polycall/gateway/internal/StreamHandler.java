package io.polycall.gateway.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.Value;
import io.polycall.gateway.JsonValues;
import io.polycall.spi.BoundFunction;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Serves the WebSocket {@code /v1/stream}: many calls in flight on one connection, answered in
 * completion order.
 *
 * <pre>
 *   in:  {"id": 1, "function": "math.add", "args": [1, 2], "timeout": "500ms"}
 *        {"cancel": 1}
 *   out: {"id": 1, "result": 3}
 *        {"id": 1, "error": {"code": "CANCELLED", "status": 1, "message": "..."}}
 * </pre>
 *
 * Text frames carry JSON and are answered in text; binary frames carry the same messages in CBOR
 * and are answered in binary. The upgrade request's {@code Authorization} header applies to every
 * call of the stream; a message may carry its own {@code "authorization"}.
 *
 * <p>Limits: a call beyond {@link Settings#maxStreamCalls} in flight is answered at once with
 * RESOURCE_EXHAUSTED (the stream stays readable, so cancels still get through); while the client is
 * not taking its answers (the channel is not writable) the gateway stops reading the socket. A
 * client can make it hold neither unbounded work nor unbounded answers.
 *
 * <p>Not sharable; one per connection. Frames are handled on the event loop; calls run on virtual
 * threads and write through the thread-safe channel.
 */
public final class StreamHandler extends ChannelInboundHandlerAdapter {
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private final Settings settings;
  private final Map<String, Pending> calls = new ConcurrentHashMap<>();
  private volatile HttpHeaders upgradeHeaders;
  private volatile boolean open;
  private ChannelHandlerContext ctx;

  /** A call in flight: its thread (interrupted to cancel it) and whether the client cancelled. */
  private static final class Pending {
    final JsonNode id;
    volatile Thread thread;
    volatile boolean cancelled;

    Pending(JsonNode id) {
      this.id = id;
    }
  }

  public StreamHandler(Settings settings) {
    this.settings = settings;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete done) {
      upgradeHeaders = done.requestHeaders();
      open = true;
      updateReading();
    } else if (open && evt instanceof IdleStateEvent && calls.isEmpty()) {
      goAway("idle");
    } else if (open && evt == Settings.Event.DRAIN) {
      updateReading();
      if (calls.isEmpty()) {
        goAway("the node is shutting down");
      }
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof TextWebSocketFrame || msg instanceof BinaryWebSocketFrame)) {
      ctx.fireChannelRead(msg);
      return;
    }
    WebSocketFrame frame = (WebSocketFrame) msg;
    Codec codec = frame instanceof TextWebSocketFrame ? Codec.JSON : Codec.CBOR;
    JsonNode message;
    try {
      message = codec.read(new ByteBufInputStream(frame.content()), "the stream message");
    } catch (io.polycall.StatusException e) {
      reply(codec, NODES.nullNode(), null, e.status());
      return;
    } finally {
      frame.release();
    }
    if (message == null || !message.isObject()) {
      reply(
          codec,
          NODES.nullNode(),
          null,
          Status.INVALID_ARGUMENT.withDescription(
              "a stream message is an object: {\"id\": 1, \"function\": \"name\", \"args\": []}"
                  + " or {\"cancel\": 1}"));
      return;
    }
    if (message.has("cancel")) {
      Pending p = calls.get(message.get("cancel").toString());
      if (p != null) {
        p.cancelled = true;
        Thread t = p.thread;
        if (t != null) {
          t.interrupt();
        }
      }
      return;
    }
    start(codec, message);
  }

  private void start(Codec codec, JsonNode message) {
    JsonNode id = message.path("id");
    if (!(id.isIntegralNumber() || id.isTextual())) {
      reply(
          codec,
          id.isMissingNode() ? NODES.nullNode() : id,
          null,
          Status.INVALID_ARGUMENT.withDescription(
              "every call needs an \"id\", a number or a string, to match its answer"));
      return;
    }
    JsonNode function = message.path("function");
    if (!function.isTextual() || function.textValue().isEmpty()) {
      reply(
          codec,
          id,
          null,
          Status.INVALID_ARGUMENT.withDescription(
              "call " + id + " names no \"function\"; write \"function\": \"math.add\""));
      return;
    }
    if (settings.draining().get()) {
      reply(codec, id, null, Status.UNAVAILABLE.withDescription("the node is shutting down"));
      return;
    }
    if (calls.size() >= settings.maxStreamCalls()) {
      reply(
          codec,
          id,
          null,
          Status.RESOURCE_EXHAUSTED.withDescription(
              settings.maxStreamCalls()
                  + " calls are in flight on this stream, the most it takes; wait for answers"
                  + " or open another stream"));
      return;
    }
    String key = id.toString();
    Pending pending = new Pending(id);
    if (calls.putIfAbsent(key, pending) != null) {
      reply(
          codec,
          id,
          null,
          Status.INVALID_ARGUMENT.withDescription(
              "call " + id + " is already in flight; give each call its own id"));
      return;
    }
    Thread t =
        Thread.ofVirtual()
            .name("polycall-stream")
            .unstarted(
                () -> {
                  Value result = null;
                  Status failure = null;
                  try {
                    result = run(function.textValue(), message);
                  } catch (Throwable e) {
                    failure = Status.fromThrowable(e);
                  }
                  Thread.interrupted();
                  if (pending.cancelled) {
                    result = null;
                    failure =
                        Status.CANCELLED.withDescription(
                            "call " + id + " was cancelled by the client");
                  }
                  calls.remove(key);
                  reply(codec, id, result, failure);
                  if (settings.draining().get() && calls.isEmpty()) {
                    goAway("the node is shutting down");
                  }
                });
    pending.thread = t;
    t.start();
  }

  private Value run(String function, JsonNode message) {
    CallOptions o = CallOptions.DEFAULT;
    HttpHeaders h = upgradeHeaders;
    if (h != null) {
      o = HttpHandler.options(h);
    }
    JsonNode auth = message.path("authorization");
    if (auth.isTextual()) {
      o = o.withMetadata("authorization", auth.textValue());
    }
    JsonNode timeout = message.path("timeout");
    if (timeout.isTextual()) {
      o = o.withDeadlineAfter(Timeouts.parse(timeout.textValue(), "timeout"));
    }
    FunctionInfo info =
        settings.node().registry().lookup(function).map(BoundFunction::info).orElse(null);
    JsonNode args = message.get("args");
    List<Value> values = Arguments.of(args, info);
    return settings.node().caller().call(function, values, o);
  }

  private void reply(Codec codec, JsonNode id, Value result, Status failure) {
    ObjectNode out = NODES.objectNode();
    out.set("id", id);
    if (failure == null) {
      out.set("result", JsonValues.toJson(result, JsonValues.Dialect.HTTP));
    } else {
      out.set("error", ErrorBodies.error(failure));
    }
    byte[] bytes = codec.write(out);
    WebSocketFrame frame =
        codec == Codec.JSON
            ? new TextWebSocketFrame(Unpooled.wrappedBuffer(bytes))
            : new BinaryWebSocketFrame(Unpooled.wrappedBuffer(bytes));
    ctx.channel().writeAndFlush(frame);
  }

  /**
   * Reads while there is room for more calls and the client takes its answers. Decided on the event
   * loop, so that racing completions cannot leave the last word to a stale decision.
   */
  private void updateReading() {
    if (ctx.executor().inEventLoop()) {
      updateReadingNow();
    } else {
      ctx.executor().execute(this::updateReadingNow);
    }
  }

  private void updateReadingNow() {
    boolean more = open && ctx.channel().isWritable();
    ctx.channel().config().setAutoRead(more);
  }

  private void goAway(String why) {
    open = false;
    ctx.channel()
        .writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.ENDPOINT_UNAVAILABLE, why))
        .addListener(ChannelFutureListener.CLOSE);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    updateReading();
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    open = false;
    for (Pending p : calls.values()) {
      p.cancelled = true;
      Thread t = p.thread;
      if (t != null) {
        t.interrupt();
      }
    }
    ctx.fireChannelInactive();
  }
}
