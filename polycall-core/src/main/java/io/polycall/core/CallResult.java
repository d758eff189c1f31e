package io.polycall.core;

import io.polycall.Status;
import io.polycall.StatusException;
import io.polycall.Value;
import java.util.Objects;

/**
 * The outcome of one call of a batch: a value when {@link #status} is OK, otherwise a null value
 * and the failure. One failed call never fails the batch.
 */
public record CallResult(Value value, Status status) {
  public CallResult {
    Objects.requireNonNull(status, "status");
  }

  public static CallResult ok(Value value) {
    return new CallResult(value, Status.OK);
  }

  public static CallResult failed(Status status) {
    return new CallResult(null, status);
  }

  public boolean isOk() {
    return status.isOk();
  }

  /** The value, or the failure thrown as a {@link StatusException}. */
  public Value valueOrThrow() {
    if (!status.isOk()) {
      throw status.asException();
    }
    return value;
  }
}
