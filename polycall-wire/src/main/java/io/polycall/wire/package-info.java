/**
 * The PolyCall wire format: protobuf encoding of values, statuses and frames, as specified by
 * {@code spec/polycall.proto} and {@code spec/WIRE.md}.
 *
 * <ul>
 *   <li>{@link io.polycall.wire.ValueCodec}: {@link io.polycall.Value} to and from {@code
 *       polycall.v1.Value}, with every check WIRE.md asks of a receiver.
 *   <li>{@link io.polycall.wire.StatusCodec}: {@link io.polycall.Status} to and from {@code
 *       polycall.v1.Status}, frames included.
 *   <li>{@link io.polycall.wire.FrameReader} and {@link io.polycall.wire.FrameWriter}: frames on a
 *       byte stream, each preceded by its 4-byte big-endian length.
 *   <li>{@link io.polycall.wire.ProtocolException}: a peer broke the framing rules; the connection
 *       cannot go on.
 * </ul>
 *
 * <p>The generated messages live in {@code io.polycall.wire.proto}; they are built from the spec on
 * every build and never edited by hand.
 */
package io.polycall.wire;
