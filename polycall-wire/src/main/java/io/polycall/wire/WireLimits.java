package io.polycall.wire;

/**
 * The limits that bind both directions of a connection, as a {@code Welcome} announces them.
 *
 * @param maxFrameBytes largest frame body a receiver reads (the length prefix not counted)
 * @param maxDepth deepest nesting of list, map and struct values a receiver accepts
 * @param maxInFlight calls a peer may have outstanding toward the other; 0 means unbounded
 */
public record WireLimits(int maxFrameBytes, int maxDepth, int maxInFlight) {

  /** 64 MiB, WIRE.md's default frame size. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;

  /** WIRE.md's default nesting limit; see {@link ValueCodec} for how depth is counted. */
  public static final int DEFAULT_MAX_DEPTH = 32;

  /** The defaults of WIRE.md: 64 MiB frames, depth 32, no bound on calls in flight. */
  public static final WireLimits DEFAULT =
      new WireLimits(DEFAULT_MAX_FRAME_BYTES, DEFAULT_MAX_DEPTH, 0);

  public WireLimits {
    if (maxFrameBytes <= 0) {
      throw new IllegalArgumentException("maxFrameBytes must be positive, not " + maxFrameBytes);
    }
    if (maxDepth <= 0) {
      throw new IllegalArgumentException("maxDepth must be positive, not " + maxDepth);
    }
    if (maxInFlight < 0) {
      throw new IllegalArgumentException("maxInFlight must not be negative, not " + maxInFlight);
    }
  }

  /** These limits with another frame size. */
  public WireLimits withMaxFrameBytes(int bytes) {
    return new WireLimits(bytes, maxDepth, maxInFlight);
  }

  /** These limits with another nesting depth. */
  public WireLimits withMaxDepth(int depth) {
    return new WireLimits(maxFrameBytes, depth, maxInFlight);
  }

  /** These limits with another bound on calls in flight (0 = unbounded). */
  public WireLimits withMaxInFlight(int calls) {
    return new WireLimits(maxFrameBytes, maxDepth, calls);
  }

  /**
   * The protobuf recursion limit a parser needs to read a frame whose values nest {@link #maxDepth}
   * deep: Frame, Batch, Call and the argument Value are four messages, and each map or struct level
   * adds three (Value, MapValue, MapEntry). One level of slack lets the value codec, not the
   * parser, report a value one level too deep.
   */
  public int protobufRecursionLimit() {
    return 4 + 3 * (maxDepth + 1);
  }

  /** As a {@code Limits} message for a {@code Welcome}. */
  public io.polycall.wire.proto.Limits toProto() {
    return io.polycall.wire.proto.Limits.newBuilder()
        .setMaxFrameBytes(maxFrameBytes)
        .setMaxDepth(maxDepth)
        .setMaxInFlight(maxInFlight)
        .build();
  }

  /** From a {@code Welcome}'s {@code Limits}; zero fields take the defaults. */
  public static WireLimits fromProto(io.polycall.wire.proto.Limits l) {
    // uint32 fields: a value above Integer.MAX_VALUE arrives negative and means "very large".
    int frame = l.getMaxFrameBytes() < 0 ? Integer.MAX_VALUE : l.getMaxFrameBytes();
    int depth = l.getMaxDepth() < 0 ? Integer.MAX_VALUE / 4 : l.getMaxDepth();
    int inFlight = l.getMaxInFlight() < 0 ? Integer.MAX_VALUE : l.getMaxInFlight();
    return new WireLimits(
        frame == 0 ? DEFAULT_MAX_FRAME_BYTES : frame,
        depth == 0 ? DEFAULT_MAX_DEPTH : depth,
        inFlight);
  }
}
