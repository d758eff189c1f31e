package io.polycall.wire;

import com.google.protobuf.CodedOutputStream;
import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.wire.proto.Frame;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Writes {@link Frame}s to a byte stream, each preceded by its 4-byte big-endian length (see {@link
 * FrameReader} for the layout).
 *
 * <p>Thread-safe: writes are serialized by a lock, so frames from many threads never interleave.
 * {@link #write} blocks until the frame is in the channel (for a blocking channel) or the channel
 * has taken all of it; a slow reader on the other side therefore holds up writers, which is the
 * stream's back pressure. The lock is a {@link ReentrantLock}, so a virtual thread waiting on it
 * does not pin its carrier.
 *
 * <p>A {@link java.nio.channels.SocketChannel} is interruptible: interrupting a thread while it
 * writes closes the channel for everyone. Code whose writers may be interrupted (call handlers
 * being cancelled) should write from one dedicated thread instead, as {@code Connection} in
 * polycall-worker does.
 */
public final class FrameWriter {
  private final WritableByteChannel channel;
  private final ReentrantLock lock = new ReentrantLock();
  private volatile int maxFrameBytes;

  private FrameWriter(WritableByteChannel channel, int maxFrameBytes) {
    this.channel = channel;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** A writer on {@code channel} that refuses frames above {@code limits.maxFrameBytes()}. */
  public static FrameWriter of(WritableByteChannel channel, WireLimits limits) {
    return new FrameWriter(channel, limits.maxFrameBytes());
  }

  /** Changes the size limit, as when a {@code Welcome} announces the peer's limits. */
  public void setMaxFrameBytes(int bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("maxFrameBytes must be positive, not " + bytes);
    }
    this.maxFrameBytes = bytes;
  }

  /**
   * Writes one frame.
   *
   * @throws StatusException RESOURCE_EXHAUSTED when the frame is larger than the peer accepts;
   *     nothing is written, and the stream stays usable
   * @throws IOException the channel failed; the stream may hold part of the frame and must be
   *     closed
   */
  public void write(Frame frame) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(FrameCodec.encode(frame, maxFrameBytes));
    lock.lock();
    try {
      while (buf.hasRemaining()) {
        channel.write(buf);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Writes several frames back to back, with no frame of another thread between them.
   *
   * @throws StatusException RESOURCE_EXHAUSTED when one is too large; nothing is written then
   */
  public void writeAll(List<Frame> frames) throws IOException {
    ByteBuffer[] bufs = new ByteBuffer[frames.size()];
    for (int i = 0; i < bufs.length; i++) {
      bufs[i] = ByteBuffer.wrap(FrameCodec.encode(frames.get(i), maxFrameBytes));
    }
    lock.lock();
    try {
      for (ByteBuffer buf : bufs) {
        while (buf.hasRemaining()) {
          channel.write(buf);
        }
      }
    } finally {
      lock.unlock();
    }
  }

  static StatusException tooLarge(int size, int max) {
    return Status.RESOURCE_EXHAUSTED
        .withDescription("frame of " + size + " bytes is above the limit of " + max + " bytes")
        .asException();
  }

  static void writeTo(Frame frame, byte[] out, int offset, int size) {
    CodedOutputStream cos = CodedOutputStream.newInstance(out, offset, size);
    try {
      frame.writeTo(cos);
      cos.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("protobuf wrote past its own size", e);
    }
  }
}
