package io.polycall.wire;

import io.polycall.Status;
import java.io.IOException;

/**
 * A peer broke the rules of the byte stream: a bad length prefix, bytes that are not a {@code
 * Frame}, a {@code Frame} with no body, a stream that ends inside a frame, or a frame out of place
 * in the handshake. The connection cannot go on: WIRE.md says to send {@code GoAway} with {@link
 * #status()} (INVALID_ARGUMENT unless said otherwise), fail the calls in flight with UNAVAILABLE,
 * and close.
 *
 * <p>Distinct from {@link io.polycall.StatusException} because a caller handles it differently: a
 * bad value fails one call, a protocol error ends the connection.
 */
public final class ProtocolException extends IOException {
  private static final long serialVersionUID = 1L;

  private final transient Status status;

  public ProtocolException(Status status) {
    super(status.toString());
    this.status = status;
  }

  /** An INVALID_ARGUMENT protocol error with this message. */
  public static ProtocolException invalid(String message) {
    return new ProtocolException(Status.INVALID_ARGUMENT.withDescription(message));
  }

  /** What to put in the {@code GoAway}. */
  public Status status() {
    return status;
  }
}
