package io.polycall.wire;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.UnsafeByteOperations;
import io.polycall.wire.proto.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Cuts a byte stream into {@link Frame}s. Each frame on the stream is its length, then its bytes:
 *
 * <pre>
 *  0               4                                   4 + length
 *  +---------------+-----------------------------------+
 *  | length (u32,  |  Frame (protobuf, `length` bytes) |
 *  |  big-endian)  |                                   |
 *  +---------------+-----------------------------------+
 * </pre>
 *
 * <p>Bytes may arrive in any pieces: one byte at a time, or many frames in one read. Either push
 * them in with {@link #feed} (the reader keeps what it has of an incomplete frame) or let the
 * reader pull from a channel with {@link #read}.
 *
 * <p>Refusals, each a {@link ProtocolException} with status INVALID_ARGUMENT whose message says
 * what was wrong: a length of 0; a length above {@link WireLimits#maxFrameBytes()} (refused as soon
 * as the prefix is read, before any of the body); bytes that do not parse as a {@code Frame}; a
 * {@code Frame} with no body set (which includes a body kind this version does not know); a stream
 * that ends inside a frame ({@link #finish}). After a refusal the reader is spent: the stream has
 * lost its framing and every later call throws the same exception.
 *
 * <p>Not thread-safe: one reader per stream, used by one thread (a connection's reader thread).
 * {@link #feed} never blocks; {@link #read} blocks as the channel does.
 */
public final class FrameReader {
  private static final int PREFIX_BYTES = 4;
  private static final int READ_BUFFER_BYTES = 64 * 1024;
  // The largest body buffer kept for the next big frame: a node may read many connections, and
  // direct memory is scarcer than heap (bigger frames get a buffer each).
  private static final int SPARE_BODY_MAX_BYTES = 16 << 20;

  private WireLimits limits;
  private int recursionLimit;
  private final ByteBuffer prefix = ByteBuffer.allocate(PREFIX_BYTES);
  private ByteBuffer body; // null while reading the prefix; filled up to its position
  private long framesRead;
  private ProtocolException failure;

  // Only for read(channel).
  private ByteBuffer readBuffer;
  private final ArrayDeque<Frame> ready = new ArrayDeque<>();
  private boolean fromChannel; // read(channel) is in use: big bodies go into direct buffers
  // A big body is read into a direct buffer (the channel fills it without a copy through a
  // temporary one) and the frame's bytes fields alias it. The buffer is reused for the next big
  // body once the frame made from it is released; until then that frame keeps it.
  private ByteBuffer spareBody;
  private Frame lentFrame;
  private ByteBuffer lentBody;

  private FrameReader(WireLimits limits) {
    this.limits = limits;
    this.recursionLimit = limits.protobufRecursionLimit();
  }

  /** A reader that enforces {@code limits}' frame size and parses values as deep as its depth. */
  public static FrameReader of(WireLimits limits) {
    return new FrameReader(limits);
  }

  /** A reader with WIRE.md's default limits. */
  public static FrameReader of() {
    return new FrameReader(WireLimits.DEFAULT);
  }

  /** The limits this reader enforces. */
  public WireLimits limits() {
    return limits;
  }

  /**
   * Enforces {@code limits} from now on, as when a {@code Welcome} announces them: they apply to
   * every frame whose length prefix has not been read yet. Frames already read stay as they are.
   */
  public void setLimits(WireLimits limits) {
    this.limits = java.util.Objects.requireNonNull(limits, "limits");
    this.recursionLimit = limits.protobufRecursionLimit();
  }

  /**
   * Consumes every byte remaining in {@code src} and hands each complete frame to {@code sink}, in
   * order. A frame still incomplete at the end of {@code src} is kept for the next call.
   *
   * @throws ProtocolException the stream broke the framing rules; frames before the bad one have
   *     been handed to {@code sink}
   */
  public void feed(ByteBuffer src, Consumer<? super Frame> sink) throws ProtocolException {
    if (failure != null) {
      throw failure;
    }
    try {
      while (src.hasRemaining()) {
        if (body == null) {
          while (prefix.hasRemaining() && src.hasRemaining()) {
            prefix.put(src.get());
          }
          if (prefix.hasRemaining()) {
            return;
          }
          int length = prefix.getInt(0);
          prefix.clear();
          checkLength(length);
          if (src.remaining() >= length) {
            // The whole body is here: parse it in place, no copy.
            ByteBuffer slice = src.slice(src.position(), length);
            src.position(src.position() + length);
            sink.accept(parse(CodedInputStream.newInstance(slice), length));
            continue;
          }
          body = newBody(length);
        }
        int n = Math.min(src.remaining(), body.remaining());
        body.put(src.slice(src.position(), n));
        src.position(src.position() + n);
        if (!body.hasRemaining()) {
          sink.accept(takeBody());
        }
      }
    } catch (ProtocolException e) {
      failure = e;
      throw e;
    }
  }

  /**
   * Says that the stream has ended.
   *
   * @throws ProtocolException the stream ended inside a frame (a truncated frame)
   */
  public void finish() throws ProtocolException {
    if (failure != null) {
      throw failure;
    }
    if (body != null || prefix.position() > 0) {
      String what =
          body != null
              ? "stream ended inside a frame: "
                  + body.position()
                  + " of its "
                  + body.limit()
                  + " body bytes arrived"
              : "stream ended inside a length prefix: " + prefix.position() + " of 4 bytes arrived";
      failure = ProtocolException.invalid(what);
      throw failure;
    }
  }

  /**
   * The next frame from {@code channel}, reading as much as it needs (and perhaps more, kept for
   * the next call); null when the stream ends cleanly between frames.
   *
   * @throws ProtocolException the stream broke the framing rules, or ended inside a frame
   * @throws IOException reading the channel failed
   */
  public Frame read(ReadableByteChannel channel) throws IOException {
    fromChannel = true;
    while (ready.isEmpty()) {
      if (failure == null && body != null && body.remaining() > READ_BUFFER_BYTES) {
        // The rest of a big frame goes straight into its body: no pass through readBuffer.
        int n = channel.read(body);
        if (n < 0) {
          finish();
          return null;
        }
        if (!body.hasRemaining()) {
          try {
            ready.add(takeBody());
          } catch (ProtocolException e) {
            failure = e;
            throw e;
          }
        }
        continue;
      }
      if (readBuffer == null) {
        readBuffer = ByteBuffer.allocate(READ_BUFFER_BYTES);
      }
      readBuffer.clear();
      int n = channel.read(readBuffer);
      if (n < 0) {
        finish();
        return null;
      }
      readBuffer.flip();
      feed(readBuffer, ready::add);
    }
    return ready.poll();
  }

  /**
   * Says that {@code frame}, handed out by {@link #read}, is done with: nothing holds on to its
   * {@code bytes} fields any longer (they were decoded, which copies them). Its buffer, if it had
   * one of its own, then takes the next big frame. A frame never released keeps its buffer.
   */
  public void release(Frame frame) {
    if (frame != null && frame == lentFrame) {
      spareBody = lentBody.capacity() <= SPARE_BODY_MAX_BYTES ? lentBody : null;
      lentFrame = null;
      lentBody = null;
    }
  }

  private ByteBuffer newBody(int length) {
    if (!fromChannel || length <= READ_BUFFER_BYTES) {
      return ByteBuffer.allocate(length);
    }
    ByteBuffer b = spareBody;
    spareBody = null;
    if (b == null || b.capacity() < length) {
      // Rounded up to a MiB, so that the next frame of about the same size fits too.
      b =
          ByteBuffer.allocateDirect(
              (int) Math.min(Integer.MAX_VALUE, (length + (1L << 20) - 1) >>> 20 << 20));
    }
    return b.clear().limit(length);
  }

  /**
   * Parses the completed body. The buffer belongs to this frame alone (until {@link #release}), so
   * its {@code bytes} fields (an ndarray's megabytes) may alias it instead of being copied out.
   */
  private Frame takeBody() throws ProtocolException {
    ByteBuffer b = body.flip();
    body = null;
    // A stream over bytes it may treat as immutable: only then does aliasing take effect (a
    // plain newInstance(byte[]) copies every bytes field, 8 MB for an 8 MB ndarray).
    CodedInputStream in =
        (b.hasArray()
                ? UnsafeByteOperations.unsafeWrap(b.array(), b.arrayOffset(), b.limit())
                : UnsafeByteOperations.unsafeWrap(b))
            .newCodedInput();
    in.enableAliasing(true);
    Frame f = parse(in, b.limit());
    if (b.isDirect()) {
      lentFrame = f;
      lentBody = b;
    }
    return f;
  }

  /** Whether part of a frame has arrived and the rest has not. */
  public boolean hasPartialFrame() {
    return body != null || prefix.position() > 0;
  }

  /** Whether frames already read from the channel wait to be handed out by {@link #read}. */
  public boolean hasReadyFrames() {
    return !ready.isEmpty();
  }

  /** Frames handed out so far. */
  public long framesRead() {
    return framesRead;
  }

  private void checkLength(int length) throws ProtocolException {
    if (length == 0) {
      throw ProtocolException.invalid("frame length 0: a frame has at least one byte");
    }
    if (length < 0 || length > limits.maxFrameBytes()) {
      throw ProtocolException.invalid(
          "frame length "
              + Integer.toUnsignedString(length)
              + " is above the limit of "
              + limits.maxFrameBytes()
              + " bytes");
    }
  }

  private Frame parse(CodedInputStream in, int length) throws ProtocolException {
    in.setRecursionLimit(recursionLimit);
    in.setSizeLimit(Math.max(length, 64));
    Frame f;
    try {
      f = Frame.parseFrom(in);
      in.checkLastTagWas(0);
    } catch (java.io.IOException e) {
      throw ProtocolException.invalid(
          "frame of " + length + " bytes is not a valid polycall.v1.Frame: " + e.getMessage());
    }
    if (f.getBodyCase() == Frame.BodyCase.BODY_NOT_SET) {
      throw ProtocolException.invalid(
          f.getUnknownFields().asMap().isEmpty()
              ? "a Frame with no body set"
              : "a Frame whose body this version does not know (field "
                  + f.getUnknownFields().asMap().keySet()
                  + ")");
    }
    framesRead++;
    return f;
  }
}
