package io.polycall.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ChannelCredentials;
import io.grpc.ClientCall;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.ClientCalls;
import io.polycall.Caller;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.CallRequest;
import io.polycall.core.CallResult;
import io.polycall.grpc.internal.Decls;
import io.polycall.grpc.internal.Rpc;
import io.polycall.grpc.internal.Statuses;
import io.polycall.wire.StatusCodec;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.proto.Batch;
import io.polycall.wire.proto.BatchResult;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.DescribeFunctionRequest;
import io.polycall.wire.proto.FunctionEntry;
import io.polycall.wire.proto.ListFunctionsRequest;
import io.polycall.wire.proto.ListFunctionsResponse;
import io.polycall.wire.proto.Result;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Calls the functions of a remote node through its {@code polycall.v1.PolyCall} gRPC service.
 *
 * {@snippet :
 * try (GrpcClient node = GrpcClient.connect("127.0.0.1:50051")) {
 *   Value r = node.call("math.cos", Value.f64(0.5));
 *   List<NodeFunction> fs = node.functions("math.*", true);
 * }
 * }
 *
 * <p>A failed call throws (or fails its future with) a {@link StatusException} carrying the node's
 * status: code, message and cross-language stack frames, exactly as the node produced them. When
 * the node never answered (it is down, the connection broke), the status is gRPC's (usually
 * UNAVAILABLE or DEADLINE_EXCEEDED) and its message starts with {@code node HOST:PORT}.
 *
 * <p>{@link io.polycall.CallOptions} map to the call: the deadline becomes the gRPC deadline, the
 * metadata travels in {@code Call.metadata}. The identity does not travel: the remote node decides
 * who is calling from the transport (mTLS) or from a token in the metadata.
 *
 * <p>Thread-safe: one client serves any number of threads and calls at once (one HTTP/2 connection,
 * multiplexed). {@code call}, {@code batch}, {@code functions} and {@code describe} block; {@code
 * callAsync} does not, and cancelling its future cancels the remote call. {@link #close} is
 * idempotent and closes the channel only if this client opened it.
 */
public final class GrpcClient implements Caller, AutoCloseable {
  private final Channel channel;
  private final ManagedChannel owned;
  private final String target;
  private final ValueCodec codec = ValueCodec.of();
  private final AtomicBoolean closed = new AtomicBoolean();

  private GrpcClient(Channel channel, ManagedChannel owned, String target) {
    this.channel = channel;
    this.owned = owned;
    this.target = target;
  }

  /** A client over a plaintext connection to {@code target} ({@code host:port}). */
  public static GrpcClient connect(String target) {
    return connect(target, InsecureChannelCredentials.create());
  }

  /**
   * A client over a connection to {@code target} with {@code credentials} (for TLS, grpc's {@code
   * TlsChannelCredentials}). The client owns the channel: {@link #close} closes it.
   */
  public static GrpcClient connect(String target, ChannelCredentials credentials) {
    ManagedChannel ch = Grpc.newChannelBuilder(target, credentials).build();
    return new GrpcClient(ch, ch, target);
  }

  /**
   * Channel credentials for TLS: trust the CA certificates in {@code caCert} (PEM; null: the JDK's
   * default trust store) and, for mutual TLS, present {@code clientCert} with {@code clientKey}
   * (PEM, PKCS#8; both null for none).
   *
   * @throws UncheckedIOException if a file cannot be read or parsed
   */
  public static ChannelCredentials tlsCredentials(Path caCert, Path clientCert, Path clientKey) {
    try {
      var b = TlsChannelCredentials.newBuilder();
      if (caCert != null) {
        b.trustManager(caCert.toFile());
      }
      if (clientCert != null || clientKey != null) {
        if (clientCert == null || clientKey == null) {
          throw new IllegalArgumentException(
              "a client certificate needs both the certificate and its key");
        }
        b.keyManager(clientCert.toFile(), clientKey.toFile());
      }
      return b.build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read TLS files: " + e.getMessage(), e);
    }
  }

  /** A client over a channel the caller owns (and closes). */
  public static GrpcClient of(Channel channel) {
    return new GrpcClient(channel, null, channel.authority());
  }

  /** The node this client calls, as given ({@code host:port}). */
  public String target() {
    return target;
  }

  @Override
  public Value call(String name, List<Value> args, io.polycall.CallOptions options) {
    Call req = request(name, args, options);
    Result r;
    try {
      r = ClientCalls.blockingUnaryCall(channel, Rpc.CALL, grpcOptions(options), req);
    } catch (StatusRuntimeException e) {
      throw Statuses.fromGrpc(e, target);
    }
    return valueOf(r);
  }

  @Override
  public CompletableFuture<Value> callAsync(
      String name, List<Value> args, io.polycall.CallOptions options) {
    Call req;
    try {
      req = request(name, args, options);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    ClientCall<Call, Result> call = channel.newCall(Rpc.CALL, grpcOptions(options));
    PendingCall pending = new PendingCall(call);
    call.start(pending.listener, new Metadata());
    call.request(2);
    call.sendMessage(req);
    call.halfClose();
    return pending;
  }

  /**
   * Runs {@code calls} on the node in one message and returns their results in order; one failed
   * call fails only its own result. A failure of the whole request (the node is down, the deadline
   * passed) throws.
   *
   * @throws StatusException when the batch as a whole failed
   */
  public List<CallResult> batch(List<CallRequest> calls, io.polycall.CallOptions options) {
    var b = Batch.newBuilder();
    for (CallRequest c : calls) {
      var cb = Call.newBuilder().setFunction(c.name());
      for (Value v : c.args()) {
        cb.addArgs(codec.encode(v));
      }
      // The node applies metadata per call, so the batch's travels in every call.
      cb.putAllMetadata(options.metadata());
      b.addCalls(cb);
    }
    Batch req = b.build();
    BatchResult res;
    try {
      res = ClientCalls.blockingUnaryCall(channel, Rpc.BATCH, grpcOptions(options), req);
    } catch (StatusRuntimeException e) {
      throw Statuses.fromGrpc(e, target);
    }
    if (res.getResultsCount() != calls.size()) {
      throw Status.INTERNAL
          .withDescription(
              "node "
                  + target
                  + " answered a batch of "
                  + calls.size()
                  + " calls with "
                  + res.getResultsCount()
                  + " results")
          .asException();
    }
    List<CallResult> out = new ArrayList<>(calls.size());
    for (Result r : res.getResultsList()) {
      try {
        out.add(CallResult.ok(valueOf(r)));
      } catch (StatusException e) {
        out.add(CallResult.failed(e.status()));
      }
    }
    return out;
  }

  /**
   * The node's functions whose names match {@code glob} ({@code **} for all); with {@code
   * localOnly}, only those it runs itself (not those it forwards to other nodes).
   */
  public List<NodeFunction> functions(String glob, boolean localOnly) {
    ListFunctionsResponse res;
    try {
      res =
          ClientCalls.blockingUnaryCall(
              channel,
              Rpc.LIST_FUNCTIONS,
              CallOptions.DEFAULT,
              ListFunctionsRequest.newBuilder().setPattern(glob).setLocalOnly(localOnly).build());
    } catch (StatusRuntimeException e) {
      throw Statuses.fromGrpc(e, target);
    }
    List<NodeFunction> out = new ArrayList<>(res.getFunctionsCount());
    for (FunctionEntry e : res.getFunctionsList()) {
      out.add(new NodeFunction(Decls.fromEntry(e), e.getNodeId()));
    }
    return out;
  }

  /**
   * One function of the node, by {@code name} or {@code name@version}.
   *
   * @throws StatusException NOT_FOUND (with suggestions) if the node has no such function
   */
  public NodeFunction describe(String name) {
    FunctionEntry e;
    try {
      e =
          ClientCalls.blockingUnaryCall(
              channel,
              Rpc.DESCRIBE_FUNCTION,
              CallOptions.DEFAULT,
              DescribeFunctionRequest.newBuilder().setName(name).build());
    } catch (StatusRuntimeException ex) {
      throw Statuses.fromGrpc(ex, target);
    }
    return new NodeFunction(Decls.fromEntry(e), e.getNodeId());
  }

  private Call request(String name, List<Value> args, io.polycall.CallOptions options) {
    Objects.requireNonNull(name, "name");
    var b = Call.newBuilder().setFunction(name);
    for (Value v : args) {
      b.addArgs(codec.encode(v));
    }
    if (!options.metadata().isEmpty()) {
      b.putAllMetadata(options.metadata());
    }
    return b.build();
  }

  private static CallOptions grpcOptions(io.polycall.CallOptions options) {
    if (!options.hasDeadline()) {
      return CallOptions.DEFAULT;
    }
    return CallOptions.DEFAULT.withDeadlineAfter(options.remainingNanos(), TimeUnit.NANOSECONDS);
  }

  private Value valueOf(Result r) {
    return switch (r.getOutcomeCase()) {
      case VALUE -> codec.decode(r.getValue(), "result");
      case STATUS -> throw StatusCodec.decode(r.getStatus()).asException();
      default ->
          throw Status.INTERNAL
              .withDescription("node " + target + " sent a Result with neither value nor status")
              .asException();
    };
  }

  /** One unary call in flight: its future, whose cancel cancels the RPC. */
  private final class PendingCall extends CompletableFuture<Value> {
    private final ClientCall<Call, Result> call;
    private Result result;

    PendingCall(ClientCall<Call, Result> call) {
      this.call = call;
    }

    private final ClientCall.Listener<Result> listener =
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(Result message) {
            result = message;
          }

          @Override
          public void onClose(io.grpc.Status status, Metadata trailers) {
            if (!status.isOk()) {
              completeExceptionally(Statuses.fromGrpc(status, trailers, target).asException());
            } else if (result == null) {
              completeExceptionally(
                  Status.INTERNAL
                      .withDescription("node " + target + " closed the call without a result")
                      .asException());
            } else {
              try {
                complete(valueOf(result));
              } catch (RuntimeException e) {
                completeExceptionally(e);
              }
            }
          }
        };

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
      boolean done =
          completeExceptionally(
              Status.CANCELLED
                  .withDescription("the call was cancelled by its caller")
                  .asException());
      if (done) {
        call.cancel("cancelled by the caller", null);
      }
      return done;
    }

    @Override
    public boolean isCancelled() {
      return isCompletedExceptionally()
          && exceptionNow() instanceof StatusException se
          && se.status().code() == Status.Code.CANCELLED;
    }
  }

  /**
   * Closes the channel if this client opened it: calls in flight get up to 5 seconds, then are
   * cancelled. Idempotent; blocks.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true) || owned == null) {
      return;
    }
    owned.shutdown();
    try {
      if (!owned.awaitTermination(5, TimeUnit.SECONDS)) {
        owned.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      owned.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }
}
