package io.polycall.grpc.internal;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.ClientCalls;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.grpc.RemoteBridge;
import io.polycall.spi.BatchInvoker;
import io.polycall.wire.StatusCodec;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.proto.Batch;
import io.polycall.wire.proto.BatchResult;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.FunctionDecl;
import io.polycall.wire.proto.FunctionEntry;
import io.polycall.wire.proto.ListFunctionsRequest;
import io.polycall.wire.proto.ListFunctionsResponse;
import io.polycall.wire.proto.Result;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A remote node over one gRPC channel (plaintext or TLS; the channel reconnects by itself with
 * gRPC's backoff). Calls use the generic service's unary {@code Call} with the caller's remaining
 * deadline as the gRPC deadline, so the node stops when the caller gives up; an interrupt of the
 * calling thread cancels the RPC. Thread-safe.
 */
public final class GrpcPeerConnection implements PeerConnection {
  private static final System.Logger LOG = System.getLogger(GrpcPeerConnection.class.getName());
  private final String address;
  private final ManagedChannel channel;
  private final ValueCodec codec = ValueCodec.of();
  private volatile java.util.function.Supplier<String> token = () -> null;

  private GrpcPeerConnection(String address, ManagedChannel channel) {
    this.address = address;
    this.channel = channel;
  }

  /** A plaintext channel to {@code host:port}. */
  public static GrpcPeerConnection plaintext(String address) {
    ManagedChannel ch =
        ManagedChannelBuilder.forTarget(address)
            .usePlaintext()
            .maxInboundMessageSize(64 << 20)
            .build();
    return new GrpcPeerConnection(address, ch);
  }

  /**
   * A channel to {@code host:port} with these credentials (TLS, mutual TLS).
   *
   * @param authority the name the node's certificate must carry, when it is not the address's host
   *     (peers found through DNS are dialled by IP); null for the host
   */
  public static GrpcPeerConnection secure(
      String address, io.grpc.ChannelCredentials credentials, String authority) {
    var b = io.grpc.Grpc.newChannelBuilder(address, credentials).maxInboundMessageSize(64 << 20);
    if (authority != null && !authority.isEmpty()) {
      b.overrideAuthority(authority);
    }
    return new GrpcPeerConnection(address, b.build());
  }

  /**
   * The bearer token this node presents on its peers (its own identity there), read on each use;
   * null for none. A call that carries its caller's {@code authorization} keeps it: the peer then
   * checks the original caller, not this node.
   */
  public void tokenSource(java.util.function.Supplier<String> source) {
    this.token = source;
  }

  private void authorize(Call.Builder call, io.polycall.CallOptions options) {
    call.putAllMetadata(options.metadata());
    String t = token.get();
    if (t != null && !options.metadata().containsKey(AUTHORIZATION)) {
      call.putMetadata(AUTHORIZATION, "Bearer " + t);
    }
  }

  private static final String AUTHORIZATION = "authorization";

  @Override
  public Value call(String qualifiedName, Value[] args, io.polycall.CallOptions options)
      throws NodeUnavailableException {
    Call.Builder call = Call.newBuilder().setFunction(qualifiedName);
    for (Value a : args) {
      call.addArgs(codec.encode(a));
    }
    authorize(call, options);
    CallOptions grpcOptions = CallOptions.DEFAULT;
    if (options.hasDeadline()) {
      long remaining = options.remainingNanos();
      if (remaining <= 0) {
        throw Status.DEADLINE_EXCEEDED
            .withDescription("deadline passed before " + qualifiedName + " was sent to " + address)
            .asException();
      }
      grpcOptions = grpcOptions.withDeadlineAfter(remaining, TimeUnit.NANOSECONDS);
    }
    Result r;
    try {
      r = ClientCalls.blockingUnaryCall(channel, Rpc.CALL, grpcOptions, call.build());
    } catch (StatusRuntimeException e) {
      throw failure(e);
    }
    if (r.hasStatus()) {
      throw StatusCodec.decode(r.getStatus()).asException();
    }
    return codec.decode(r.getValue());
  }

  @Override
  public List<BatchInvoker.Outcome> callAll(
      String qualifiedName, List<Value[]> calls, io.polycall.CallOptions options)
      throws NodeUnavailableException {
    Batch.Builder batch = Batch.newBuilder();
    for (Value[] args : calls) {
      Call.Builder call = Call.newBuilder().setFunction(qualifiedName);
      for (Value a : args) {
        call.addArgs(codec.encode(a));
      }
      authorize(call, options);
      batch.addCalls(call);
    }
    BatchResult r;
    try {
      r = ClientCalls.blockingUnaryCall(channel, Rpc.BATCH, grpcOptions(options), batch.build());
    } catch (StatusRuntimeException e) {
      throw failure(e);
    }
    if (r.getResultsCount() != calls.size()) {
      throw Status.INTERNAL
          .withDescription(
              "node at "
                  + address
                  + " answered a batch of "
                  + calls.size()
                  + " with "
                  + r.getResultsCount()
                  + " results")
          .asException();
    }
    List<BatchInvoker.Outcome> out = new ArrayList<>(calls.size());
    for (Result res : r.getResultsList()) {
      out.add(
          res.hasStatus()
              ? new BatchInvoker.Outcome(null, StatusCodec.decode(res.getStatus()))
              : new BatchInvoker.Outcome(codec.decode(res.getValue()), Status.OK));
    }
    return out;
  }

  private CallOptions grpcOptions(io.polycall.CallOptions options) {
    if (!options.hasDeadline()) {
      return CallOptions.DEFAULT;
    }
    long remaining = options.remainingNanos();
    if (remaining <= 0) {
      throw Status.DEADLINE_EXCEEDED
          .withDescription("deadline passed before the call was sent to " + address)
          .asException();
    }
    return CallOptions.DEFAULT.withDeadlineAfter(remaining, TimeUnit.NANOSECONDS);
  }

  /**
   * The node's own failures come with the polycall status trailer and are the function's; without
   * it, UNAVAILABLE (and an UNKNOWN/INTERNAL from a broken connection) means the node failed.
   */
  private StatusException failure(StatusRuntimeException e) throws NodeUnavailableException {
    io.polycall.wire.proto.Status wire =
        e.getTrailers() == null ? null : e.getTrailers().get(Rpc.STATUS_TRAILER);
    if (wire != null) {
      return StatusCodec.decode(wire).asException();
    }
    io.grpc.Status g = e.getStatus();
    if (g.getCode() == io.grpc.Status.Code.UNAVAILABLE) {
      throw new NodeUnavailableException(describe(g), e);
    }
    // CANCELLED that we did not ask for (our thread was not interrupted) is the node dropping the
    // call: a server shutting down resets its streams before its connections go.
    if (g.getCode() == io.grpc.Status.Code.CANCELLED && !Thread.currentThread().isInterrupted()) {
      throw new NodeUnavailableException("the node dropped the call: " + describe(g), e);
    }
    Status s =
        Status.Code.ofNumber(g.getCode().value())
            .toStatus()
            .withDescription("node at " + address + ": " + describe(g));
    return s.withCause(e).asException();
  }

  private static String describe(io.grpc.Status g) {
    String d = g.getDescription();
    if (d == null && g.getCause() != null) {
      d = g.getCause().toString();
    }
    return g.getCode() + (d == null ? "" : " (" + d + ")");
  }

  @Override
  public Advertisement listLocal(Duration timeout) throws NodeUnavailableException {
    ListFunctionsResponse resp;
    try {
      io.grpc.Channel ch = channel;
      String t = token.get();
      if (t != null) {
        io.grpc.Metadata headers = new io.grpc.Metadata();
        headers.put(
            io.grpc.Metadata.Key.of(AUTHORIZATION, io.grpc.Metadata.ASCII_STRING_MARSHALLER),
            "Bearer " + t);
        ch =
            io.grpc.ClientInterceptors.intercept(
                channel, io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers));
      }
      resp =
          ClientCalls.blockingUnaryCall(
              ch,
              Rpc.LIST_FUNCTIONS,
              CallOptions.DEFAULT.withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS),
              ListFunctionsRequest.newBuilder().setPattern("**").setLocalOnly(true).build());
    } catch (StatusRuntimeException e) {
      throw new NodeUnavailableException(describe(e.getStatus()), e);
    }
    List<FunctionInfo> out = new ArrayList<>();
    for (FunctionEntry entry : resp.getFunctionsList()) {
      FunctionDecl d = entry.getDecl();
      try {
        Signature sig = Signature.parse(d.getSignature());
        out.add(
            new FunctionInfo(
                sig,
                Math.max(1, d.getVersion()),
                RemoteBridge.NAME,
                remoteTags(d.getTagsList()),
                d.getDoc()));
      } catch (StatusException | IllegalArgumentException e) {
        LOG.log(
            Level.WARNING,
            "node at {0} advertised a bad function, skipped: {1}",
            address,
            e.getMessage());
      }
    }
    return new Advertisement(resp.getNodeId(), out);
  }

  /**
   * A peer's tags, less {@code nonblocking}: on the peer the function never blocks, but calling it
   * here is a network round trip, which must never run on a transport thread of this node.
   */
  static Set<String> remoteTags(List<String> tags) {
    Set<String> out = new java.util.HashSet<>(tags);
    out.remove(Dispatch.TAG_NONBLOCKING);
    return Set.copyOf(out);
  }

  @Override
  public Health checkHealth(Duration timeout) {
    try {
      HealthCheckResponse r =
          HealthGrpc.newBlockingStub(channel)
              .withDeadlineAfter(timeout.toNanos(), TimeUnit.NANOSECONDS)
              .check(HealthCheckRequest.newBuilder().setService("").build());
      return r.getStatus() == HealthCheckResponse.ServingStatus.SERVING
          ? Health.SERVING
          : Health.notServing("status " + r.getStatus());
    } catch (StatusRuntimeException e) {
      return Health.noAnswer(describe(e.getStatus()));
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
