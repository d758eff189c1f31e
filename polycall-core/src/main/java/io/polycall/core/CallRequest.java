package io.polycall.core;

import io.polycall.Value;
import java.util.List;
import java.util.Objects;

/** One call of a batch: a function name (optionally {@code name@version}) and its arguments. */
public record CallRequest(String name, List<Value> args) {
  public CallRequest {
    Objects.requireNonNull(name, "name");
    args = List.copyOf(args);
  }

  public static CallRequest of(String name, Value... args) {
    return new CallRequest(name, List.of(args));
  }
}
