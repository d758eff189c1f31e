package io.polycall.worker;

import io.polycall.Value;
import java.util.List;
import java.util.Objects;

/** One call of a {@link Connection#batch}: a function name and its arguments. */
public record BatchCall(String function, List<Value> args) {
  public BatchCall {
    Objects.requireNonNull(function, "function");
    args = List.copyOf(args);
  }

  public static BatchCall of(String function, Value... args) {
    return new BatchCall(function, List.of(args));
  }
}
