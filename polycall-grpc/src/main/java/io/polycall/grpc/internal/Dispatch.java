package io.polycall.grpc.internal;

import io.polycall.CallOptions;
import io.polycall.Caller;
import io.polycall.Registry;
import io.polycall.Value;
import io.polycall.spi.BoundFunction;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where a gRPC call runs. By default on a virtual thread of the call engine ({@link
 * Caller#callAsync}), so that a function that blocks (a worker round trip, I/O, a lock) never holds
 * up the transport's event loop. A function tagged {@value #TAG_NONBLOCKING} runs on the transport
 * thread that read the request, as grpc-java's direct executor does, which saves the two thread
 * hand-offs of the default path (the engine's thread, then back to the event loop to write the
 * answer). That is for functions that return in microseconds and never block, with interceptors
 * that never block either. A call with a deadline always takes the default path: the engine
 * enforces deadlines on a thread of its own.
 */
public final class Dispatch {
  /** The tag that lets a function run on the transport thread. */
  public static final String TAG_NONBLOCKING = "nonblocking";

  private Dispatch() {}

  public static CompletableFuture<Value> call(
      Registry registry, Caller caller, String name, List<Value> args, CallOptions options) {
    if (!options.hasDeadline()) {
      BoundFunction f = registry.lookup(name).orElse(null);
      if (f != null && f.info().hasTag(TAG_NONBLOCKING)) {
        try {
          return CompletableFuture.completedFuture(caller.call(name, args, options));
        } catch (Throwable t) {
          return CompletableFuture.failedFuture(t);
        }
      }
    }
    return caller.callAsync(name, args, options);
  }
}
