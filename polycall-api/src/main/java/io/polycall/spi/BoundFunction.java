package io.polycall.spi;

import io.polycall.FunctionInfo;
import java.lang.invoke.MethodHandle;
import java.util.Objects;

/**
 * A function ready to call: what it is and how to run it.
 *
 * @param direct optional fast path: a method handle taking and returning plain Java types (for
 *     example {@code (double,double)double}) that runs the function with no boxing. Typed proxies
 *     bind to it when no interceptor needs to see the call. May be null.
 */
public record BoundFunction(FunctionInfo info, Invoker invoker, MethodHandle direct) {
  public BoundFunction {
    Objects.requireNonNull(info, "info");
    Objects.requireNonNull(invoker, "invoker");
  }

  public static BoundFunction of(FunctionInfo info, Invoker invoker) {
    return new BoundFunction(info, invoker, null);
  }

  public String name() {
    return info.name();
  }
}
