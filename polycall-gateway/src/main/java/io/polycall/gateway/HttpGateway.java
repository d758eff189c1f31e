package io.polycall.gateway;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.polycall.Status;
import io.polycall.core.PolyCall;
import io.polycall.gateway.internal.GatewayInitializer;
import io.polycall.gateway.internal.Settings;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The HTTP gateway of a node: JSON and CBOR calls, function listings, an OpenAPI document and a
 * WebSocket for streaming calls, on HTTP/1.1 and h2c (see {@code docs/http.md}).
 *
 * {@snippet :
 * try (HttpGateway http = HttpGateway.builder(node).withListen("127.0.0.1", 8080).start()) {
 *   // curl -d '[1, 2]' -H 'Content-Type: application/json' localhost:8080/v1/call/math.add
 *   http.awaitTermination(Duration.ofDays(1));
 * }
 * }
 *
 * <p>Every call goes through the node's {@link io.polycall.Caller}, so its interceptor chain
 * (authentication, authorization, limits, audit) runs on this path as on any other. The gateway
 * never sets an identity: the {@code Authorization} header travels as the {@code authorization}
 * metadata entry for the authentication interceptor to verify.
 *
 * <p>Thread-safe. {@link #start} binds before it returns; {@link #shutdown} does not block; {@link
 * #awaitTermination} and {@link #close} do.
 */
public final class HttpGateway implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(HttpGateway.class.getName());

  public static final int DEFAULT_MAX_BODY_BYTES = 16 << 20;
  public static final Duration DEFAULT_IDLE_TIMEOUT = Duration.ofSeconds(60);
  public static final Duration DEFAULT_WRITE_TIMEOUT = Duration.ofSeconds(30);
  public static final int DEFAULT_MAX_STREAM_CALLS = 256;

  /** How long {@link #close} lets calls in flight finish before it cuts connections. */
  private static final Duration CLOSE_GRACE = Duration.ofSeconds(10);

  private final EventLoopGroup boss;
  private final EventLoopGroup workers;
  private final Channel server;
  private final Settings settings;
  private final InetSocketAddress address;
  private final AtomicBoolean closed = new AtomicBoolean();

  private HttpGateway(Builder b) {
    this.settings =
        new Settings(
            b.node,
            b.maxBodyBytes,
            b.idleTimeout,
            b.writeTimeout,
            b.maxStreamCalls,
            new AtomicBoolean(),
            new DefaultChannelGroup("polycall-http", GlobalEventExecutor.INSTANCE));
    this.boss = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    this.workers = new MultiThreadIoEventLoopGroup(b.ioThreads, NioIoHandler.newFactory());
    String version = HttpGateway.class.getPackage().getImplementationVersion();
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(boss, workers)
            .channel(NioServerSocketChannel.class)
            .option(ChannelOption.SO_BACKLOG, 1024)
            .childOption(ChannelOption.AUTO_READ, false)
            .childOption(ChannelOption.TCP_NODELAY, true)
            // Past 1 MB of answers a client has not taken, streams stop reading new calls.
            .childOption(
                ChannelOption.WRITE_BUFFER_WATER_MARK,
                new WriteBufferWaterMark(256 * 1024, 1024 * 1024))
            .childHandler(new GatewayInitializer(settings, version == null ? "dev" : version));
    try {
      this.server =
          bootstrap.bind(new InetSocketAddress(b.host, b.port)).syncUninterruptibly().channel();
    } catch (Exception e) {
      boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
      throw Status.FAILED_PRECONDITION
          .withDescription(
              "the HTTP gateway cannot listen on "
                  + b.host
                  + ":"
                  + b.port
                  + ": "
                  + e
                  + "; choose a free port (0 picks one) and an address of this machine")
          .withCause(e)
          .asException();
    }
    this.address = (InetSocketAddress) server.localAddress();
    LOG.log(System.Logger.Level.DEBUG, "HTTP gateway listening on {0}", address);
  }

  /** A gateway for {@code node}, listening on 127.0.0.1 on a free port unless told otherwise. */
  public static Builder builder(PolyCall node) {
    return new Builder(node);
  }

  /** Settings of a gateway. Not thread-safe; build once. */
  public static final class Builder {
    private final PolyCall node;
    private String host = "127.0.0.1";
    private int port;
    private int maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
    private Duration idleTimeout = DEFAULT_IDLE_TIMEOUT;
    private Duration writeTimeout = DEFAULT_WRITE_TIMEOUT;
    private int maxStreamCalls = DEFAULT_MAX_STREAM_CALLS;
    private int ioThreads = Math.max(2, Runtime.getRuntime().availableProcessors());

    private Builder(PolyCall node) {
      this.node = Objects.requireNonNull(node, "node");
    }

    /** The address and port to listen on; port 0 picks a free one ({@link #port()} tells). */
    public Builder withListen(String host, int port) {
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port must be 0..65535, was " + port);
      }
      this.host = Objects.requireNonNull(host, "host");
      this.port = port;
      return this;
    }

    /** The largest request body and WebSocket message; larger requests get 413. */
    public Builder withMaxBodyBytes(long bytes) {
      if (bytes < 1 || bytes > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("max body bytes must be 1..2^31-9, was " + bytes);
      }
      this.maxBodyBytes = (int) bytes;
      return this;
    }

    /** A connection with no traffic and no call running this long is closed. */
    public Builder withIdleTimeout(Duration timeout) {
      this.idleTimeout = positive(timeout, "idle timeout");
      return this;
    }

    /** An answer the client has not taken this long is dropped, with its connection. */
    public Builder withWriteTimeout(Duration timeout) {
      this.writeTimeout = positive(timeout, "write timeout");
      return this;
    }

    /** Calls in flight on one WebSocket; one more is answered RESOURCE_EXHAUSTED. */
    public Builder withMaxStreamCalls(int calls) {
      if (calls < 1) {
        throw new IllegalArgumentException("max stream calls must be 1 or more, was " + calls);
      }
      this.maxStreamCalls = calls;
      return this;
    }

    /** Event-loop threads for sockets (calls themselves run on virtual threads). */
    public Builder withIoThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("io threads must be 1 or more, was " + threads);
      }
      this.ioThreads = threads;
      return this;
    }

    /**
     * Binds and starts serving.
     *
     * @throws io.polycall.StatusException FAILED_PRECONDITION when the address cannot be bound
     */
    public HttpGateway start() {
      return new HttpGateway(this);
    }

    private static Duration positive(Duration d, String what) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive, was " + d);
      }
      return d;
    }
  }

  /** The address the gateway listens on, with the actual port. */
  public InetSocketAddress address() {
    return address;
  }

  public int port() {
    return address.getPort();
  }

  /**
   * Stops accepting connections and lets calls in flight finish: each connection closes once its
   * answer is written (a WebSocket once its calls are answered). Does not block; idempotent.
   */
  public void shutdown() {
    if (settings.draining().getAndSet(true)) {
      return;
    }
    server.close();
    ChannelGroup channels = settings.channels();
    channels.forEach(c -> c.pipeline().fireUserEventTriggered(Settings.Event.DRAIN));
    channels
        .newCloseFuture()
        .addListener(
            f -> {
              boss.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
              workers.shutdownGracefully(0, 0, TimeUnit.MILLISECONDS);
            });
  }

  /** Closes every connection now; calls in flight are cancelled. Does not block. */
  public void shutdownNow() {
    shutdown();
    settings.channels().close();
  }

  public boolean isShutdown() {
    return settings.draining().get();
  }

  public boolean isTerminated() {
    return boss.isTerminated() && workers.isTerminated();
  }

  /** Waits until every connection is closed and the threads have stopped. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    return boss.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS)
        && workers.awaitTermination(
            Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  /**
   * Shuts down, waits up to 10 s for calls in flight, then cuts what is left and waits for the
   * threads. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    shutdown();
    try {
      if (!awaitTermination(CLOSE_GRACE)) {
        shutdownNow();
        awaitTermination(Duration.ofSeconds(5));
      }
    } catch (InterruptedException e) {
      shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "HttpGateway[" + address + "]";
  }
}
