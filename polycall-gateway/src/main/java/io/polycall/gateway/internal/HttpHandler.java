package io.polycall.gateway.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.buffer.ByteBufInputStream;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.handler.timeout.IdleStateEvent;
import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.gateway.HttpStatusMapping;
import io.polycall.gateway.JsonValues;
import io.polycall.spi.BoundFunction;
import java.util.List;

/**
 * Serves one HTTP/1.1 connection: routes each aggregated request, runs it on a virtual thread
 * (calls block), and writes the answer. One request at a time per connection: the next one is read
 * only once the answer is written, which keeps pipelined answers in order and gives TCP
 * backpressure (a client that does not read its answers stops being read).
 *
 * <p>Routes: {@code POST /v1/call/{function}}, {@code GET /v1/functions[?pattern=glob]}, {@code GET
 * /v1/functions/{name}}, {@code GET /v1/openapi.json}, {@code GET /v1/health}; {@code /v1/stream}
 * is upgraded to a WebSocket before this handler and served by {@link StreamHandler}.
 *
 * <p>Not sharable; one per connection. Its methods run on the connection's event loop, except the
 * request work, which runs on a virtual thread and writes through the thread-safe channel.
 */
public final class HttpHandler extends ChannelInboundHandlerAdapter {
  private static final System.Logger LOG = System.getLogger(HttpHandler.class.getName());
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  private static final String CALL = "/v1/call/";
  private static final String FUNCTIONS = "/v1/functions";

  /** The tag of functions that may run on the transport thread (the gRPC transport's too). */
  public static final String TAG_NONBLOCKING = "nonblocking";

  private final Settings settings;
  private final String version;

  /** The thread running the current request, interrupted if the client goes away. */
  private volatile Thread running;

  private volatile boolean streaming;

  /** This is the connection of HTTP/2 streams, each served by a handler of its own. */
  private volatile boolean http2;

  /** From reading a request until its answer is written. */
  private volatile boolean busy;

  /** A request that arrived while another was in flight; touched on the event loop only. */
  private FullHttpRequest pipelined;

  public HttpHandler(Settings settings, String version) {
    this.settings = settings;
    this.version = version;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    settings.channels().add(ctx.channel());
    ctx.read();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (http2) {
      // Connection-level frames (settings, pings) that the HTTP/2 codec already handled.
      io.netty.util.ReferenceCountUtil.release(msg);
      return;
    }
    if (!(msg instanceof FullHttpRequest req)) {
      ctx.fireChannelRead(msg);
      return;
    }
    if (req.decoderResult().isFailure()) {
      Throwable cause = req.decoderResult().cause();
      req.release();
      int code = cause instanceof TooLongFrameException ? 431 : 400;
      Status s =
          Status.INVALID_ARGUMENT.withDescription("malformed HTTP request: " + cause.getMessage());
      FullHttpResponse r = Responses.error(s, Codec.JSON, code);
      r.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
      return;
    }
    if (busy) {
      // Pipelined behind the request in flight; answered after it, in order. Nothing more is
      // read until then, so at most one request waits.
      pipelined = req;
      return;
    }
    dispatch(ctx, req);
  }

  private void dispatch(ChannelHandlerContext ctx, FullHttpRequest req) {
    boolean keepAlive = HttpUtil.isKeepAlive(req) && !settings.draining().get();
    busy = true;
    if (runsInline(req)) {
      FullHttpResponse response;
      try {
        response = route(req);
      } catch (Throwable e) {
        response = Responses.error(Status.fromThrowable(e));
      } finally {
        req.release();
      }
      send(ctx, response, keepAlive);
      return;
    }
    Thread t =
        Thread.ofVirtual()
            .name("polycall-http")
            .unstarted(
                () -> {
                  FullHttpResponse response;
                  try {
                    response = route(req);
                  } catch (Throwable e) {
                    response = Responses.error(Status.fromThrowable(e));
                  } finally {
                    req.release();
                  }
                  // The answer to a cancelled call goes nowhere; clear the flag for the pool.
                  Thread.interrupted();
                  running = null;
                  send(ctx, response, keepAlive);
                });
    running = t;
    t.start();
    // One read while the call runs, so that a client hanging up is noticed (and its call
    // cancelled) instead of staying unread in the socket.
    ctx.read();
  }

