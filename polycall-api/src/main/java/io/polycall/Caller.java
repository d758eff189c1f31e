package io.polycall;

import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Calls functions by name, whatever bridge runs them. Every call passes through the interceptor
 * chain. Implementations are thread-safe; {@code call} blocks until the result or the deadline.
 */
public interface Caller {

  /**
   * Calls {@code name} (or {@code name@version}) and waits for its result.
   *
   * @throws StatusException NOT_FOUND, INVALID_ARGUMENT, DEADLINE_EXCEEDED, or the function's own
   */
  Value call(String name, List<Value> args, CallOptions options);

  /** The same call without blocking; the future fails with a {@link StatusException}. */
  CompletableFuture<Value> callAsync(String name, List<Value> args, CallOptions options);

  /** Calls with plain Java arguments, converted by {@link Value#of}. */
  default Value call(String name, Object... args) {
    Value[] vs = new Value[args.length];
    for (int i = 0; i < args.length; i++) {
      vs[i] = Value.of(args[i]);
    }
    return call(name, java.util.Arrays.asList(vs), CallOptions.DEFAULT);
  }
}
