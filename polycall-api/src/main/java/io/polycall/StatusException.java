package io.polycall;

/**
 * The one exception PolyCall throws for a failed call. Unchecked, as gRPC's {@code
 * StatusRuntimeException} is: callers that care catch it and switch on {@code status().code()}.
 */
public final class StatusException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Status status;

  public StatusException(Status status) {
    super(status.toString(), status.cause(), true, false);
    this.status = status;
  }

  public Status status() {
    return status;
  }

  /** The cross-language stack after the message, one frame a line, as users expect to read it. */
  public String describeStack() {
    StringBuilder sb = new StringBuilder(status.toString());
    for (Status.StackFrame f : status.frames()) {
      sb.append("\n    at ").append(f);
    }
    return sb.toString();
  }
}
