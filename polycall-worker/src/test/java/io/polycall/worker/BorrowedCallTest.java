package io.polycall.worker;

import static io.polycall.worker.Harness.await;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.wire.FrameCodec;
import io.polycall.wire.FrameReader;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.Frame;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** A Call whose big ndarray arguments are written from the caller's own memory. */
class BorrowedCallTest {
  private static final ValueCodec CODEC = ValueCodec.of().aliasingNdArrays();

  private static Value.NdArray array(Type.Scalar dtype, int seed, long... shape) {
    Value.NdArray a = Value.NdArray.allocate(dtype, shape); // native memory (Arena.ofAuto)
    fill(a.data(), seed, dtype);
    return a;
  }

  private static void fill(MemorySegment s, int seed, Type.Scalar dtype) {
    for (long i = 0; i < s.byteSize(); i++) {
      byte b = (byte) (i * 31 + seed + (i >>> 10));
      s.set(ValueLayout.JAVA_BYTE, i, dtype == Type.Scalar.BOOL ? (byte) (b & 1) : b);
    }
  }

  private static byte[] joined(ByteBuffer[] parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuffer p : parts) {
      byte[] b = new byte[p.remaining()];
      p.duplicate().get(b);
      out.writeBytes(b);
    }
    return out.toByteArray();
  }

  private static byte[] protobufs(
      long id, String fn, long timeout, Map<String, String> md, List<Value> args) {
    Call.Builder c =
        Call.newBuilder().setCallId(id).setFunction(fn).setTimeoutNanos(timeout).putAllMetadata(md);
    args.forEach(a -> c.addArgs(CODEC.encode(a)));
    return FrameCodec.encode(Frame.newBuilder().setCall(c).build());
  }

  @Test
  void theFrameInPiecesIsTheFrameProtobufWrites() {
    Map<String, String> md = new LinkedHashMap<>();
    md.put("trace", "t-1");
    md.put("b", "2");
    md.put("a", "");
    for (Type.Scalar dtype : List.of(Type.Scalar.F64, Type.Scalar.BOOL, Type.Scalar.U16)) {
      Value big = array(dtype, 3, 70_001);
      Value grid = array(dtype, 5, 3, 300, 301);
      List<List<Value>> argLists =
          List.of(
              List.of(big),
              List.of(Value.i64(1), big, Value.str("x"), array(dtype, 7, 10), grid),
              List.of(grid, big));
      for (List<Value> args : argLists) {
        for (long id : new long[] {0, 1, 128, 1L << 40}) {
          for (long timeout : new long[] {0, 5_000_000}) {
            for (Map<String, String> m : List.of(Map.<String, String>of(), md)) {
              ByteBuffer[] parts =
                  BorrowedCall.parts(id, "py.f", timeout, m, args, CODEC, 1 << 30, 1024, null);
              assertArrayEquals(protobufs(id, "py.f", timeout, m, args), joined(parts));
            }
          }
        }
      }
    }
  }

  @Test
  void theBlocksAreTheCallersMemoryReadOnlyAndOnlyBigNativeArraysAreLent() {
    Value.NdArray big = array(Type.Scalar.F64, 1, 1 << 17);
    ByteBuffer[] parts =
        BorrowedCall.parts(
            1, "f", 0, Map.of(), List.of(big), CODEC, 1 << 30, 256 * 1024, Thread.currentThread());
    assertEquals(3, parts.length);
    assertTrue(BorrowedCall.isLent(parts[1]));
    assertEquals(big.data().address(), MemorySegment.ofBuffer(parts[1]).address());
    // Small, heap or confined to another thread: nothing to lend.
    assertNull(parts(List.of(array(Type.Scalar.F64, 1, 100))));
    assertNull(
        parts(
            List.of(
                Value.NdArray.of(
                    Type.Scalar.F64,
                    new long[] {1 << 17},
                    MemorySegment.ofArray(new long[1 << 17])))));
    try (Arena confined = Arena.ofConfined()) {
      MemorySegment s = confined.allocate(1 << 20, 8);
      Value.NdArray mine = Value.NdArray.of(Type.Scalar.U8, new long[] {1 << 20}, s);
      Thread other = Thread.ofPlatform().unstarted(() -> {});
      assertNull(
          BorrowedCall.parts(1, "f", 0, Map.of(), List.of(mine), CODEC, 1 << 30, 1024, other));
    }
  }

  private static ByteBuffer[] parts(List<Value> args) {
    return BorrowedCall.parts(1, "f", 0, Map.of(), args, CODEC, 1 << 30, 256 * 1024, null);
  }

  @Test
  void aFrameAboveTheLimitIsResourceExhausted() {
    StatusException e =
        assertThrows(
            StatusException.class,
            () ->
                BorrowedCall.parts(
                    1,
                    "f",
                    0,
                    Map.of(),
                    List.of(array(Type.Scalar.U8, 1, 5000)),
                    CODEC,
                    5000,
                    1024,
                    null));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.status().code());
  }

  /**
   * A caller that stops waiting (its deadline passed) while its array is still being written may
   * change its memory at once: the peer still receives the array as it was sent.
   */
  @Test
  void aCallerThatGivesUpBeforeItsArrayIsWrittenMayChangeItAndThePeerGetsTheOriginal()
      throws Exception {
    try (Harness h = new Harness()) {
      CompletableFuture<Connection> hubF =
          h.acceptOne(CallHandler.none(), ConnectionListener.none());
      SocketChannel peer = h.connectRaw();
      var w = h.rawClient(peer); // a peer that reads nothing until told
      Connection hub = await(hubF);
      long n = 32L << 20; // more than the socket buffers hold
      Value.NdArray a = array(Type.Scalar.U8, 9, n);
      byte[] sent = a.data().toArray(ValueLayout.JAVA_BYTE);
      ExecutionException e =
          assertThrows(
              ExecutionException.class,
              () -> hub.callAndAwait("f", List.of(a), 200_000_000L, Map.of()));
      assertEquals(
          Status.Code.DEADLINE_EXCEEDED,
          assertInstanceOf(StatusException.class, e.getCause()).status().code());
      a.data().fill((byte) 0x55); // the caller's memory is its own again
      FrameReader r = w.reader();
      Frame f = r.read(peer);
      assertEquals(Frame.BodyCase.CALL, f.getBodyCase(), f.getBodyCase().toString());
      byte[] got = f.getCall().getArgs(0).getNdarrayValue().getData().toByteArray();
      assertArrayEquals(sent, got);
      hub.close();
    }
  }
}
