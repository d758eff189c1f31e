package io.polycall.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.MetadataUtils;
import io.polycall.CallInterceptor;
import io.polycall.FunctionInfo;
import io.polycall.Identity;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.CallRequest;
import io.polycall.core.CallResult;
import io.polycall.core.PolyCall;
import io.polycall.grpc.internal.Rpc;
import io.polycall.spi.BoundFunction;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.Cancel;
import io.polycall.wire.proto.Result;
import io.polycall.wire.proto.StreamRequest;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The generic service {@code polycall.v1.PolyCall} on a real server on loopback, called through
 * {@link GrpcClient} and through raw grpc-java calls. One node serves every test; each bad case
 * checks afterwards that the node still serves.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GenericServiceTest {
  private PolyCall node;
  private GrpcServer server;
  private GrpcClient client;
  private ManagedChannel raw;

  /** What the interceptor saw of each call to t.whoami, by the "probe" metadata value. */
  private final Map<String, io.polycall.CallOptions> seen = new ConcurrentHashMap<>();

  private final CountDownLatch blockStarted = new CountDownLatch(1);
  private final CountDownLatch blockSawCancel = new CountDownLatch(1);
  private volatile CountDownLatch streamSlowSawCancel = new CountDownLatch(1);
  private volatile CountDownLatch slowStarted = new CountDownLatch(1);

  @BeforeAll
  void start() {
    CallInterceptor recorder =
        chain -> {
          var o = chain.call().options();
          String probe = o.metadata().get("probe");
          if (probe != null) {
            seen.put(probe, o);
          }
          return chain.proceed(chain.call());
        };
    node = PolyCall.builder().withInterceptor(recorder).build();
    node.jvm().register("t.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    register(
        "t.fail(msg: string) -> null",
        (args, ctx) -> {
          throw new IllegalStateException(((Value.Str) args[0]).value());
        });
    register("t.whoami() -> string", (args, ctx) -> Value.str(ctx.options().identity().subject()));
    register(
        "t.block() -> null",
        (args, ctx) -> {
          blockStarted.countDown();
          waitForCancel(ctx, blockSawCancel);
          return Value.NULL;
        });
    register(
        "t.slow() -> null",
        (args, ctx) -> {
          slowStarted.countDown();
          waitForCancel(ctx, streamSlowSawCancel);
          return Value.NULL;
        });
    node.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse("far.away() -> null"), "remote"),
                (args, ctx) -> Value.NULL));
    register("t.virtual() -> bool", (args, ctx) -> Value.bool(Thread.currentThread().isVirtual()));
    node.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse("t.virtual_nb() -> bool"), "jvm")
                    .withTags(java.util.Set.of(GrpcServer.TAG_NONBLOCKING)),
                (args, ctx) -> Value.bool(Thread.currentThread().isVirtual())));
    server = GrpcServer.builder(node).withNodeId("node-test").start();
    client = GrpcClient.connect(server.target());
    raw = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
  }

  private void register(String sig, io.polycall.spi.Invoker invoker) {
    node.registry()
        .register(BoundFunction.of(FunctionInfo.of(Signature.parse(sig), "jvm"), invoker));
  }

  private static void waitForCancel(io.polycall.CallContext ctx, CountDownLatch saw) {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < giveUp) {
      if (ctx.isCancelled()) {
        saw.countDown();
        return;
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        saw.countDown();
        return;
      }
    }
  }

  @AfterAll
  void stop() throws Exception {
    client.close();
    raw.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.close();
    node.close();
  }

  private void assertServes() {
    assertEquals(Value.i64(5), client.call("t.add", Value.i64(2), Value.i64(3)));
  }

  @Test
  void aCallReturnsTheFunctionsValue() {
    assertEquals(Value.i64(42), client.call("t.add", Value.i64(40), Value.i64(2)));
  }

  @Test
  void asyncCallsCompleteWithTheirResults() {
    List<CompletableFuture<Value>> fs = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      fs.add(
          client.callAsync(
              "t.add", List.of(Value.i64(i), Value.i64(i)), io.polycall.CallOptions.DEFAULT));
    }
    for (int i = 0; i < 100; i++) {
      assertEquals(Value.i64(2L * i), fs.get(i).join());
    }
  }

  @Test
  void anUnknownFunctionIsNotFoundWithSuggestions() {
    StatusException e =
        assertThrows(StatusException.class, () -> client.call("t.ad", Value.i64(1), Value.i64(2)));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertTrue(e.status().description().contains("t.add"), e.status().description());
    assertServes();
  }

  @Test
  void wrongArgumentTypesAreInvalidArgument() {
    StatusException e =
        assertThrows(
            StatusException.class, () -> client.call("t.add", Value.str("x"), Value.i64(2)));
    assertEquals(Status.Code.INVALID_ARGUMENT, e.status().code());
    assertTrue(e.status().description().contains("args[0]"), e.status().description());
    assertServes();
  }

  @Test
  void aFailureCarriesTheCrossLanguageStackInItsTrailer() {
    StatusException e =
        assertThrows(StatusException.class, () -> client.call("t.fail", Value.str("boom")));
    assertEquals(Status.Code.UNKNOWN, e.status().code());
    assertTrue(e.status().description().contains("boom"), e.status().description());
    assertFalse(e.status().frames().isEmpty());
    assertTrue(
        e.status().frames().stream().anyMatch(f -> f.function().contains("t.fail")),
        e.status().frames()::toString);
    // A plain gRPC client sees the same code and message, with the status in the trailer.
    StatusRuntimeException g =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                ClientCalls.blockingUnaryCall(
                    raw,
                    Rpc.CALL,
                    CallOptions.DEFAULT,
                    Call.newBuilder()
                        .setFunction("t.fail")
                        .addArgs(ValueCodec.of().encode(Value.str("boom")))
                        .build()));
    assertEquals(io.grpc.Status.Code.UNKNOWN, g.getStatus().getCode());
    assertNotNull(g.getTrailers().get(Rpc.STATUS_TRAILER));
    assertServes();
  }

  @Test
  void headersAndCallMetadataReachTheChainAsMetadata() {
    Metadata h = new Metadata();
    h.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer abc");
    h.put(Metadata.Key.of("probe", Metadata.ASCII_STRING_MARSHALLER), "from-header");
    h.put(Metadata.Key.of("x-trace-bin", Metadata.BINARY_BYTE_MARSHALLER), new byte[] {1, 2});
    Result r =
        ClientCalls.blockingUnaryCall(
            raw.newCall(Rpc.CALL, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS)),
            Call.newBuilder().setFunction("t.whoami").putMetadata("x-extra", "1").build());
    // Without a header interceptor the call above has no probe; now the one with headers.
    assertEquals("", r.getValue().getStringValue());
    ClientCalls.blockingUnaryCall(
        io.grpc.ClientInterceptors.intercept(raw, MetadataUtils.newAttachHeadersInterceptor(h)),
        Rpc.CALL,
        CallOptions.DEFAULT,
        Call.newBuilder().setFunction("t.whoami").putMetadata("x-extra", "1").build());
    io.polycall.CallOptions o = seen.get("from-header");
    assertNotNull(o);
    assertEquals("Bearer abc", o.metadata().get("authorization"));
    assertEquals("1", o.metadata().get("x-extra"));
    assertFalse(o.metadata().containsKey("x-trace-bin"));
    assertTrue(o.metadata().keySet().stream().noneMatch(k -> k.startsWith("grpc-")), o::toString);
    assertFalse(o.metadata().containsKey("content-type"));
    assertEquals(Identity.ANONYMOUS, o.identity());
    assertFalse(o.hasDeadline());
  }

  @Test
  void theClientsMetadataTravelsInTheCall() {
    client.call(
        "t.whoami",
        List.of(),
        io.polycall.CallOptions.DEFAULT.withMetadata("probe", "from-client"));
    assertEquals("from-client", seen.get("from-client").metadata().get("probe"));
  }

  @Test
  void theGrpcDeadlineBecomesTheCallsDeadlineAndTimeoutNanosOnlyShortensIt() {
    ClientCalls.blockingUnaryCall(
        raw,
        Rpc.CALL,
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
        Call.newBuilder().setFunction("t.whoami").putMetadata("probe", "deadline").build());
    long left = seen.get("deadline").remainingNanos();
    assertTrue(left > 0 && left <= TimeUnit.SECONDS.toNanos(30), "remaining " + left);

    ClientCalls.blockingUnaryCall(
        raw,
        Rpc.CALL,
        CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS),
        Call.newBuilder()
            .setFunction("t.whoami")
            .setTimeoutNanos(TimeUnit.SECONDS.toNanos(5))
            .putMetadata("probe", "shorter")
            .build());
    assertTrue(seen.get("shorter").remainingNanos() <= TimeUnit.SECONDS.toNanos(5));

    ClientCalls.blockingUnaryCall(
        raw,
        Rpc.CALL,
        CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS),
        Call.newBuilder()
            .setFunction("t.whoami")
            .setTimeoutNanos(TimeUnit.SECONDS.toNanos(3600))
            .putMetadata("probe", "longer")
            .build());
    assertTrue(seen.get("longer").remainingNanos() <= TimeUnit.SECONDS.toNanos(5));
  }

  @Test
  void anExpiredDeadlineIsDeadlineExceededAndTheFunctionIsCancelled() throws Exception {
    CountDownLatch saw = new CountDownLatch(1);
    streamSlowSawCancel = saw;
    StatusException e =
        assertThrows(
            StatusException.class,
            () ->
                client.call(
                    "t.slow",
                    List.of(),
                    io.polycall.CallOptions.DEFAULT.withDeadlineAfter(Duration.ofMillis(200))));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, e.status().code());
    assertTrue(saw.await(10, TimeUnit.SECONDS), "the function never saw its deadline pass");
    assertServes();
  }

  @Test
  void cancellingTheClientsFutureCancelsTheRunningFunction() throws Exception {
    CompletableFuture<Value> f =
        client.callAsync("t.block", List.of(), io.polycall.CallOptions.DEFAULT);
    assertTrue(blockStarted.await(10, TimeUnit.SECONDS));
    assertTrue(f.cancel(true));
    assertTrue(blockSawCancel.await(10, TimeUnit.SECONDS), "the function never saw the cancel");
    assertServes();
  }

  @Test
  void listFunctionsWithLocalOnlyLeavesRemoteFunctionsOut() {
    List<String> all = client.functions("**", false).stream().map(f -> f.info().name()).toList();
    List<String> local = client.functions("**", true).stream().map(f -> f.info().name()).toList();
    assertTrue(all.contains("far.away"), all::toString);
    assertFalse(local.contains("far.away"), local::toString);
    assertTrue(local.contains("t.add"), local::toString);
    NodeFunction add =
        client.functions("t.*", true).stream()
            .filter(f -> f.info().name().equals("t.add"))
            .findFirst()
            .orElseThrow();
    assertEquals("node-test", add.nodeId());
    assertEquals("jvm", add.info().bridge());
    assertEquals("t.add(a: i64, b: i64) -> i64", add.info().signature().toString());
  }

  @Test
  void describeFindsAFunctionOrSaysNotFound() {
    assertEquals("t.add", client.describe("t.add@1").info().name());
    StatusException e = assertThrows(StatusException.class, () -> client.describe("t.nope"));
    assertEquals(Status.Code.NOT_FOUND, e.status().code());
    assertServes();
  }

  @Test
  void aBatchAnswersInOrderWithFailuresInPlace() {
    List<CallRequest> calls =
        List.of(
            CallRequest.of("t.add", Value.i64(1), Value.i64(1)),
            CallRequest.of("t.nope"),
            CallRequest.of("t.add", Value.str("x"), Value.i64(1)),
            CallRequest.of("t.add", Value.i64(2), Value.i64(2)));
    List<CallResult> rs = client.batch(calls, io.polycall.CallOptions.DEFAULT);
    assertEquals(Value.i64(2), rs.get(0).value());
    assertEquals(Status.Code.NOT_FOUND, rs.get(1).status().code());
    assertEquals(Status.Code.INVALID_ARGUMENT, rs.get(2).status().code());
    assertEquals(Value.i64(4), rs.get(3).value());
    List<CallResult> withMetadata =
        client.batch(calls, io.polycall.CallOptions.DEFAULT.withMetadata("k", "v"));
    assertEquals(Value.i64(4), withMetadata.get(3).value());
    assertEquals(Status.Code.NOT_FOUND, withMetadata.get(1).status().code());
  }

  @Test
  void aNodeThatIsDownIsUnavailableNamingTheNode() throws Exception {
    int port;
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    try (GrpcClient down = GrpcClient.connect("127.0.0.1:" + port)) {
      StatusException e =
          assertThrows(StatusException.class, () -> down.call("t.add", Value.i64(1), Value.i64(2)));
      assertEquals(Status.Code.UNAVAILABLE, e.status().code());
      assertTrue(
          e.status().description().contains("node 127.0.0.1:" + port), e.status().description());
      StatusException async =
          assertThrows(
              StatusException.class,
              () -> {
                try {
                  down.callAsync("t.add", List.of(), io.polycall.CallOptions.DEFAULT).join();
                } catch (java.util.concurrent.CompletionException ce) {
                  throw ce.getCause();
                }
              });
      assertEquals(Status.Code.UNAVAILABLE, async.status().code());
    }
    assertServes();
  }

  @Test
  void aNonblockingFunctionRunsOnTheTransportThreadAndOthersOnTheEngines() {
    assertEquals(Value.bool(true), client.call("t.virtual"));
    assertEquals(Value.bool(false), client.call("t.virtual_nb"));
    // With a deadline the engine runs it, nonblocking or not.
    assertEquals(
        Value.bool(true),
        client.call(
            "t.virtual_nb",
            List.of(),
            io.polycall.CallOptions.DEFAULT.withDeadlineAfter(Duration.ofSeconds(10))));
  }

  @Test
  void malformedRequestBytesAreInvalidArgument() {
    MethodDescriptor<byte[], byte[]> rawCall =
        MethodDescriptor.<byte[], byte[]>newBuilder()
            .setType(MethodDescriptor.MethodType.UNARY)
            .setFullMethodName(Rpc.CALL.getFullMethodName())
            .setRequestMarshaller(BYTES)
            .setResponseMarshaller(BYTES)
            .build();
    StatusRuntimeException e =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                ClientCalls.blockingUnaryCall(
                    raw, rawCall, CallOptions.DEFAULT, new byte[] {(byte) 0xff, 1, 2, 3}));
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
    // The same for a function's own method, and for a stream (which then ends).
    StatusRuntimeException own =
        assertThrows(
            StatusRuntimeException.class,
            () ->
                ClientCalls.blockingUnaryCall(
                    raw,
                    rawCall.toBuilder().setFullMethodName("polycall.fn.t/Add").build(),
                    CallOptions.DEFAULT,
                    new byte[] {(byte) 0xff, 1, 2, 3}));
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, own.getStatus().getCode());
    MethodDescriptor<byte[], byte[]> rawStream =
        rawCall.toBuilder()
            .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
            .setFullMethodName(Rpc.CALL_STREAM.getFullMethodName())
            .build();
    java.util.Iterator<byte[]> answers =
        ClientCalls.blockingServerStreamingCall(
            raw, rawStream, CallOptions.DEFAULT, new byte[] {(byte) 0xff, 1, 2, 3});
    StatusRuntimeException stream = assertThrows(StatusRuntimeException.class, answers::hasNext);
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, stream.getStatus().getCode());
    assertServes();
  }

  @Test
  void aStreamRunsManyCallsAndCancelsOneHalfWay() throws Exception {
    CountDownLatch saw = new CountDownLatch(1);
    streamSlowSawCancel = saw;
    BlockingQueue<Object> got = new LinkedBlockingQueue<>();
    ClientCall<StreamRequest, Result> call = raw.newCall(Rpc.CALL_STREAM, CallOptions.DEFAULT);
    call.start(
        new ClientCall.Listener<>() {
          @Override
          public void onMessage(Result message) {
            got.add(message);
            call.request(1);
          }

          @Override
          public void onClose(io.grpc.Status status, Metadata trailers) {
            got.add(status);
          }
        },
        new Metadata());
    call.request(1);
    call.sendMessage(
        StreamRequest.newBuilder()
            .setCall(Call.newBuilder().setCallId(7).setFunction("t.slow"))
            .build());
    for (int i = 0; i < 10; i++) {
      call.sendMessage(
          StreamRequest.newBuilder()
              .setCall(
                  Call.newBuilder()
                      .setCallId(100 + i)
                      .setFunction("t.add")
                      .addArgs(ValueCodec.of().encode(Value.i64(i)))
                      .addArgs(ValueCodec.of().encode(Value.i64(1))))
              .build());
    }
    call.sendMessage(
        StreamRequest.newBuilder()
            .setCall(Call.newBuilder().setCallId(200).setFunction("t.nope"))
            .build());
    Map<Long, Result> byId = new ConcurrentHashMap<>();
    for (int i = 0; i < 11; i++) {
      Result r = (Result) got.poll(10, TimeUnit.SECONDS);
      assertNotNull(r, "result " + i + " missing");
      byId.put(r.getCallId(), r);
    }
    assertEquals(Status.Code.NOT_FOUND.number(), byId.get(200L).getStatus().getCode());
    for (int i = 0; i < 10; i++) {
      assertEquals(i + 1, byId.get(100L + i).getValue().getIntValue());
    }
    call.sendMessage(
        StreamRequest.newBuilder().setCancel(Cancel.newBuilder().setCallId(7)).build());
    Result cancelled = (Result) got.poll(10, TimeUnit.SECONDS);
    assertNotNull(cancelled);
    assertEquals(7, cancelled.getCallId());
    assertEquals(Status.Code.CANCELLED.number(), cancelled.getStatus().getCode());
    assertTrue(saw.await(10, TimeUnit.SECONDS));
    call.halfClose();
    Object end = got.poll(10, TimeUnit.SECONDS);
    assertEquals(io.grpc.Status.Code.OK, ((io.grpc.Status) end).getCode());
    assertServes();
  }

  @Test
  void aStreamCancelledByTheClientCancelsItsRunningCalls() throws Exception {
    CountDownLatch saw = new CountDownLatch(1);
    streamSlowSawCancel = saw;
    CountDownLatch started = new CountDownLatch(1);
    slowStarted = started;
    ClientCall<StreamRequest, Result> call = raw.newCall(Rpc.CALL_STREAM, CallOptions.DEFAULT);
    call.start(new ClientCall.Listener<>() {}, new Metadata());
    call.sendMessage(
        StreamRequest.newBuilder()
            .setCall(Call.newBuilder().setCallId(1).setFunction("t.slow"))
            .build());
    assertTrue(started.await(10, TimeUnit.SECONDS));
    call.cancel("the test walks away", null);
    assertTrue(saw.await(10, TimeUnit.SECONDS), "the running call was not cancelled");
    assertServes();
  }

  static final MethodDescriptor.Marshaller<byte[]> BYTES =
      new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
          return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
          try {
            return stream.readAllBytes();
          } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
          }
        }
      };
}
