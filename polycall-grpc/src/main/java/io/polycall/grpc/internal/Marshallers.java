package io.polycall.grpc.internal;

import io.grpc.MethodDescriptor.Marshaller;
import io.grpc.StatusRuntimeException;
import io.polycall.Status;
import java.io.InputStream;

/** Marshaller adapters. */
public final class Marshallers {
  private Marshallers() {}

  /**
   * A request that did not parse. The server's handlers answer it with INVALID_ARGUMENT: gRPC
   * itself would fail such a call with UNKNOWN ("application error"), but bytes that are not the
   * declared message are the client's fault.
   */
  public record ParseFailure(Status status) {}

  /**
   * {@code m} for a server's requests: a message that does not parse becomes a {@link ParseFailure}
   * for the handler to answer, instead of an exception thrown inside gRPC.
   */
  public static <T> Marshaller<Object> parseFailureAsValue(Marshaller<T> m, String messageName) {
    return new Marshaller<>() {
      @Override
      @SuppressWarnings("unchecked")
      public InputStream stream(Object value) {
        return m.stream((T) value);
      }

      @Override
      public Object parse(InputStream stream) {
        try {
          return m.parse(stream);
        } catch (StatusRuntimeException | IllegalArgumentException e) {
          Throwable cause = e.getCause() == null ? e : e.getCause();
          return new ParseFailure(
              Status.INVALID_ARGUMENT.withDescription(
                  "the request is not a valid " + messageName + ": " + cause.getMessage()));
        }
      }
    };
  }
}
