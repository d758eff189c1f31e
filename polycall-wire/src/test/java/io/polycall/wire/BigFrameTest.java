package io.polycall.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Type;
import io.polycall.Value;
import io.polycall.wire.proto.Call;
import io.polycall.wire.proto.Frame;
import io.polycall.wire.proto.Result;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Big frames: encoded into a direct buffer (the bytes the array encoding gives), and read from a
 * channel into a direct buffer that their ndarrays alias until the frame is released.
 */
class BigFrameTest {

  private static Value.NdArray array(Type.Scalar dtype, long n, int seed) {
    Value.NdArray a = Value.NdArray.allocate(dtype, n);
    MemorySegment s = a.data();
    for (long i = 0; i < s.byteSize(); i++) {
      byte b = (byte) (i * 31 + seed + (i >>> 11));
      s.set(ValueLayout.JAVA_BYTE, i, dtype == Type.Scalar.BOOL ? (byte) (b & 1) : b);
    }
    return a;
  }

  private static Frame call(long id, Value... args) {
    Call.Builder c = Call.newBuilder().setCallId(id).setFunction("py.echo").putMetadata("k", "v");
    for (Value a : args) {
      c.addArgs(ValueCodec.of().aliasingNdArrays().encode(a));
    }
    return Frame.newBuilder().setCall(c).build();
  }

  private static Frame result(long id, Value v) {
    return Frame.newBuilder()
        .setResult(Result.newBuilder().setCallId(id).setValue(ValueCodec.of().encode(v)))
        .build();
  }

  private static byte[] bytesOf(ByteBuffer b) {
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  @Test
  void aFrameEncodedIntoADirectBufferIsTheBytesOfTheArrayEncoding() {
    for (Type.Scalar dtype : List.of(Type.Scalar.F64, Type.Scalar.BOOL, Type.Scalar.I16)) {
      for (long n : new long[] {0, 1, 70_001, 1 << 20}) {
        Frame f = call(7, Value.i64(3), array(dtype, n, 5), Value.str("x"), array(dtype, n, 9));
        ByteBuffer direct = FrameCodec.encode(f, Integer.MAX_VALUE, ByteBuffer::allocateDirect);
        assertTrue(direct.isDirect());
        assertArrayEquals(
            FrameCodec.encode(f, Integer.MAX_VALUE), bytesOf(direct), dtype + " " + n);
      }
    }
  }

  @Test
  void aDirectBufferIsWrittenFromItsPositionAndComesBackFlippedFromThere() {
    Frame f = result(9, array(Type.Scalar.U8, 100_000, 1));
    ByteBuffer big = ByteBuffer.allocateDirect(200_000).position(10);
    ByteBuffer out = FrameCodec.encode(f, Integer.MAX_VALUE, n -> big);
    assertEquals(10, out.position());
    assertArrayEquals(FrameCodec.encode(f), bytesOf(out));
  }

  @Test
  void aFrameAboveTheLimitIsRefusedBeforeABufferIsAsked() {
    Frame f = result(1, array(Type.Scalar.F64, 1000, 1));
    StatusException e =
        assertThrows(
            StatusException.class,
            () ->
                FrameCodec.encode(
                    f,
                    7999,
                    n -> {
                      throw new AssertionError("asked for a buffer of " + n);
                    }));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.status().code());
  }

  /** A channel over bytes that gives at most {@code piece} bytes per read. */
  private static ReadableByteChannel channelOf(byte[] bytes, int piece) {
    ByteBuffer src = ByteBuffer.wrap(bytes);
    return new ReadableByteChannel() {
      @Override
      public int read(ByteBuffer dst) {
        if (!src.hasRemaining()) {
          return -1;
        }
        int n = Math.min(piece, Math.min(dst.remaining(), src.remaining()));
        dst.put(src.slice(src.position(), n));
        src.position(src.position() + n);
        return n;
      }

      @Override
      public boolean isOpen() {
        return true;
      }

      @Override
      public void close() {}
    };
  }

  private static Value.NdArray decoded(Frame f) {
    return (Value.NdArray) ValueCodec.of().decode(f.getResult().getValue(), "result");
  }

  @Test
  void aBigFrameNotReleasedKeepsItsBytesWhileTheNextOnesAreRead() throws IOException {
    Value.NdArray a = array(Type.Scalar.F64, 1 << 17, 1);
    Value.NdArray b = array(Type.Scalar.F64, 1 << 17, 2);
    Value.NdArray c = array(Type.Scalar.F64, (1 << 17) - 5, 3);
    ByteArrayOutputStream s = new ByteArrayOutputStream();
    for (Frame f : List.of(result(1, a), result(2, b), result(3, c), result(4, a))) {
      s.writeBytes(FrameCodec.encode(f));
    }
    for (int piece : new int[] {1 << 20, 65_537, 1000}) {
      FrameReader r = FrameReader.of();
      ReadableByteChannel ch = channelOf(s.toByteArray(), piece);
      Frame first = r.read(ch);
      Frame second = r.read(ch); // `first` was not released: its buffer is its own still
      assertEquals(-1, a.data().mismatch(decoded(first).data()));
      assertEquals(-1, b.data().mismatch(decoded(second).data()));
      r.release(second);
      r.release(first); // too late: only the frame read last gives its buffer back
      Frame third = r.read(ch); // in `second`'s buffer
      assertEquals(-1, c.data().mismatch(decoded(third).data()));
      assertEquals(-1, a.data().mismatch(decoded(first).data()), "piece " + piece);
      r.release(third);
      Frame fourth = r.read(ch);
      assertEquals(4, fourth.getResult().getCallId());
      assertEquals(-1, a.data().mismatch(decoded(fourth).data()));
      assertNull(r.read(ch));
    }
  }

  @Test
  void aStreamThatEndsInsideABigBodyIsATruncatedFrame() {
    byte[] bytes = FrameCodec.encode(result(1, array(Type.Scalar.U8, 300_000, 1)));
    byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 1);
    FrameReader r = FrameReader.of();
    ProtocolException e = assertThrows(ProtocolException.class, () -> r.read(channelOf(cut, 4096)));
    assertTrue(e.getMessage().contains("stream ended inside a frame"), e.getMessage());
  }

  @Test
  void anArrayOfNativeMemoryIsEncodedFromIt() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment seg = arena.allocate(1 << 20, 8);
      seg.fill((byte) 0x5a);
      Value.NdArray a = Value.NdArray.of(Type.Scalar.U8, new long[] {1 << 20}, seg);
      Frame f = call(2, a);
      ByteBuffer direct = FrameCodec.encode(f, Integer.MAX_VALUE, ByteBuffer::allocateDirect);
      assertArrayEquals(FrameCodec.encode(f), bytesOf(direct));
    }
  }
}
