package io.polycall.spi;

import io.polycall.CallContext;
import io.polycall.Status;
import io.polycall.Value;
import java.util.List;
import java.util.Objects;

/**
 * An {@link Invoker} that can also run many calls of its function at once, as a bridge whose calls
 * cross a process boundary does with one {@code Batch} frame instead of one frame and one round
 * trip per call.
 *
 * <p>The core uses {@link #invokeAll} for consecutive calls of the same function in {@code
 * PolyCall.batch} when no interceptor is installed (with interceptors every call goes through the
 * chain on its own, so that each one is still checked). As for {@link #invoke}, every call's
 * arguments have already been checked and converted to the declared parameter types.
 *
 * <p>Implementations are thread-safe; {@code invokeAll} blocks until every call has an outcome.
 */
public interface BatchInvoker extends Invoker {
  /**
   * Runs every call and returns one outcome per call, in the order of {@code calls}. One failed
   * call fails only its own outcome. Throwing fails every call of the batch with the status of what
   * was thrown ({@link Status#fromThrowable}).
   *
   * @param calls the arguments of each call; the arrays are not modified
   * @param context the context shared by the calls (options, cancellation)
   */
  List<Outcome> invokeAll(List<Value[]> calls, CallContext context) throws Throwable;

  /**
   * The outcome of one call of a batch: a value exactly when the status is OK.
   *
   * @param value the result; null when the call failed
   * @param status {@link Status#OK} when the call succeeded
   */
  record Outcome(Value value, Status status) {
    public Outcome {
      Objects.requireNonNull(status, "status");
      if (status.isOk() == (value == null)) {
        throw new IllegalArgumentException("an outcome has a value exactly when its status is OK");
      }
    }

    public static Outcome ofValue(Value value) {
      return new Outcome(Objects.requireNonNull(value, "value"), Status.OK);
    }

    public static Outcome ofStatus(Status status) {
      return new Outcome(null, status);
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
}
