package io.polycall.worker;

import io.polycall.Status;
import io.polycall.Value;
import java.util.Objects;

/**
 * The outcome of one call inside a batch: a value, or a status that is not OK.
 *
 * @param value the result; null when the call failed
 * @param status {@link Status#OK} when the call succeeded
 */
public record CallResult(Value value, Status status) {
  public CallResult {
    Objects.requireNonNull(status, "status");
    if (status.isOk() == (value == null)) {
      throw new IllegalArgumentException("a result has a value exactly when its status is OK");
    }
  }

  public static CallResult ofValue(Value value) {
    return new CallResult(Objects.requireNonNull(value, "value"), Status.OK);
  }

  public static CallResult ofStatus(Status status) {
    return new CallResult(null, status);
  }

  public boolean isOk() {
    return status.isOk();
  }

  /** The value, or the status thrown as a {@link io.polycall.StatusException}. */
  public Value valueOrThrow() {
    if (!status.isOk()) {
      throw status.asException();
    }
    return value;
  }
}
