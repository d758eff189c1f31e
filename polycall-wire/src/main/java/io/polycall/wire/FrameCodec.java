package io.polycall.wire;

import com.google.protobuf.CodedOutputStream;
import io.polycall.wire.proto.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Whole frames to and from bytes, length prefix included: the forms {@code spec/vectors} and tests
 * use. Streams use {@link FrameReader} and {@link FrameWriter}.
 *
 * <pre>
 *  0               4                                   4 + length
 *  +---------------+-----------------------------------+
 *  | length (u32,  |  Frame (protobuf, `length` bytes) |
 *  |  big-endian)  |                                   |
 *  +---------------+-----------------------------------+
 * </pre>
 *
 * <p>Stateless and thread-safe.
 */
public final class FrameCodec {
  /** Bytes of the length prefix. */
  public static final int PREFIX_BYTES = 4;

  private FrameCodec() {}

  /** The length prefix and bytes of {@code frame}, with WIRE.md's default size limit. */
  public static byte[] encode(Frame frame) {
    return encode(frame, WireLimits.DEFAULT_MAX_FRAME_BYTES);
  }

  /**
   * The length prefix and bytes of {@code frame}.
   *
   * @throws io.polycall.StatusException RESOURCE_EXHAUSTED when the frame is above {@code
   *     maxFrameBytes}
   */
  public static byte[] encode(Frame frame, int maxFrameBytes) {
    int size = frame.getSerializedSize();
    if (size > maxFrameBytes) {
      throw FrameWriter.tooLarge(size, maxFrameBytes);
    }
    byte[] out = new byte[PREFIX_BYTES + size];
    ByteBuffer.wrap(out).putInt(size);
    FrameWriter.writeTo(frame, out, PREFIX_BYTES, size);
    return out;
  }

  /**
   * The length prefix and bytes of {@code frame}, written into a buffer that {@code buffers} gives
   * for the byte count needed (from its position; returned flipped). Into a direct buffer, an
   * ndarray that aliases native memory is copied once, and a channel then writes the buffer without
   * copying it again (a heap array is copied into a temporary direct buffer at every write, all of
   * what remains of it each time).
   *
   * @throws io.polycall.StatusException RESOURCE_EXHAUSTED when the frame is above {@code
   *     maxFrameBytes}
   */
  public static ByteBuffer encode(Frame frame, int maxFrameBytes, IntFunction<ByteBuffer> buffers) {
    int size = frame.getSerializedSize();
    if (size > maxFrameBytes) {
      throw FrameWriter.tooLarge(size, maxFrameBytes);
    }
    ByteBuffer out = buffers.apply(PREFIX_BYTES + size);
    int start = out.position();
    out.putInt(size);
    CodedOutputStream cos = CodedOutputStream.newInstance(out);
    try {
      frame.writeTo(cos);
      cos.flush();
    } catch (IOException e) {
      throw new IllegalStateException("protobuf wrote past its own size", e);
    }
    if (out.position() != start + PREFIX_BYTES + size) {
      throw new IllegalStateException(
          "protobuf wrote " + (out.position() - start - PREFIX_BYTES) + " bytes, not " + size);
    }
    return out.flip().position(start);
  }

  /**
   * Every frame in {@code stream}, which must end at a frame boundary.
   *
   * @throws ProtocolException the bytes break the framing rules
   */
  public static List<Frame> decode(byte[] stream, WireLimits limits) throws ProtocolException {
    List<Frame> out = new ArrayList<>();
    FrameReader r = FrameReader.of(limits);
    r.feed(ByteBuffer.wrap(stream), out::add);
    r.finish();
    return out;
  }
}
