package io.polycall.grpc;

import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionService;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.util.MutableHandlerRegistry;
import io.polycall.core.PolyCall;
import io.polycall.grpc.internal.FunctionServices;
import io.polycall.grpc.internal.GenericService;
import io.polycall.grpc.internal.Rpc;
import io.polycall.grpc.internal.TlsIdentityFilter;
import io.polycall.wire.ValueCodec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A node's gRPC server: the generic service {@code polycall.v1.PolyCall} (spec/service.proto),
 * every registered function as a method of its own ({@code math.cos} as {@code
 * polycall.fn.math/Cos}, messages synthesized from the signature; WIRE.md, "gRPC"), the standard
 * health service {@code grpc.health.v1.Health} and server reflection (v1 and v1alpha), which
 * describes the per-function services too, so {@code grpcurl} needs no proto file. Functions
 * registered or removed while the server runs appear and disappear as methods.
 *
 * {@snippet :
 * try (PolyCall node = PolyCall.create();
 *     GrpcServer server = GrpcServer.builder(node).withListenAddress("127.0.0.1:0").start()) {
 *   node.jvm().register("math.cos(x: f64) -> f64", (DoubleUnaryOperator) Math::cos);
 *   System.out.println("gRPC on 127.0.0.1:" + server.port());
 * }
 * }
 *
 * <p>Every call goes through the node's {@link io.polycall.Caller}, so the interceptor chain
 * (authentication, authorization, audit) sees gRPC calls as it sees any other. The gRPC deadline
 * becomes the call's deadline, a cancelled RPC cancels the running call, request headers become
 * call metadata, and a client certificate verified by mutual TLS becomes the call's identity.
 *
 * <p>Thread-safe. {@link #start} binds and returns at once; the server runs on its own threads
 * (Netty's event loops; calls on virtual threads of the call engine). {@link #close} is idempotent.
 */
public final class GrpcServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(GrpcServer.class.getName());

  /** The default limit of a request message, as gRPC's own default: 4 MiB. */
  public static final int DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

  /**
   * The function tag that lets the server run a call on the transport thread that read it, as
   * grpc-java's direct executor does, instead of handing it to the call engine's virtual thread and
   * back: two thread hand-offs fewer per call. Only for functions that return in microseconds and
   * never block, on nodes whose interceptors never block (a blocked transport thread stalls every
   * connection it serves). Calls with a deadline always take the engine's thread.
   */
  public static final String TAG_NONBLOCKING = io.polycall.grpc.internal.Dispatch.TAG_NONBLOCKING;

  /** Calls one {@code CallStream} may have running or waiting to be sent. */
  public static final int DEFAULT_MAX_STREAM_IN_FLIGHT = 256;

  private final Server server;
  private final HealthStatusManager health;
  private final MutableHandlerRegistry functionServices;
  private final FunctionServices perFunction;
  private final String nodeId;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean stopping = new AtomicBoolean();

  private GrpcServer(Builder b) throws IOException {
    this.nodeId = b.nodeId;
    this.health = new HealthStatusManager();
    this.functionServices = new MutableHandlerRegistry();
    this.perFunction =
        b.perFunctionServices
            ? new FunctionServices(b.node.registry(), b.node.caller(), functionServices, health)
            : null;
    ServerCredentials creds = credentials(b.tls);
    NettyServerBuilder nb =
        NettyServerBuilder.forAddress(b.address, creds)
            // Handlers never block: calls run on the engine's virtual threads. Running the
            // callbacks on the event loop saves a thread hop per call.
            .directExecutor()
            .maxInboundMessageSize(b.maxMessageBytes)
            .maxInboundMetadataSize(b.maxMetadataBytes)
            .fallbackHandlerRegistry(functionServices)
            .addTransportFilter(new TlsIdentityFilter())
            .addService(GenericService.create(b.node, nodeId, ValueCodec.of(), b.maxStreamInFlight))
            .addService(health.getHealthService())
            .addService(ProtoReflectionServiceV1.newInstance())
            .addService(legacyReflection());
    if (b.keepaliveTime != null) {
      nb.keepAliveTime(b.keepaliveTime.toNanos(), TimeUnit.NANOSECONDS);
    }
    if (b.keepaliveTimeout != null) {
      nb.keepAliveTimeout(b.keepaliveTimeout.toNanos(), TimeUnit.NANOSECONDS);
    }
    if (b.permitKeepaliveTime != null) {
      nb.permitKeepAliveTime(b.permitKeepaliveTime.toNanos(), TimeUnit.NANOSECONDS);
    }
    nb.permitKeepAliveWithoutCalls(b.permitKeepaliveWithoutCalls);
    if (b.maxConnectionIdle != null) {
      nb.maxConnectionIdle(b.maxConnectionIdle.toNanos(), TimeUnit.NANOSECONDS);
    }
    if (perFunction != null) {
      perFunction.start();
    }
    try {
      this.server = nb.build().start();
    } catch (IOException | RuntimeException e) {
      if (perFunction != null) {
        perFunction.close();
      }
      throw e;
    }
    health.setStatus("", io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    health.setStatus(Rpc.SERVICE, io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
    LOG.log(System.Logger.Level.INFO, "gRPC listening on {0}", target());
  }

  @SuppressWarnings("deprecation")
  private static io.grpc.BindableService legacyReflection() {
    // v1alpha, which older grpcurl and grpc_cli builds still ask for first.
    return ProtoReflectionService.newInstance();
  }

  private static ServerCredentials credentials(GrpcTls tls) throws IOException {
    if (tls == null) {
      return InsecureServerCredentials.create();
    }
    var cb =
        TlsServerCredentials.newBuilder()
            .keyManager(tls.certChain().toFile(), tls.privateKey().toFile());
    if (tls.clientCa() != null) {
      cb.trustManager(tls.clientCa().toFile())
          .clientAuth(
              tls.requireClientAuth()
                  ? TlsServerCredentials.ClientAuth.REQUIRE
                  : TlsServerCredentials.ClientAuth.OPTIONAL);
    }
    return cb.build();
  }

  public static Builder builder(PolyCall node) {
    return new Builder(node);
  }

  /** Settings of a server. Not thread-safe; build once. */
  public static final class Builder {
    private final PolyCall node;
    private InetSocketAddress address = new InetSocketAddress("127.0.0.1", 0);
    private String nodeId = "node-" + ProcessHandle.current().pid();
    private GrpcTls tls;
    private int maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES;
    private int maxMetadataBytes = 8192;
    private int maxStreamInFlight = DEFAULT_MAX_STREAM_IN_FLIGHT;
    private Duration keepaliveTime;
    private Duration keepaliveTimeout;
    private Duration permitKeepaliveTime;
    private boolean permitKeepaliveWithoutCalls;
    private Duration maxConnectionIdle;
    private boolean perFunctionServices = true;

    private Builder(PolyCall node) {
      this.node = Objects.requireNonNull(node, "node");
    }

    /** Where to listen; port 0 picks a free port ({@link #port} tells which). */
    public Builder withListenAddress(InetSocketAddress address) {
      this.address = Objects.requireNonNull(address, "address");
      return this;
    }

    /**
     * Where to listen, as {@code HOST:PORT}, {@code [IPV6]:PORT} or {@code :PORT} (all addresses).
     *
     * @throws IllegalArgumentException naming what is wrong with {@code hostPort}
     */
    public Builder withListenAddress(String hostPort) {
      return withListenAddress(parseAddress(hostPort));
    }

    /** The id this node gives in ListFunctions and FunctionEntry; default {@code node-PID}. */
    public Builder withNodeId(String id) {
      this.nodeId = Objects.requireNonNull(id, "id");
      return this;
    }

    /** Serves TLS (or mutual TLS) instead of plaintext. */
    public Builder withTls(GrpcTls tls) {
      this.tls = tls;
      return this;
    }

    /** The largest request message accepted; bigger ones fail with RESOURCE_EXHAUSTED. */
    public Builder withMaxMessageBytes(int bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("max message bytes must be positive, not " + bytes);
      }
      this.maxMessageBytes = bytes;
      return this;
    }

    /** The most calls one CallStream may have running or unsent (flow control). */
    public Builder withMaxStreamInFlight(int calls) {
      if (calls <= 0) {
        throw new IllegalArgumentException("max stream in flight must be positive, not " + calls);
      }
      this.maxStreamInFlight = calls;
      return this;
    }

    /**
     * Keepalive: the server pings a connection idle for {@code time} and drops it when the ping is
     * not answered within {@code timeout}. Null leaves gRPC's default (2 hours, 20 seconds).
     */
    public Builder withKeepalive(Duration time, Duration timeout) {
      this.keepaliveTime = time;
      this.keepaliveTimeout = timeout;
      return this;
    }

    /**
     * What clients may do: ping no more often than {@code minTime} (more often gets the connection
     * closed with ENHANCE_YOUR_CALM, as gRPC servers do) and, if {@code withoutCalls}, also while
     * no call is open.
     */
    public Builder withPermitKeepalive(Duration minTime, boolean withoutCalls) {
      this.permitKeepaliveTime = minTime;
      this.permitKeepaliveWithoutCalls = withoutCalls;
      return this;
    }

    /** Closes connections that had no call for this long (null: never). */
    public Builder withMaxConnectionIdle(Duration idle) {
      this.maxConnectionIdle = idle;
      return this;
    }

    /**
     * Whether every registered function is also served as a method of its own ({@code
     * polycall.fn.math/Cos}); on by default. Off, only the generic service answers calls.
     */
    public Builder withPerFunctionServices(boolean on) {
      this.perFunctionServices = on;
      return this;
    }

    /**
     * Binds and starts serving.
     *
     * @throws UncheckedIOException if the address cannot be bound or the TLS files cannot be read
     */
    public GrpcServer start() {
      try {
        return new GrpcServer(this);
      } catch (IOException e) {
        throw new UncheckedIOException(
            "cannot start the gRPC server on " + address + ": " + e.getMessage(), e);
      }
    }
  }

  static InetSocketAddress parseAddress(String hostPort) {
    Objects.requireNonNull(hostPort, "hostPort");
    int colon = hostPort.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException(
          "listen address '" + hostPort + "' has no port: write HOST:PORT, e.g. 127.0.0.1:50051");
    }
    String host = hostPort.substring(0, colon);
    String portText = hostPort.substring(colon + 1);
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException(
          "listen address '" + hostPort + "': port '" + portText + "' is not 0..65535");
    }
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return host.isEmpty() || host.equals("*")
        ? new InetSocketAddress(port)
        : new InetSocketAddress(host, port);
  }

  /** The port the server listens on (the one picked when asked for port 0). */
  public int port() {
    return ((InetSocketAddress) server.getListenSockets().getFirst()).getPort();
  }

  /** The address the server listens on. */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getListenSockets().getFirst();
  }

  /** {@code host:port} as a client would dial it (the loopback address when bound to any). */
  public String target() {
    InetSocketAddress a = address();
    String host =
        a.getAddress() == null || a.getAddress().isAnyLocalAddress()
            ? "127.0.0.1"
            : a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  public String nodeId() {
    return nodeId;
  }

  /**
   * Waits until the per-function services reflect every registry change made so far (they follow
   * the registry a moment later, off the registering thread). True if they do within {@code
   * timeout}; also true when per-function services are off.
   */
  public boolean awaitFunctionServices(Duration timeout) throws InterruptedException {
    return perFunction == null || perFunction.awaitServed(timeout.toMillis());
  }

  /** The health service's status manager, for callers that report more services. */
  HealthStatusManager health() {
    return health;
  }

  MutableHandlerRegistry functionServices() {
    return functionServices;
  }

  /**
   * Stops taking new calls; calls in flight finish. Health turns NOT_SERVING first, so load
   * balancers stop sending here. Does not block.
   */
  public GrpcServer shutdown() {
    stopServing();
    server.shutdown();
    return this;
  }

  /** Stops taking new calls and cancels those in flight. Does not block. */
  public GrpcServer shutdownNow() {
    stopServing();
    server.shutdownNow();
    return this;
  }

  private void stopServing() {
    if (!stopping.compareAndSet(false, true)) {
      return;
    }
    health.enterTerminalState();
    if (perFunction != null) {
      perFunction.close();
    }
  }

  /** Waits until the server has stopped; true if it did within {@code timeout}. */
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    return server.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  public boolean isShutdown() {
    return server.isShutdown();
  }

  public boolean isTerminated() {
    return server.isTerminated();
  }

  /**
   * Shuts down, gives calls in flight up to 5 seconds to finish, then cancels the rest and waits
   * for the server to stop. Idempotent; blocks.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    shutdown();
    try {
      if (!awaitTermination(Duration.ofSeconds(5))) {
        shutdownNow();
        awaitTermination(Duration.ofSeconds(5));
      }
    } catch (InterruptedException e) {
      shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
