package io.polycall.worker;

import static io.polycall.worker.Harness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import io.polycall.spi.BatchInvoker.Outcome;
import io.polycall.wire.FrameCodec;
import io.polycall.wire.FrameReader;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.WireLimits;
import io.polycall.wire.proto.Announce;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.Frame;
import io.polycall.wire.proto.FunctionDecl;
import io.polycall.wire.proto.Scalar;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ConnectionTest {
  private Harness h;

  @BeforeEach
  void setUp() throws Exception {
    h = new Harness();
  }

  @AfterEach
  void tearDown() throws Exception {
    h.close();
  }

  private static CallHandler functions(CountDownLatch started, CountDownLatch interrupted) {
    return Harness.testFunctions(started, interrupted);
  }

  private static CallHandler functions() {
    return Harness.testFunctions();
  }

  private static Status statusOf(CompletableFuture<?> f) throws Exception {
    ExecutionException e = assertThrows(ExecutionException.class, () -> await(f));
    return assertInstanceOf(StatusException.class, e.getCause()).status();
  }

  /** callAndAwait from a platform thread, which reads the connection itself while it waits. */
  private static Value callReading(Connection c, String fn, long timeoutNanos, Value... args)
      throws Exception {
    return c.callAndAwait(fn, List.of(args), timeoutNanos, Map.of());
  }

  private static Status statusOfCallReading(Connection c, String fn, long timeoutNanos) {
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> callReading(c, fn, timeoutNanos));
    return assertInstanceOf(StatusException.class, e.getCause()).status();
  }

  @Test
  void aPlatformThreadThatReadsForItselfGetsItsResultsAndServesNestedCalls() throws Exception {
    Harness.Pair p = h.connect("w1", functions(), functions());
    for (int i = 0; i < 200; i++) {
      assertEquals(Value.i64(i + 1), callReading(p.hub(), "add", 0, Value.i64(i), Value.i64(1)));
    }
    // countdown bounces between the sides: the waiting caller dispatches the peer's calls.
    assertEquals(Value.i64(30), callReading(p.hub(), "countdown", 0, Value.i64(30)));
  }

  @Test
  void manyThreadsWaitingAtOnceWithAsyncCallsBesideThemAllGetTheirOwnResults() throws Exception {
    Harness.Pair p = h.connect("w1", functions(), functions());
    List<Thread> threads = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int t = 0; t < 6; t++) {
      long base = t * 1_000_000L;
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < 300; i++) {
                        Value v = callReading(p.hub(), "add", 0, Value.i64(base), Value.i64(i));
                        assertEquals(Value.i64(base + i), v);
                      }
                    } catch (Throwable e) {
                      failures.add(e);
                    }
                  }));
    }
    List<CompletableFuture<Value>> async = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      async.add(p.hub().call("add", List.of(Value.i64(i), Value.i64(7))));
      async.add(p.worker().call("add", List.of(Value.i64(i), Value.i64(8))));
    }
    for (Thread t : threads) {
      t.join();
    }
    for (int i = 0; i < 300; i++) {
      assertEquals(Value.i64(i + 7), await(async.get(2 * i)));
      assertEquals(Value.i64(i + 8), await(async.get(2 * i + 1)));
    }
    assertEquals(List.of(), failures);
  }

  @Test
  void aThreadReadingForItselfStillGetsDeadlineExceededAndTheConnectionKeepsServing()
      throws Exception {
    CountDownLatch interrupted = new CountDownLatch(1);
    Harness.Pair p = h.connect("w1", functions(), functions(new CountDownLatch(1), interrupted));
    Status s = statusOfCallReading(p.hub(), "block", TimeUnit.MILLISECONDS.toNanos(100));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, s.code());
    assertTrue(interrupted.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS)); // Cancel reached it
    assertEquals(Value.i64(3), callReading(p.hub(), "add", 0, Value.i64(1), Value.i64(2)));
  }

  @Test
  void interruptingAThreadReadingForItselfCancelsItsCall() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    Harness.Pair p = h.connect("w1", functions(), functions(started, interrupted));
    CompletableFuture<Throwable> thrown = new CompletableFuture<>();
    Thread caller =
        Thread.ofPlatform()
            .start(
                () -> {
                  try {
                    callReading(p.hub(), "block", 0);
                    thrown.complete(null);
                  } catch (Throwable e) {
                    thrown.complete(e);
                  }
                });
    assertTrue(started.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
    caller.interrupt();
    assertInstanceOf(InterruptedException.class, await(thrown));
    assertTrue(interrupted.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals(Value.i64(3), callReading(p.hub(), "add", 0, Value.i64(1), Value.i64(2)));
  }

  @Test
  void aThreadReadingForItselfSeesThePeerCrashAsUnavailable() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    Harness.Pair p = h.connect("w1", functions(), functions(started, new CountDownLatch(1)));
    CompletableFuture<Status> status = new CompletableFuture<>();
    Thread.ofPlatform().start(() -> status.complete(statusOfCallReading(p.hub(), "block", 0)));
    assertTrue(started.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
    p.workerChannel().close();
    assertEquals(Status.Code.UNAVAILABLE, await(status).code());
  }

  @Test
  void callsFromThePeerAreServedAfterACallerStoppedReadingForItself() throws Exception {
    Harness.Pair p = h.connect("w1", functions(), functions());
    assertEquals(Value.i64(3), callReading(p.hub(), "add", 0, Value.i64(1), Value.i64(2)));
    // Nobody waits on the hub side now: the reader thread takes the peer's calls and pings.
    assertEquals(Value.i64(9), await(p.worker().call("add", List.of(Value.i64(4), Value.i64(5)))));
    await(p.hub().ping());
    await(p.worker().ping());
  }

  @Test
  void aWorkerWithTheRightSecretIsWelcomedAndCanBeCalled() throws Exception {
    Harness.Pair p = h.connect("w1", functions(), functions());
    assertEquals(Value.i64(5), await(p.hub().call("add", List.of(Value.i64(2), Value.i64(3)))));
    assertTrue(h.secrets.isConnected("w1"));
  }

  @Test
  void manyConcurrentCallsInBothDirectionsAllGetTheirOwnResults() throws Exception {
    Harness.Pair p = h.connect("w1", functions(), functions());
    List<CompletableFuture<Value>> hubCalls = new ArrayList<>();
    List<CompletableFuture<Value>> workerCalls = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      hubCalls.add(p.hub().call("add", List.of(Value.i64(i), Value.i64(1_000))));
      workerCalls.add(p.worker().call("add", List.of(Value.i64(i), Value.i64(-1))));
    }
    for (int i = 0; i < 300; i++) {
      assertEquals(Value.i64(i + 1_000), await(hubCalls.get(i)));
      assertEquals(Value.i64(i - 1), await(workerCalls.get(i)));
    }
  }

  @Test
  void nestedCallsBounceBetweenTheSidesOnOneConnection() throws Exception {
    Harness.Pair p = h.connect("w1", functions(), functions());
    // hub -> worker -> hub -> worker ... twenty levels deep, all in flight at once.
    assertEquals(Value.i64(20), await(p.hub().call("countdown", List.of(Value.i64(20)))));
  }

  @Test
  void aFailingFunctionSendsItsStatusBack() throws Exception {
    Harness.Pair p = h.connect("w1", functions(), functions());
    Status s = statusOf(p.hub().call("fail", List.of()));
    assertEquals(Status.Code.FAILED_PRECONDITION, s.code());
    assertEquals("told to fail", s.description());
    assertEquals(Status.Code.NOT_FOUND, statusOf(p.hub().call("nope", List.of())).code());
  }

  @Test
  void aBatchAnswersEachCallInOrderAndOneFailureFailsOnlyItself() throws Exception {
    Harness.Pair p = h.connect("w1", functions(), functions());
    List<Outcome> r =
        await(
            p.hub()
                .batch(
                    List.of(
                        BatchCall.of("add", Value.i64(1), Value.i64(2)),
                        BatchCall.of("fail"),
                        BatchCall.of("add", Value.i64(10)))));
    assertEquals(3, r.size());
    assertEquals(Value.i64(3), r.get(0).valueOrThrow());
    assertEquals(Status.Code.FAILED_PRECONDITION, r.get(1).status().code());
    assertEquals(Value.i64(10), r.get(2).valueOrThrow());
  }

  @Test
  void argumentlessCallsOfABatchReachTheirOwnFunctionsInOrder() throws Exception {
    // Consecutive calls without arguments share one Call message on the wire: each must still
    // reach its own function, in its place.
    Harness.Pair p = h.connect("w1", functions(), functions());
    List<Outcome> r =
        await(
            p.hub()
                .batch(
                    List.of(
                        BatchCall.of("add"),
                        BatchCall.of("add"),
                        BatchCall.of("fail"),
                        BatchCall.of("fail"),
                        BatchCall.of("add", Value.i64(5)),
                        BatchCall.of("add"),
                        BatchCall.of("nope"))));
    assertEquals(7, r.size());
    assertEquals(Value.i64(0), r.get(0).valueOrThrow());
    assertEquals(Value.i64(0), r.get(1).valueOrThrow());
    assertEquals(Status.Code.FAILED_PRECONDITION, r.get(2).status().code());
    assertEquals(Status.Code.FAILED_PRECONDITION, r.get(3).status().code());
    assertEquals(Value.i64(5), r.get(4).valueOrThrow());
    assertEquals(Value.i64(0), r.get(5).valueOrThrow());
    assertEquals(Status.Code.NOT_FOUND, r.get(6).status().code());
  }

  @Test
  void cancellingACallInterruptsTheRemoteHandler() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    Harness.Pair p = h.connect("w1", functions(), functions(started, interrupted));
    CompletableFuture<Value> f = p.hub().call("block", List.of());
    assertTrue(started.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
    f.cancel(true);
    assertThrows(CancellationException.class, f::join);
    assertTrue(interrupted.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
    // The connection is still good afterwards.
    assertEquals(Value.i64(1), await(p.hub().call("add", List.of(Value.i64(1)))));
  }

  @Test
  void aCallPastItsDeadlineFailsWithDeadlineExceededAndStopsTheHandler() throws Exception {
    CountDownLatch interrupted = new CountDownLatch(1);
    Harness.Pair p = h.connect("w1", functions(), functions(new CountDownLatch(1), interrupted));
    CompletableFuture<Value> f =
        p.hub().call("block", List.of(), TimeUnit.MILLISECONDS.toNanos(50), Map.of());
    assertEquals(Status.Code.DEADLINE_EXCEEDED, statusOf(f).code());
    assertTrue(interrupted.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
  }

  @Test
  void aPingIsAnsweredWhileTheWorkersFunctionsAreBusy() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    Harness.Pair p = h.connect("w1", functions(), functions(started, new CountDownLatch(1)));
    p.hub().call("block", List.of());
    assertTrue(started.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
    assertNull(await(p.hub().ping()));
    assertNull(await(p.worker().ping()));
  }

  @Test
  void aPeerThatCrashesMidCallFailsTheCallsInFlightWithUnavailable() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    Harness.Pair p = h.connect("w1", functions(), functions(started, new CountDownLatch(1)));
    CompletableFuture<Value> f = p.hub().call("block", List.of());
    assertTrue(started.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
    p.workerChannel().close(); // no GoAway: as if the process died
    Status s = statusOf(f);
    assertEquals(Status.Code.UNAVAILABLE, s.code());
    assertTrue(s.description().contains("hub"), s.description());
    assertEquals(Status.Code.UNAVAILABLE, await(p.hub().closeFuture()).code());
    assertEquals(Status.Code.UNAVAILABLE, statusOf(p.hub().call("add", List.of())).code());
  }

  @Test
  void shutdownLetsCallsInFlightFinishThenCloses() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    CallHandler worker =
        call -> {
          started.countDown();
          release.await();
          return Value.str("done");
        };
    CountDownLatch goAway = new CountDownLatch(1);
    ConnectionListener hubHears =
        new ConnectionListener() {
          @Override
          public void onGoAway(Connection c, Status s) {
            goAway.countDown();
          }
        };
    Harness.Pair p = h.connect("w1", functions(), worker, hubHears);
    CompletableFuture<Value> f = p.hub().call("slow", List.of());
    assertTrue(started.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
    p.worker().shutdown();
    assertEquals(Status.Code.UNAVAILABLE, statusOf(p.worker().call("add", List.of())).code());
    // The hub hears GoAway and sends no new calls; the one in flight still finishes.
    assertTrue(goAway.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals(Status.Code.UNAVAILABLE, statusOf(p.hub().call("add", List.of())).code());
    release.countDown();
    assertEquals(Value.str("done"), await(f));
    assertTrue(await(p.worker().closeFuture()).isOk());
    assertTrue(p.hub().awaitTermination(Harness.WAIT_SECONDS, TimeUnit.SECONDS));
  }

  @Test
  void aWorkersAnnounceRightAfterTheHandshakeReachesTheHub() throws Exception {
    CompletableFuture<Announce> heard = new CompletableFuture<>();
    ConnectionListener l =
        new ConnectionListener() {
          @Override
          public void onAnnounce(Connection c, Announce a) {
            heard.complete(a);
          }
        };
    Harness.Pair p = h.connect("w1", functions(), functions(), l);
    Announce a =
        Announce.newBuilder()
            .addFunctions(FunctionDecl.newBuilder().setSignature("m.f(x: i64) -> i64"))
            .build();
    p.worker().send(Frame.newBuilder().setAnnounce(a).build());
    assertEquals(a, await(heard));
  }

  // ---- handshake ------------------------------------------------------------------------------

  @Test
  void aWorkerWithTheWrongSecretIsRefusedWithUnauthenticated() throws Exception {
    h.secrets.register("w1");
    CompletableFuture<Connection> hub = h.acceptOne(functions(), ConnectionListener.none());
    SocketChannel ch = h.connectRaw();
    StatusException e =
        assertThrows(
            StatusException.class,
            () -> Handshake.connect(ch, PeerCredentials.worker("w1", new byte[32])));
    assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
    ExecutionException he = assertThrows(ExecutionException.class, () -> await(hub));
    assertEquals(
        Status.Code.UNAUTHENTICATED,
        assertInstanceOf(StatusException.class, he.getCause()).status().code());
    assertTrue(!h.secrets.isConnected("w1"));
  }

  @Test
  void anUnknownWorkerIdIsRefused() throws Exception {
    h.acceptOne(functions(), ConnectionListener.none());
    SocketChannel ch = h.connectRaw();
    StatusException e =
        assertThrows(
            StatusException.class,
            () -> Handshake.connect(ch, PeerCredentials.worker("ghost", new byte[32])));
    assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
    assertTrue(e.status().description().contains("ghost"));
  }

  @Test
  void aSecondConnectionForAConnectedWorkerIsRefused() throws Exception {
    h.connect("w1", functions(), functions());
    byte[] secret = h.secrets.register("w2");
    h.secrets.register("w1", secret); // same secret, so only "already connected" can refuse it
    h.acceptOne(functions(), ConnectionListener.none());
    SocketChannel ch = h.connectRaw();
    StatusException e =
        assertThrows(
            StatusException.class,
            () -> Handshake.connect(ch, PeerCredentials.worker("w1", secret)));
    assertEquals(Status.Code.UNAUTHENTICATED, e.status().code());
    assertTrue(e.status().description().contains("already connected"), e.getMessage());
  }

  @Test
  void theProofIsTheHmacOfTheNonceAndWorkerIdAsInTheSharedVectors() {
    byte[] secret = new byte[32];
    byte[] nonce = new byte[32];
    for (int i = 0; i < 32; i++) {
      secret[i] = (byte) i;
      nonce[i] = (byte) (0xa0 + i);
    }
    assertEquals(
        "2772ad7e13a8ae095077ab197d07c9bd670949b21f1a038aca032893fc9d034f",
        java.util.HexFormat.of().formatHex(Handshake.proof(secret, nonce, "python-1")));
  }

  // ---- adversarial peers ----------------------------------------------------------------------

  @Test
  void aPeerThatWritesOneByteAtATimeIsUnderstood() throws Exception {
    CompletableFuture<Connection> hub = h.acceptOne(functions(), ConnectionListener.none());
    SocketChannel ch = h.connectRaw();
    Handshake.Welcomed w = h.rawClient(ch);
    ValueCodec codec = ValueCodec.of();
    List<Frame> calls = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      calls.add(
          Frame.newBuilder()
              .setCall(
                  Call.newBuilder()
                      .setCallId(i)
                      .setFunction("add")
                      .addArgs(codec.encode(Value.i64(i)))
                      .addArgs(codec.encode(Value.i64(100))))
              .build());
    }
    for (Frame f : calls) {
      for (byte b : FrameCodec.encode(f)) {
        ByteBuffer one = ByteBuffer.wrap(new byte[] {b});
        while (one.hasRemaining()) {
          ch.write(one);
        }
      }
    }
    await(hub);
    FrameReader r = w.reader();
    // Results may come in any order (WIRE.md): each call runs on its own thread.
    java.util.Map<Long, Value> results = new java.util.TreeMap<>();
    for (int i = 1; i <= 3; i++) {
      Frame f = r.read(ch);
      results.put(f.getResult().getCallId(), codec.decode(f.getResult().getValue()));
    }
    assertEquals(
        java.util.Map.of(1L, Value.i64(101), 2L, Value.i64(102), 3L, Value.i64(103)), results);
  }

  @Test
  void anArgumentOutsideItsWidthFailsOnlyThatCall() throws Exception {
    CompletableFuture<Connection> hub = h.acceptOne(functions(), ConnectionListener.none());
    SocketChannel ch = h.connectRaw();
    Handshake.Welcomed w = h.rawClient(ch);
    var bad = io.polycall.wire.proto.Value.newBuilder().setIntValue(300).setWidth(Scalar.I8);
    write(
        ch,
        Frame.newBuilder()
            .setCall(Call.newBuilder().setCallId(7).setFunction("add").addArgs(bad))
            .build());
    Frame f = w.reader().read(ch);
    assertEquals(7, f.getResult().getCallId());
    assertEquals(Status.Code.INVALID_ARGUMENT.number(), f.getResult().getStatus().getCode());
    assertTrue(f.getResult().getStatus().getMessage().startsWith("args[0]"));
    assertTrue(!await(hub).isShutdown());
  }

  @Test
  void anOversizedFrameGetsGoAwayInvalidArgumentAndTheConnectionCloses() throws Exception {
    h.limits = WireLimits.DEFAULT.withMaxFrameBytes(1024);
    CompletableFuture<Connection> hub = h.acceptOne(functions(), ConnectionListener.none());
    SocketChannel ch = h.connectRaw();
    Handshake.Welcomed w = h.rawClient(ch);
    assertEquals(1024, w.limits().maxFrameBytes());
    ch.write(ByteBuffer.wrap(new byte[] {0, 0, 4, 1})); // 1025: the body is never sent
    assertGoAwayThenEnd(ch, w.reader(), "1025");
    assertEquals(Status.Code.INVALID_ARGUMENT, await(await(hub).closeFuture()).code());
  }

  @Test
  void garbageGetsGoAwayInvalidArgumentAndTheConnectionCloses() throws Exception {
    CompletableFuture<Connection> hub = h.acceptOne(functions(), ConnectionListener.none());
    SocketChannel ch = h.connectRaw();
    Handshake.Welcomed w = h.rawClient(ch);
    ch.write(ByteBuffer.wrap(java.util.HexFormat.of().parseHex("00000004ffffffff")));
    assertGoAwayThenEnd(ch, w.reader(), "not a valid polycall.v1.Frame");
    assertEquals(Status.Code.INVALID_ARGUMENT, await(await(hub).closeFuture()).code());
  }

  @Test
  void aSecondHelloAfterTheHandshakeIsAProtocolError() throws Exception {
    CompletableFuture<Connection> hub = h.acceptOne(functions(), ConnectionListener.none());
    SocketChannel ch = h.connectRaw();
    Handshake.Welcomed w = h.rawClient(ch);
    write(
        ch, Frame.newBuilder().setHello(io.polycall.wire.proto.Hello.getDefaultInstance()).build());
    assertGoAwayThenEnd(ch, w.reader(), "hello frame after the handshake");
    assertEquals(Status.Code.INVALID_ARGUMENT, await(await(hub).closeFuture()).code());
  }

  private static void write(SocketChannel ch, Frame f) throws java.io.IOException {
    ByteBuffer b = ByteBuffer.wrap(FrameCodec.encode(f));
    while (b.hasRemaining()) {
      ch.write(b);
    }
  }

  private static void assertGoAwayThenEnd(SocketChannel ch, FrameReader r, String mentions)
      throws java.io.IOException {
    Frame f = r.read(ch);
    assertEquals(Frame.BodyCase.GOAWAY, f.getBodyCase(), f.toString());
    assertEquals(Status.Code.INVALID_ARGUMENT.number(), f.getGoaway().getStatus().getCode());
    assertTrue(
        f.getGoaway().getStatus().getMessage().contains(mentions),
        f.getGoaway().getStatus().getMessage());
    assertNull(r.read(ch), "the hub closes after its GoAway");
  }
}
