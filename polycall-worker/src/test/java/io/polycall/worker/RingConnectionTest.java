package io.polycall.worker;

import static io.polycall.worker.Harness.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.Value;
import io.polycall.wire.FrameCodec;
import io.polycall.wire.FrameReader;
import io.polycall.wire.StatusCodec;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.Cancel;
import io.polycall.wire.proto.Frame;
import io.polycall.wire.proto.GoAway;
import io.polycall.wire.proto.Result;
import io.polycall.wire.proto.Wake;
import io.polycall.worker.internal.SharedRings;
import io.polycall.worker.internal.ShmRing;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Connections with shared-memory rings beside the socket (WIRE.md, shm-rings/1): two real {@link
 * Connection}s over a real Unix socket, or a hub and a scripted peer that writes the ring itself.
 */
class RingConnectionTest {
  private static final int R = SharedRings.MIN_RING_BYTES;
  private Harness h;

  @BeforeEach
  void setUp() throws Exception {
    h = new Harness();
    h.ringBytes = R;
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

  private static long i64(Value v) {
    return ((Value.Int) v).value();
  }

  private List<String> ringFiles() throws IOException {
    try (Stream<java.nio.file.Path> s = Files.list(h.dir.path())) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("rings-")).toList();
    }
  }

  // ---- two Java connections -------------------------------------------------------------------

  @Test
  void aCallerWaitingForItsResultGetsItOverTheRing() throws Exception {
    h.spinNanos = TimeUnit.SECONDS.toNanos(20); // a leading caller is surely polling
    Harness.Pair p = h.connect("w1", CallHandler.none(), functions());
    assertTrue(p.hub().ringStats().enabled());
    for (int i = 0; i < 200; i++) {
      assertEquals(
          i + 1,
          i64(p.hub().callAndAwait("add", List.of(Value.i64(i), Value.i64(1)), 0, Map.of())));
    }
    Connection.RingStats hub = p.hub().ringStats();
    Connection.RingStats worker = p.worker().ringStats();
    assertTrue(hub.framesReceived() > 0, "results came on ring 1: " + hub);
    assertEquals(hub.framesReceived(), worker.framesSent(), "every frame sent is received once");
    assertEquals(List.of(), ringFiles(), "the hub unlinked the file once the worker spoke");
  }

  @Test
  void theWorkerSideCallsTheHubOverTheRingToo() throws Exception {
    h.spinNanos = TimeUnit.SECONDS.toNanos(20);
    Harness.Pair p = h.connect("w1", functions(), CallHandler.none());
    for (int i = 0; i < 200; i++) {
      assertEquals(
          2 * i,
          i64(p.worker().callAndAwait("add", List.of(Value.i64(i), Value.i64(i)), 0, Map.of())));
    }
    assertTrue(p.worker().ringStats().framesReceived() > 0, "results came on ring 0");
    assertEquals(p.worker().ringStats().framesReceived(), p.hub().ringStats().framesSent());
  }

  @Test
  void nestedCallsGoBackAndForthOverTheRings() throws Exception {
    h.spinNanos = TimeUnit.SECONDS.toNanos(20);
    Harness.Pair p = h.connect("w1", functions(), functions());
    for (int i = 0; i < 20; i++) {
      assertEquals(9, i64(p.hub().callAndAwait("countdown", List.of(Value.i64(9)), 0, Map.of())));
      assertEquals(
          8, i64(p.worker().callAndAwait("countdown", List.of(Value.i64(8)), 0, Map.of())));
    }
    Connection.RingStats hub = p.hub().ringStats();
    Connection.RingStats worker = p.worker().ringStats();
    assertTrue(hub.framesReceived() + worker.framesReceived() > 0, hub + " " + worker);
  }

  @Test
  void framesTooBigForTheRingAndSmallOnesMixedAllArrive() throws Exception {
    Harness.Pair p = h.connect("w1", CallHandler.none(), functions());
    List<CompletableFuture<Value>> fs = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      int size = i % 2 == 0 ? 10 : 3 * R / 4; // R / 4 is the most a ring takes
      fs.add(p.hub().call("big", List.of(Value.i64(size))));
      Value v = p.hub().callAndAwait("big", List.of(Value.i64(size)), 0, Map.of());
      assertEquals(size, ((Value.Bytes) v).value().length);
    }
    for (int i = 0; i < fs.size(); i++) {
      assertEquals(i % 2 == 0 ? 10 : 3 * R / 4, ((Value.Bytes) await(fs.get(i))).value().length);
    }
  }

  @Test
  void aPeerThatDoesNotOfferRingsGetsNone() throws Exception {
    CompletableFuture<Connection> hub = h.acceptOne(functions(), ConnectionListener.none());
    SocketChannel ch = h.connectRaw();
    Handshake.Welcomed w =
        Handshake.connect(ch, PeerCredentials.worker("w2", h.secrets.register("w2")), false);
    assertFalse(w.welcome().hasRings());
    assertNull(w.rings());
    assertFalse(await(hub).ringStats().enabled());
    assertEquals(List.of(), ringFiles(), "no file was made");
  }

  @Test
  void aRingFileThatCannotBeMadeLeavesThePeerOnTheSocket() throws Exception {
    CompletableFuture<Connection> hubF = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                SocketChannel ch = h.server.accept();
                Handshake.Accepted a =
                    Handshake.accept(
                        ch,
                        h.secrets,
                        true,
                        h.limits,
                        "test-hub",
                        hello -> {
                          throw new IOException("no room in /dev/shm");
                        });
                assertNull(a.rings());
                hubF.complete(Connection.builder(ch).reader(a.reader()).limits(a.limits()).start());
              } catch (Throwable t) {
                hubF.completeExceptionally(t);
              }
            });
    SocketChannel ch = h.connectRaw();
    Handshake.Welcomed w =
        Handshake.connect(ch, PeerCredentials.worker("w8", h.secrets.register("w8")), true);
    assertFalse(w.welcome().hasRings());
    assertNull(w.rings());
    Connection worker =
        Connection.builder(ch).reader(w.reader()).limits(w.limits()).handler(functions()).start();
    Connection hub = await(hubF);
    try {
      assertEquals(
          3, i64(hub.callAndAwait("add", List.of(Value.i64(1), Value.i64(2)), 0, Map.of())));
      assertFalse(hub.ringStats().enabled());
    } finally {
      hub.close();
      worker.close();
    }
  }

  // ---- a scripted peer that writes the rings itself -------------------------------------------

  /** The peer end: its socket, its mapped rings, and a raw view of the file to break rules with. */
  private final class RawPeer {
    final SocketChannel ch;
    final Handshake.Welcomed w;
    final SharedRings rings;
    final MappedByteBuffer raw;
    final FrameReader in;

    RawPeer(String id) throws IOException {
      ch = h.connectRaw();
      w = Handshake.connect(ch, PeerCredentials.worker(id, h.secrets.register(id)), true);
      rings = w.rings();
      assertNotNull(rings, "the hub offered rings");
      try (FileChannel f =
          FileChannel.open(rings.path(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
        raw = f.map(FileChannel.MapMode.READ_WRITE, 0, 2L * (128 + R));
      }
      raw.order(ByteOrder.LITTLE_ENDIAN);
      in = w.reader();
    }

    /** Ring 1's awake flag, as if the hub were polling: lets the peer publish while it blocks. */
    void hubLooksAwake() {
      raw.putInt(128 + R + 72, 1);
    }

    void onRing(Frame f) {
      byte[] b = f.toByteArray();
      int r = ShmRing.REFUSED;
      for (int i = 0; i < 100 && r == ShmRing.REFUSED; i++) {
        hubLooksAwake(); // the hub may have just gone to sleep
        r = rings.outgoing().offer(b, 0, b.length);
      }
      assertTrue(r != ShmRing.REFUSED, "published on ring 1");
    }

    void onSocket(Frame f) throws IOException {
      ByteBuffer b = ByteBuffer.wrap(FrameCodec.encode(f));
      while (b.hasRemaining()) {
        ch.write(b);
      }
    }

    Frame read() throws IOException {
      return in.read(ch);
    }
  }

  private static Frame result(long id, long value) {
    return Frame.newBuilder()
        .setResult(
            Result.newBuilder().setCallId(id).setValue(ValueCodec.of().encode(Value.i64(value))))
        .build();
  }

  @Test
  void aGoAwayAfterResultsOnTheRingIsDispatchedAfterThem() throws Exception {
    CompletableFuture<Connection> hubF = h.acceptOne(CallHandler.none(), ConnectionListener.none());
    RawPeer peer = new RawPeer("w3");
    Connection hub = await(hubF);
    List<CompletableFuture<Value>> calls = new ArrayList<>();
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      calls.add(hub.call("f", List.of()));
      Frame f = peer.read();
      assertEquals(Frame.BodyCase.CALL, f.getBodyCase(), "the peer never polls: socket");
      ids.add(f.getCall().getCallId());
    }
    Thread.sleep(100); // let the hub block on the socket, so the ring waits for the GoAway
    for (int i = 0; i < 3; i++) {
      peer.onRing(result(ids.get(i), 40 + i));
    }
    Status away = Status.UNAVAILABLE.withDescription("going now");
    peer.onSocket(
        Frame.newBuilder()
            .setGoaway(GoAway.newBuilder().setStatus(StatusCodec.encode(away)))
            .build());
    for (int i = 0; i < 3; i++) {
      assertEquals(40 + i, i64(await(calls.get(i))), "result " + i + " before the GoAway closed");
    }
    assertEquals(Status.Code.UNAVAILABLE, await(hub.closeFuture()).code());
    assertEquals(3, hub.ringStats().framesReceived());
  }

  @Test
  void theSocketClosingAfterResultsOnTheRingFindsThemDispatched() throws Exception {
    CompletableFuture<Connection> hubF = h.acceptOne(CallHandler.none(), ConnectionListener.none());
    RawPeer peer = new RawPeer("w4");
    Connection hub = await(hubF);
    CompletableFuture<Value> call = hub.call("f", List.of());
    long id = peer.read().getCall().getCallId();
    Thread.sleep(100);
    peer.onRing(result(id, 7));
    peer.ch.close();
    assertEquals(7, i64(await(call)));
    await(hub.closeFuture());
  }

  @Test
  void aCancelSentAfterItsCallOnTheRingIsSeenAfterIt() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    CompletableFuture<Connection> hubF =
        h.acceptOne(functions(started, interrupted), ConnectionListener.none());
    RawPeer peer = new RawPeer("w5");
    Connection hub = await(hubF);
    Thread.sleep(100); // the hub blocks on the socket: the Call waits on the ring
    peer.onRing(
        Frame.newBuilder().setCall(Call.newBuilder().setCallId(1).setFunction("block")).build());
    peer.onSocket(Frame.newBuilder().setCancel(Cancel.newBuilder().setCallId(1)).build());
    assertTrue(
        interrupted.await(Harness.WAIT_SECONDS, TimeUnit.SECONDS),
        "the Cancel found its call running (it would be ignored if seen first)");
    Frame f = peer.read();
    assertEquals(1, f.getResult().getCallId());
    assertEquals(Status.Code.CANCELLED, StatusCodec.decode(f.getResult().getStatus()).code());
    assertEquals(1, hub.ringStats().framesReceived());
  }

  @Test
  void aMalformedRecordOnTheRingIsAProtocolError() throws Exception {
    CompletableFuture<Connection> hubF = h.acceptOne(CallHandler.none(), ConnectionListener.none());
    RawPeer peer = new RawPeer("w6");
    Connection hub = await(hubF);
    peer.raw.putInt(128 + R + 128, 0); // a record of length 0 at position 0 of ring 1
    peer.raw.putLong(128 + R, 8); // tail
    peer.onSocket(Frame.newBuilder().setWake(Wake.getDefaultInstance()).build());
    Status s = await(hub.closeFuture());
    assertEquals(Status.Code.INVALID_ARGUMENT, s.code());
    assertTrue(s.description().contains("length 0"), s.toString());
    Frame last = peer.read();
    assertEquals(Frame.BodyCase.GOAWAY, last.getBodyCase());
  }

  @Test
  void aFrameThatMustUseTheSocketIsRefusedOnTheRing() throws Exception {
    CompletableFuture<Connection> hubF = h.acceptOne(CallHandler.none(), ConnectionListener.none());
    RawPeer peer = new RawPeer("w7");
    Connection hub = await(hubF);
    Thread.sleep(100);
    peer.onRing(Frame.newBuilder().setCancel(Cancel.newBuilder().setCallId(1)).build());
    peer.onSocket(Frame.newBuilder().setWake(Wake.getDefaultInstance()).build());
    Status s = await(hub.closeFuture());
    assertEquals(Status.Code.INVALID_ARGUMENT, s.code());
    assertTrue(s.description().contains("must use the socket"), s.toString());
  }
}
