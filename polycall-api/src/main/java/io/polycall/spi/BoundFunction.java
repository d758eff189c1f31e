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
 * @param distance how far a call travels to run it; the registry prefers the nearest registration
 *     of a {@code name@version} (in process, then a worker, then a remote node)
 */
public record BoundFunction(
    FunctionInfo info, Invoker invoker, MethodHandle direct, Distance distance) {
  public BoundFunction {
    Objects.requireNonNull(info, "info");
    Objects.requireNonNull(invoker, "invoker");
    Objects.requireNonNull(distance, "distance");
  }

  /** An in-process function (the distance of every bridge that runs code in this JVM). */
  public BoundFunction(FunctionInfo info, Invoker invoker, MethodHandle direct) {
    this(info, invoker, direct, Distance.IN_PROCESS);
  }

  public static BoundFunction of(FunctionInfo info, Invoker invoker) {
    return new BoundFunction(info, invoker, null, Distance.IN_PROCESS);
  }

  public BoundFunction withDistance(Distance newDistance) {
    return new BoundFunction(info, invoker, direct, newDistance);
  }

  public String name() {
    return info.name();
  }
}
