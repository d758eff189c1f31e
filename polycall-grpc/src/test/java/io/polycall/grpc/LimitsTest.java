package io.polycall.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.polycall.FunctionInfo;
import io.polycall.Signature;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.core.PolyCall;
import io.polycall.grpc.internal.Rpc;
import io.polycall.spi.BoundFunction;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.Result;
import io.polycall.wire.proto.StreamRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongBinaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/** Message size limit, flow control against a client that never reads, health, idle connections. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LimitsTest {
  private PolyCall node;
  private final AtomicInteger blobCalls = new AtomicInteger();

  @BeforeAll
  void start() {
    node = PolyCall.create();
    node.jvm().register("t.add(a: i64, b: i64) -> i64", (LongBinaryOperator) Long::sum);
    node.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse("t.echo(s: string) -> string"), "jvm"),
                (args, ctx) -> args[0]));
    node.registry()
        .register(
            BoundFunction.of(
                FunctionInfo.of(Signature.parse("t.blob() -> string"), "jvm"),
                (args, ctx) -> {
                  blobCalls.incrementAndGet();
                  return Value.str("x".repeat(64 * 1024));
                }));
  }

  @AfterAll
  void stop() {
    node.close();
  }

  private static ManagedChannel channel(GrpcServer s) {
    return NettyChannelBuilder.forAddress("127.0.0.1", s.port()).usePlaintext().build();
  }

  @Test
  void aRequestOverTheMessageLimitIsResourceExhaustedAndTheNodeKeepsServing() throws Exception {
    try (GrpcServer server = GrpcServer.builder(node).withMaxMessageBytes(16 * 1024).start();
        GrpcClient client = GrpcClient.connect(server.target())) {
      StatusException e =
          assertThrows(
              StatusException.class, () -> client.call("t.echo", Value.str("y".repeat(32 * 1024))));
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.status().code(), e.status().toString());
      assertEquals(Value.str("small"), client.call("t.echo", Value.str("small")));
      // The per-function methods have the same limit.
      ManagedChannel ch = channel(server);
      try {
        ReflectionClient r = new ReflectionClient(ch);
        StatusRuntimeException big =
            assertThrows(
                StatusRuntimeException.class,
                () ->
                    r.call("polycall.fn.t", "Echo", "{\"s\": \"" + "z".repeat(32 * 1024) + "\"}"));
        assertEquals(io.grpc.Status.Code.RESOURCE_EXHAUSTED, big.getStatus().getCode());
        assertEquals("{\"result\":\"5\"}", r.call("polycall.fn.t", "Add", "{\"a\": 2, \"b\": 3}"));
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void aStreamingClientThatNeverReadsIsThrottledInsteadOfBuffered() throws Exception {
    int maxInFlight = 8;
    try (GrpcServer server = GrpcServer.builder(node).withMaxStreamInFlight(maxInFlight).start();
        GrpcClient other = GrpcClient.connect(server.target())) {
      ManagedChannel ch = channel(server);
      try {
        ClientCall<StreamRequest, Result> call = ch.newCall(Rpc.CALL_STREAM, CallOptions.DEFAULT);
        // Never call request(): the client reads no result at all.
        call.start(new ClientCall.Listener<>() {}, new Metadata());
        String pad = "p".repeat(1000);
        int sent = 0;
        int limit = 50_000;
        while (sent < limit && call.isReady()) {
          call.sendMessage(
              StreamRequest.newBuilder()
                  .setCall(
                      Call.newBuilder()
                          .setCallId(sent)
                          .setFunction("t.blob")
                          .putMetadata("pad", pad))
                  .build());
          sent++;
        }
        assertTrue(
            sent < limit,
            "the client could send " + sent + " calls: the node read them all without throttling");
        // Let the node do whatever it would do with what it has read so far.
        Thread.sleep(500);
        int ran = blobCalls.get();
        assertTrue(ran < 200, ran + " of " + sent + " calls ran for a client that reads nothing");
        // Other clients are served meanwhile.
        assertEquals(Value.i64(3), other.call("t.add", Value.i64(1), Value.i64(2)));
        call.cancel("done", null);
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  @Test
  void healthIsServingWhileUpAndNotServingOnceShutdownStarts() throws Exception {
    GrpcServer server = GrpcServer.builder(node).start();
    ManagedChannel ch = channel(server);
    try {
      var health = HealthGrpc.newBlockingStub(ch);
      assertEquals(
          ServingStatus.SERVING,
          health.check(HealthCheckRequest.newBuilder().setService("").build()).getStatus());
      assertEquals(
          ServingStatus.SERVING,
          health
              .check(HealthCheckRequest.newBuilder().setService(Rpc.SERVICE).build())
              .getStatus());
      assertEquals(
          ServingStatus.SERVING,
          health
              .check(HealthCheckRequest.newBuilder().setService("polycall.fn.t").build())
              .getStatus());
      StatusRuntimeException unknown =
          assertThrows(
              StatusRuntimeException.class,
              () -> health.check(HealthCheckRequest.newBuilder().setService("nope").build()));
      assertEquals(io.grpc.Status.Code.NOT_FOUND, unknown.getStatus().getCode());

      BlockingQueue<ServingStatus> seen = new LinkedBlockingQueue<>();
      CountDownLatch ended = new CountDownLatch(1);
      io.grpc.Context.CancellableContext ctx = io.grpc.Context.current().withCancellation();
      ctx.run(
          () ->
              HealthGrpc.newStub(ch)
                  .watch(
                      HealthCheckRequest.newBuilder().setService(Rpc.SERVICE).build(),
                      new StreamObserver<>() {
                        @Override
                        public void onNext(HealthCheckResponse value) {
                          seen.add(value.getStatus());
                        }

                        @Override
                        public void onError(Throwable t) {
                          ended.countDown();
                        }

                        @Override
                        public void onCompleted() {
                          ended.countDown();
                        }
                      }));
      assertEquals(ServingStatus.SERVING, seen.poll(10, TimeUnit.SECONDS));
      server.shutdown();
      assertEquals(ServingStatus.NOT_SERVING, seen.poll(10, TimeUnit.SECONDS));
      ctx.cancel(null);
      assertTrue(ended.await(10, TimeUnit.SECONDS));
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.close();
    }
  }

  @Test
  void anIdleConnectionIsClosedAfterMaxConnectionIdleAndTheClientReconnects() throws Exception {
    try (GrpcServer server =
        GrpcServer.builder(node)
            .withMaxConnectionIdle(Duration.ofMillis(300))
            .withKeepalive(Duration.ofSeconds(10), Duration.ofSeconds(5))
            .withPermitKeepalive(Duration.ofSeconds(1), true)
            .start()) {
      ManagedChannel ch = channel(server);
      try {
        GrpcClient client = GrpcClient.of(ch);
        assertEquals(
            Value.i64(3),
            client.call(
                "t.add", List.of(Value.i64(1), Value.i64(2)), io.polycall.CallOptions.DEFAULT));
        assertEquals(ConnectivityState.READY, ch.getState(false));
        CountDownLatch idle = new CountDownLatch(1);
        watchUntil(ch, ConnectivityState.IDLE, idle);
        assertTrue(idle.await(10, TimeUnit.SECONDS), "the node never closed the idle connection");
        assertEquals(
            Value.i64(5),
            client.call(
                "t.add", List.of(Value.i64(2), Value.i64(3)), io.polycall.CallOptions.DEFAULT));
      } finally {
        ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static void watchUntil(ManagedChannel ch, ConnectivityState want, CountDownLatch done) {
    ConnectivityState now = ch.getState(false);
    if (now == want) {
      done.countDown();
      return;
    }
    ch.notifyWhenStateChanged(now, () -> watchUntil(ch, want, done));
  }
}
