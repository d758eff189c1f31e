package io.polycall.worker;

import io.polycall.Status;
import io.polycall.Value;
import io.polycall.wire.FrameCodec;
import io.polycall.wire.ValueCodec;
import io.polycall.wire.proto.Call;
import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The frame of a {@code Call} whose big ndarray arguments are sent from their own native memory:
 * the bytes {@link FrameCodec#encode(io.polycall.wire.proto.Frame)} gives, as buffers, the blocks
 * read-only views of the arguments' segments (nothing copied) and the bytes around them written
 * here. A caller that waits for its result ({@link Connection#callAndAwait}) lends the memory until
 * the frame is written; the connection copies what is left of it if the caller stops waiting first.
 *
 * <pre>
 *  prefix | 22 len(Call) | Call fields 1, 2 | per argument: 1a len(Value) Value, or for a big
 *  ndarray 1a len 5a len(NdArray) [dtype, shape] 1a len(data) [data: the segment] | fields 4, 5
 * </pre>
 *
 * Protobuf writes a message's fields in number order, so the fields before and after the arguments
 * serialized apart are the bytes of the whole. Stateless and thread-safe.
 */
final class BorrowedCall {
  private BorrowedCall() {}

  /**
   * The frame as buffers, or null when no argument is an ndarray of native memory of at least
   * {@code minBlockBytes} that {@code writer} may read (a confined arena's is not lent).
   *
   * @throws io.polycall.StatusException RESOURCE_EXHAUSTED when the frame is above {@code
   *     maxFrameBytes}
   */
  static ByteBuffer[] parts(
      long callId,
      String function,
      long timeoutNanos,
      Map<String, String> metadata,
      List<Value> args,
      ValueCodec codec,
      int maxFrameBytes,
      long minBlockBytes,
      Thread writer) {
    boolean any = false;
    for (Value a : args) {
      any |= lendable(a, minBlockBytes, writer);
    }
    if (!any) {
      return null;
    }
    List<ByteBuffer> pieces = new ArrayList<>();
    ByteArrayOutputStream run = new ByteArrayOutputStream();
    long callBytes = 0;
    byte[] head = Call.newBuilder().setCallId(callId).setFunction(function).build().toByteArray();
    run.writeBytes(head);
    callBytes += head.length;
    for (Value a : args) {
      io.polycall.wire.proto.Value v = codec.encode(a);
      if (!lendable(a, minBlockBytes, writer)) {
        byte[] b = v.toByteArray();
        run.write(0x1a); // Call.args: field 3, length-delimited
        varint(run, b.length);
        run.writeBytes(b);
        callBytes += 1 + size(b.length) + b.length;
        continue;
      }
      MemorySegment data = ((Value.NdArray) a).data();
      long n = data.byteSize();
      byte[] nd = v.getNdarrayValue().toBuilder().clearData().build().toByteArray();
      long ndLen = nd.length + 1 + size(n) + n;
      long valueLen = 1 + size(ndLen) + ndLen;
      run.write(0x1a);
      varint(run, valueLen);
      run.write(0x5a); // Value.ndarray_value: field 11
      varint(run, ndLen);
      run.writeBytes(nd);
      run.write(0x1a); // NdArray.data: field 3
      varint(run, n);
      callBytes += 1 + size(valueLen) + valueLen;
      pieces.add(ByteBuffer.wrap(run.toByteArray()));
      run.reset();
      pieces.add(data.asByteBuffer().asReadOnlyBuffer());
    }
    byte[] tail =
        Call.newBuilder()
            .setTimeoutNanos(timeoutNanos)
            .putAllMetadata(metadata)
            .build()
            .toByteArray();
    run.writeBytes(tail);
    callBytes += tail.length;
    pieces.add(ByteBuffer.wrap(run.toByteArray()));
    long frameBytes = 1 + size(callBytes) + callBytes;
    if (frameBytes > maxFrameBytes) {
      throw Status.RESOURCE_EXHAUSTED
          .withDescription(
              "frame of " + frameBytes + " bytes is above the limit of " + maxFrameBytes + " bytes")
          .asException();
    }
    ByteArrayOutputStream start = new ByteArrayOutputStream(16);
    start.writeBytes(ByteBuffer.allocate(FrameCodec.PREFIX_BYTES).putInt((int) frameBytes).array());
    start.write(0x22); // Frame.call: field 4, length-delimited
    varint(start, callBytes);
    ByteBuffer first = pieces.get(0);
    byte[] joined = new byte[start.size() + first.remaining()];
    System.arraycopy(start.toByteArray(), 0, joined, 0, start.size());
    first.get(joined, start.size(), first.remaining());
    pieces.set(0, ByteBuffer.wrap(joined));
    return pieces.toArray(ByteBuffer[]::new);
  }

  private static boolean lendable(Value a, long minBlockBytes, Thread writer) {
    return a instanceof Value.NdArray nd
        && nd.data().byteSize() >= minBlockBytes
        && nd.data().isNative()
        && (writer == null || nd.data().isAccessibleBy(writer));
  }

  private static int size(long n) {
    int s = 1;
    while ((n >>>= 7) != 0) {
      s++;
    }
    return s;
  }

  private static void varint(ByteArrayOutputStream out, long n) {
    while ((n & ~0x7FL) != 0) {
      out.write((int) ((n & 0x7F) | 0x80));
      n >>>= 7;
    }
    out.write((int) n);
  }

  /** Whether {@code b} is a block lent by a caller (a read-only view of its memory). */
  static boolean isLent(ByteBuffer b) {
    return b.isDirect() && b.isReadOnly();
  }
}
