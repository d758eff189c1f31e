package io.polycall.spi;

import io.polycall.CallContext;
import io.polycall.Value;

/**
 * Runs one bound function. A bridge makes one invoker per function at registration, doing there all
 * the lookups and adaptation it can, so that {@code invoke} does only the call.
 *
 * <p>The arguments have already been checked and converted to the declared parameter types: an
 * invoker may cast without checking. It may throw anything; the core turns what it throws into a
 * {@link io.polycall.Status} with {@link io.polycall.Status#fromThrowable}.
 */
@FunctionalInterface
public interface Invoker {
  Value invoke(Value[] args, CallContext context) throws Throwable;
}