  /**
   * Whether a request runs on the event loop that read it instead of a virtual thread: a call of a
   * function tagged {@value #TAG_NONBLOCKING} without a deadline (the engine enforces deadlines on
   * a thread of its own), as the gRPC transport does. That saves two thread hand-offs per call and
   * is for functions that return in microseconds and never block, with interceptors that never
   * block either.
   */
  private boolean runsInline(FullHttpRequest req) {
    if (!req.method().equals(HttpMethod.POST)
        || !req.uri().startsWith(CALL)
        || req.headers().contains(Timeouts.HEADER)
        || req.headers().contains(Timeouts.GRPC_HEADER)) {
      return false;
    }
    try {
      String function = new QueryStringDecoder(req.uri()).path().substring(CALL.length());
      return settings
          .node()
          .registry()
          .lookup(function)
          .map(f -> f.info().hasTag(TAG_NONBLOCKING))
          .orElse(false);
    } catch (RuntimeException e) {
      // A name the registry cannot parse: the virtual-thread path answers it with its status.
      return false;
    }
  }

  private void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
    HttpUtil.setKeepAlive(response, keepAlive);
    ctx.writeAndFlush(response)
        .addListener(
            f -> {
              busy = false;
              FullHttpRequest next = pipelined;
              pipelined = null;
              if (!f.isSuccess() || !keepAlive || settings.draining().get()) {
                if (next != null) {
                  next.release();
                }
                ctx.close();
              } else if (next != null) {
                dispatch(ctx, next);
              } else {
                ctx.read();
              }
            });
  }

  private FullHttpResponse route(FullHttpRequest req) {
    QueryStringDecoder uri = new QueryStringDecoder(req.uri());
    String path = uri.path();
    HttpMethod method = req.method();
    HttpHeaders h = req.headers();
    if (path.startsWith(CALL) && path.length() > CALL.length()) {
      return method.equals(HttpMethod.POST)
          ? call(path.substring(CALL.length()), req)
          : notAllowed(method, path, "POST");
    }
    if (!method.equals(HttpMethod.GET)) {
      return isKnown(path) ? notAllowed(method, path, "GET") : noRoute(method, path);
    }
    Codec out = Codec.ofAccept(h.get(HttpHeaderNames.ACCEPT), Codec.JSON);
    if (out == null) {
      return notAcceptable(h);
    }
    if (path.equals(FUNCTIONS)) {
      List<String> p = uri.parameters().get("pattern");
      String glob = p == null || p.isEmpty() ? "**" : p.getFirst();
      ObjectNode body = NODES.objectNode();
      ArrayNode list = body.putArray("functions");
      settings.node().functions(glob).forEach(f -> list.add(describe(f)));
      return Responses.of(200, out, body);
    }
    if (path.startsWith(FUNCTIONS + "/") && path.length() > FUNCTIONS.length() + 1) {
      return Responses.of(
          200, out, describe(settings.node().describe(path.substring(FUNCTIONS.length() + 1))));
    }
    if (path.equals("/v1/openapi.json")) {
      return Responses.of(200, out, OpenApi.document(settings.node().functions("**"), version));
    }
    if (path.equals("/v1/health")) {
      boolean serving = !settings.draining().get();
      return Responses.of(
          serving ? 200 : 503,
          out,
          NODES.objectNode().put("status", serving ? "SERVING" : "NOT_SERVING"));
    }
    return noRoute(method, path);
  }

  private FullHttpResponse call(String function, FullHttpRequest req) {
    HttpHeaders h = req.headers();
    boolean hasBody = req.content().isReadable();
    Codec in = Codec.ofContentType(h.get(HttpHeaderNames.CONTENT_TYPE));
    if (hasBody && in == null) {
      return Responses.error(
          Status.INVALID_ARGUMENT.withDescription(
              "Content-Type '"
                  + h.get(HttpHeaderNames.CONTENT_TYPE, "(none)")
                  + "' is not supported; send application/json or application/cbor"),
          Codec.JSON,
          415);
    }
    Codec out = Codec.ofAccept(h.get(HttpHeaderNames.ACCEPT), in == null ? Codec.JSON : in);
    if (out == null) {
      return notAcceptable(h);
    }
    try {
      CallOptions options = options(h);
      FunctionInfo info =
          settings.node().registry().lookup(function).map(BoundFunction::info).orElse(null);
      JsonNode body =
          hasBody ? in.read(new ByteBufInputStream(req.content()), "the request body") : null;
      List<Value> args = Arguments.of(body, info);
      Value result = settings.node().caller().call(function, args, options);
      ObjectNode answer = NODES.objectNode();
      answer.set("result", JsonValues.toJson(result, JsonValues.Dialect.HTTP));
      return Responses.of(200, out, answer);
    } catch (StatusException e) {
      return Responses.error(e.status(), out, HttpStatusMapping.httpStatus(e.status().code()));
    }
  }

  /** Call options from the headers: the deadline, and credentials as metadata (never identity). */
  static CallOptions options(HttpHeaders h) {
    CallOptions o = CallOptions.DEFAULT;
    String auth = h.get(HttpHeaderNames.AUTHORIZATION);
    if (auth != null) {
      o = o.withMetadata("authorization", auth);
    }
    String trace = h.get("traceparent");
    if (trace != null) {
      o = o.withMetadata("traceparent", trace);
    }
    String timeout = h.get(Timeouts.HEADER);
    if (timeout != null) {
      o = o.withDeadlineAfter(Timeouts.parse(timeout, "X-PolyCall-Timeout"));
    }
    String grpc = h.get(Timeouts.GRPC_HEADER);
    if (grpc != null) {
      o = o.withDeadlineAfter(Timeouts.parseGrpc(grpc));
    }
    return o;
  }

  static ObjectNode describe(FunctionInfo f) {
    ObjectNode o = NODES.objectNode();
    o.put("name", f.name());
    o.put("version", f.version());
    o.put("signature", f.signature().toString());
    o.put("bridge", f.bridge());
    ArrayNode tags = o.putArray("tags");
    f.tags().stream().sorted().forEach(tags::add);
    o.put("doc", f.doc());
    return o;
  }

  private static boolean isKnown(String path) {
    return path.equals(FUNCTIONS)
        || path.startsWith(FUNCTIONS + "/")
        || path.equals("/v1/openapi.json")
        || path.equals("/v1/health");
  }

  private static FullHttpResponse notAllowed(HttpMethod method, String path, String allow) {
    FullHttpResponse r =
        Responses.error(
            Status.UNIMPLEMENTED.withDescription(
                method + " is not allowed on " + path + "; use " + allow),
            Codec.JSON,
            405);
    r.headers().set(HttpHeaderNames.ALLOW, allow);
    return r;
  }

  private static FullHttpResponse noRoute(HttpMethod method, String path) {
    return Responses.error(
        Status.NOT_FOUND.withDescription(
            "no route "
                + method
                + " "
                + path
                + "; the gateway serves POST /v1/call/{function}, GET /v1/functions,"
                + " GET /v1/functions/{name}, GET /v1/openapi.json, GET /v1/health and the"
                + " WebSocket /v1/stream"));
  }

  private static FullHttpResponse notAcceptable(HttpHeaders h) {
    return Responses.error(
        Status.INVALID_ARGUMENT.withDescription(
            "Accept '"
                + h.get(HttpHeaderNames.ACCEPT)
                + "' names no format the gateway writes; accept application/json or"
                + " application/cbor"),
        Codec.JSON,
        406);
  }

  /**
   * This connection now carries HTTP/2 streams, each served by a handler of its own; this one only
   * drains the connection.
   */
  void switchedToHttp2() {
    http2 = true;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (http2) {
      // Closing an HTTP/2 connection sends GOAWAY and lets its streams finish.
      if (evt == Settings.Event.DRAIN || evt instanceof IdleStateEvent && noActiveStreams(ctx)) {
        ctx.close();
        return;
      }
    } else if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
      streaming = true;
    } else if (!streaming
        && !busy
        && (evt instanceof IdleStateEvent || evt == Settings.Event.DRAIN)) {
      ctx.close();
      return;
    }
    ctx.fireUserEventTriggered(evt);
  }

  private static boolean noActiveStreams(ChannelHandlerContext ctx) {
    var codec = ctx.pipeline().get(io.netty.handler.codec.http2.Http2FrameCodec.class);
    return codec == null || codec.connection().numActiveStreams() == 0;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (pipelined != null) {
      pipelined.release();
      pipelined = null;
    }
    Thread t = running;
    if (t != null) {
      // The client went away: the function sees its call cancelled.
      t.interrupt();
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    LOG.log(System.Logger.Level.DEBUG, "HTTP connection " + ctx.channel() + " failed", cause);
    ctx.close();
  }
}
