package io.polycall.core;

import io.polycall.CallOptions;
import io.polycall.FunctionInfo;
import io.polycall.Value;
import io.polycall.core.internal.CallEngine;
import io.polycall.spi.BoundFunction;
import java.util.Arrays;
import java.util.List;

/**
 * One function, resolved once. Calls go through the interceptor chain and argument checks like any
 * other, but skip the lookup by name. Thread-safe.
 */
public final class FunctionHandle {
  private final BoundFunction function;
  private final CallEngine engine;

  FunctionHandle(BoundFunction function, CallEngine engine) {
    this.function = function;
    this.engine = engine;
  }

  public FunctionInfo info() {
    return function.info();
  }

  public Value call(Value... args) {
    return engine.call(function, Arrays.asList(args), CallOptions.DEFAULT);
  }

  public Value call(List<Value> args, CallOptions options) {
    return engine.call(function, args, options);
  }
}
